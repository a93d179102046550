import type { RecipientScope } from '../platform/types.ts';
import pg from 'pg';
import { connectTimeout, explainConnectionError, inTransaction, pgConfig, pgOptions, schemaSessions, type SharedPools } from '../db.ts';
import { migrate } from './migrate.ts';
import * as Q from './queries.ts';

// timestamptz comes back as a JS Date; bigint ids as strings unless told otherwise.
pg.types.setTypeParser(20, (v) => Number(v));

export type RunOrigin = 'schedule' | 'catch-up' | 'manual' | 'reply';
export type RunStatus = 'due' | 'fanned-out' | 'done' | 'missed' | 'failed' | 'paused' | 'held';
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped' | 'bounced' | 'unknown';

const NO_DELIVERIES = (): Record<DeliveryStatus, number> => ({ pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0, bounced: 0, unknown: 0 });

export interface RunRow {
  id: number;
  schedule_id: string;
  /** Unique per schedule: the occurrence in UTC, or a job kind's key such as "invite:<uid>:1". */
  run_key: string;
  variant: string;
  meta: Record<string, unknown>;
  occurrence: Date;
  job: string;
  timezone: string;
  origin: RunOrigin;
  status: RunStatus;
  period_start: Date | null;
  period_end: Date | null;
  data: unknown;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: number;
  run_id: number;
  email: string;
  name: string;
  locale: string;
  status: DeliveryStatus;
  reason: string | null;
  attempts: number;
  message_id: string | null;
  last_error: string | null;
  user_id: string | null;
  scope: RecipientScope;
  variant: string;
  created_at: Date;
  sent_at: Date | null;
  /** The SMTP server's reply to the last failed try. */
  smtp_reply: string | null;
}

/** What a send reads of the delivery it claimed. */
export type ClaimedDelivery = Pick<DeliveryRow, 'id' | 'run_id' | 'email' | 'name' | 'locale' | 'user_id' | 'scope' | 'variant' | 'attempts'>;

/** A delivery to put on the queue: its id, and its run (so a send reads the run without asking the ledger). */
export interface QueuedDelivery {
  id: number;
  runId: number;
}

/** Rows written, or ids read, per statement: a 100,000-recipient run never travels in one. */
export const PAGE = 2000;

/** A recipient as the fan-out writes it: to send, or skipped with a reason. */
export interface DeliveryInput {
  email: string;
  name: string;
  locale: string;
  status: 'pending' | 'skipped';
  reason?: string;
  userId?: string;
  scope?: RecipientScope;
  variant?: string;
}

/** What stops e-mail to an address: all of it (a hard bounce), one schedule, or a job kind's schedules. */
export type SuppressionScope = 'all' | 'schedule' | 'job';
export type SuppressionReason = 'unsubscribed' | 'hard-bounce' | 'bounced';

export interface Suppression {
  email: string;
  scope: SuppressionScope;
  /** The schedule id or job kind; '' for all. */
  target: string;
  reason: SuppressionReason;
  detail: string | null;
  delivery_id: number | null;
  created_at: Date;
}

/** A run as the tick or `crier run` records it. */
export interface RunInput {
  scheduleId: string;
  key: string;
  occurrence: Date;
  job: string;
  timezone: string;
  origin: RunOrigin;
  status: 'due' | 'missed';
  variant?: string;
  meta?: Record<string, unknown>;
}

/** INSERT_RUN's parameters, in its order (for a run inserted inside another statement's transaction). */
export const runValues = (r: RunInput) => [r.scheduleId, r.key, r.occurrence, r.job, r.timezone, r.origin, r.status, r.variant ?? 'default', JSON.stringify(r.meta ?? {})];

/**
 * Crier's own tables: runs, deliveries and how far each schedule has been checked. The three
 * statements of every send (claim, hand-over, sent) are named, so each connection prepares them
 * once: Postgres then skips parsing and planning them per e-mail.
 */
export class Ledger {
  constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    private readonly database = '',
  ) {}

  /** The ledger in `schema` of `database`: its own pool, or sessions of the tenants' shared pools. */
  static connect(database: string, schema: string, shared?: SharedPools, timeout?: number): Ledger {
    if (shared) return new Ledger(schemaSessions(shared.get('ledger', database, ''), pg.escapeIdentifier(schema)), schema, database);
    const pool = new pg.Pool(pgConfig(database, { max: 6, application_name: 'crier-ledger', options: pgOptions({ search_path: pg.escapeIdentifier(schema) }), ...connectTimeout(timeout) }));
    pool.on('error', () => {
      /* idle clients dropped by the server are replaced on the next query */
    });
    return new Ledger(pool, schema, database);
  }

  async migrate(): Promise<string[]> {
    const client = await this.pool.connect().catch((e) => {
      throw explainConnectionError(e, "Crier's database", this.database, 'crier.database');
    });
    try {
      return await migrate(client, this.schema);
    } finally {
      client.release();
    }
  }

  async insertRun(r: RunInput): Promise<RunRow & { created: boolean }> {
    const inserted = await this.pool.query(Q.INSERT_RUN, runValues(r));
    if (inserted.rows[0]) return { ...inserted.rows[0], created: true };
    return { ...(await this.runByKey(r.scheduleId, r.key))!, created: false };
  }

  async run(id: number): Promise<RunRow | undefined> {
    return (await this.pool.query(Q.RUN_BY_ID, [id])).rows[0];
  }

  async runByKey(scheduleId: string, key: string): Promise<RunRow | undefined> {
    return (await this.pool.query(Q.RUN_BY_KEY, [scheduleId, key])).rows[0];
  }

  /** The run of a plain occurrence (its key is the instant in UTC: occurrenceKey()). */
  async runAt(scheduleId: string, occurrence: Date): Promise<RunRow | undefined> {
    return this.runByKey(scheduleId, occurrence.toISOString());
  }

  async hasDueRun(scheduleId: string, keyPrefix: string): Promise<boolean> {
    return (await this.pool.query(Q.DUE_RUN_WITH_KEY_PREFIX, [scheduleId, keyPrefix])).rows[0].due;
  }

  async hasSentRun(scheduleId: string, keyPrefix: string): Promise<boolean> {
    return (await this.pool.query(Q.SENT_RUN_WITH_KEY_PREFIX, [scheduleId, keyPrefix])).rows[0].sent;
  }

  async dueRunIds(): Promise<number[]> {
    return (await this.pool.query(Q.DUE_RUNS)).rows.map((r) => r.id);
  }

  /** Stores the snapshot unless one is there; returns the run as it now is. */
  async snapshot(id: number, data: unknown, periodStart: Date, periodEnd: Date): Promise<RunRow> {
    await this.pool.query(Q.SET_RUN_SNAPSHOT, [id, JSON.stringify(data), periodStart, periodEnd]);
    return (await this.run(id))!;
  }

  /**
   * A due run held (its review decided not to send it) and the run of the notice that says so,
   * in one transaction: no held send without its notice, and a hold repeated (two fan-outs of
   * the run at once) records one. The notice's run id when this call held it.
   */
  holdRun(id: number, why: string, notice: RunInput): Promise<number | undefined> {
    return inTransaction(this.pool, async (client) => {
      const held = ((await client.query(Q.SET_RUN_STATUS, [id, 'held', why, ['due']])).rowCount ?? 0) > 0;
      return held ? (await client.query(Q.INSERT_RUN, runValues(notice))).rows[0]?.id : undefined;
    });
  }

  async setRunStatus(id: number, status: RunStatus, from: RunStatus[], error: string | null = null): Promise<boolean> {
    return ((await this.pool.query(Q.SET_RUN_STATUS, [id, status, error, from])).rowCount ?? 0) > 0;
  }

  async completeRunIfSettled(id: number): Promise<boolean> {
    return ((await this.pool.query(Q.COMPLETE_RUN_IF_SETTLED, [id])).rowCount ?? 0) > 0;
  }

  /** In pages; safe to repeat (an existing (run, e-mail) is kept), so a fan-out cut short resumes. */
  async insertDeliveries(runId: number, all: DeliveryInput[]): Promise<void> {
    for (let at = 0; at < all.length; at += PAGE) await this.insertPage(runId, all.slice(at, at + PAGE));
  }

  /**
   * A fan-out's delivery rows, page after page as `pages` yields them, and the run then
   * `fanned-out`, in one transaction: a fan-out refused or cut short half-way (a bad row on page
   * 40, a crash) leaves no row, so nothing of an audience that was never wholly read is sent, and
   * the next attempt starts from nothing. `withRows` writes what belongs with them (a review
   * round's record) in the same transaction. False when the run was no longer due (another
   * fan-out of it finished first; its rows are kept, these add nothing).
   */
  fanOut(runId: number, pages: AsyncIterable<DeliveryInput[]>, withRows?: (db: pg.PoolClient) => Promise<void>): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      for await (const page of pages) for (let at = 0; at < page.length; at += PAGE) await this.insertPage(runId, page.slice(at, at + PAGE), client);
      const fanned = ((await client.query(Q.SET_RUN_STATUS, [runId, 'fanned-out', null, ['due']])).rowCount ?? 0) > 0;
      if (fanned && withRows) await withRows(client);
      return fanned;
    });
  }

  private async insertPage(runId: number, list: DeliveryInput[], db: Pick<pg.Pool, 'query'> = this.pool): Promise<void> {
    await db.query(Q.INSERT_DELIVERIES, [
      runId,
      list.map((d) => d.email.toLowerCase()),
      list.map((d) => d.name),
      list.map((d) => d.locale),
      list.map((d) => d.status),
      list.map((d) => d.reason ?? null),
      list.map((d) => d.userId ?? null),
      list.map((d) => JSON.stringify(d.scope ?? {})),
      list.map((d) => d.variant ?? 'default'),
    ]);
  }

  async deliveries(runId: number): Promise<DeliveryRow[]> {
    return (await this.pool.query(Q.DELIVERIES_OF_RUN, [runId])).rows;
  }

  /** Every pending delivery of every fanned-out run that is due (what the tick re-queues), a page at a time. */
  pendingDeliveries(): AsyncGenerator<QueuedDelivery[]> {
    return this.deliveryPages((after) => [Q.PENDING_DELIVERIES, [after, PAGE]]);
  }

  /** The pending deliveries of one run, a page at a time, in id order. */
  pendingOfRun(runId: number): AsyncGenerator<QueuedDelivery[]> {
    return this.deliveryPages((after) => [Q.PENDING_OF_RUN, [runId, after, PAGE]]);
  }

  /** Rows `{ id, run_id }` in id order, PAGE at a time: `page(after)` is the query for the ids after `after`. */
  private async *deliveryPages(page: (after: number) => [string, unknown[]]): AsyncGenerator<QueuedDelivery[]> {
    for (let after = 0; ; ) {
      const rows: { id: number; run_id: number }[] = (await this.pool.query(...page(after))).rows;
      if (!rows.length) return;
      yield rows.map((r) => ({ id: r.id, runId: r.run_id }));
      after = rows[rows.length - 1].id;
    }
  }

  /** A delivery's run and status, read without claiming it. */
  async deliveryRunId(id: number): Promise<{ runId: number; status: DeliveryStatus } | undefined> {
    const row = (await this.pool.query(Q.DELIVERY_RUN, [id])).rows[0];
    return row ? { runId: row.run_id, status: row.status } : undefined;
  }

  /** How many deliveries of a run are still being worked (not settled, not awaiting a person). */
  async inFlight(runId: number): Promise<number> {
    return (await this.pool.query(Q.IN_FLIGHT, [runId])).rows[0].n;
  }

  async markUnknown(id: number, error: string, workerId: string): Promise<void> {
    await this.pool.query(Q.MARK_UNKNOWN, [id, error, workerId]);
  }

  /** Just before the final dot; false when the claim is no longer this worker's (its lease ran out). */
  async markHanded(id: number, workerId: string): Promise<boolean> {
    return ((await this.pool.query({ name: 'mark-handed', text: Q.MARK_HANDED, values: [id, workerId] })).rowCount ?? 0) > 0;
  }

  async registerWorker(id: string, host: string, pid: number): Promise<void> {
    await this.pool.query(Q.REGISTER_WORKER, [id, host, pid]);
  }

  /** Renews the worker's heartbeat and the leases of what it holds. */
  async heartbeat(workerId: string, leaseSeconds: number): Promise<void> {
    await this.pool.query(Q.HEARTBEAT, [workerId, leaseSeconds]);
  }

  async stopWorker(workerId: string): Promise<void> {
    await this.pool.query(Q.STOP_WORKER, [workerId]);
  }

  /**
   * Lets go of the deliveries of dead workers (lease run out) and of `workerId` (stopping):
   * back to pending when never handed over, unknown when handed over. Returns what changed.
   */
  async releaseDeliveries(workerId: string | null): Promise<{ id: number; run_id: number; status: 'pending' | 'unknown' }[]> {
    return (await this.pool.query(Q.RELEASE_DELIVERIES, [workerId])).rows.map((r) => ({ ...r, id: Number(r.id), run_id: Number(r.run_id) }));
  }

  /** Unknown deliveries of a run go back to pending, on a person's decision; the run is open again. */
  async retryUnknown(runId: number): Promise<number[]> {
    return (await this.pool.query(Q.RETRY_UNKNOWN, [runId])).rows.map((r) => Number(r.id));
  }

  async completeSettledRuns(): Promise<number> {
    return (await this.pool.query(Q.COMPLETE_SETTLED_RUNS)).rowCount ?? 0;
  }

  /** Claims a pending delivery for `workerId`, under a lease of `leaseSeconds` it renews while alive. */
  async claimDelivery(id: number, workerId: string, leaseSeconds: number): Promise<ClaimedDelivery | undefined> {
    return (await this.claimDeliveries([id], workerId, leaseSeconds))[0];
  }

  /** claimDelivery for a page of ids in one statement: the claimed ones, in id order. */
  async claimDeliveries(ids: number[], workerId: string, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    const rows: ClaimedDelivery[] = (await this.pool.query({ name: 'claim-deliveries', text: Q.CLAIM_DELIVERIES, values: [ids, workerId, leaseSeconds] })).rows;
    return rows.sort((a, b) => a.id - b.id);
  }

  /** Sent, and its run settled when nothing else of it is open (see MARK_SENT: one round trip, two at a run's tail). */
  async markSent(id: number, messageId: string, workerId: string, runId: number): Promise<void> {
    const row = (await this.pool.query({ name: 'mark-sent', text: Q.MARK_SENT, values: [id, messageId, workerId] })).rows[0];
    if (row?.settle_again) await this.completeRunIfSettled(runId);
  }

  /** Back to pending after a temporary failure, with the SMTP server's reply when it gave one; not claimed again for `inSeconds`. */
  async markRetry(id: number, error: string, workerId: string, reply: string | null, inSeconds: number): Promise<void> {
    await this.pool.query(Q.MARK_RETRY, [id, error, workerId, reply, inSeconds]);
  }

  /** Failed for good, with the SMTP server's reply when it gave one; a 5xx reply is what counts towards mail.pauseAt. */
  async markFailed(id: number, error: string, workerId: string, reply: string | null = null): Promise<void> {
    await this.pool.query(Q.MARK_FAILED, [id, error, workerId, reply]);
  }

  /** Claimed, not handed over, and not to be sent now (sending or the run paused, the worker stopping): back to pending, no attempt counted. */
  async markHeld(ids: number[], error: string, reply: string | null, workerId: string): Promise<void> {
    if (ids.length) await this.pool.query(Q.MARK_HELD, [ids, error, workerId, reply]);
  }

  /** Suppresses an address; false when that suppression was already there. */
  async suppress(s: { email: string; scope: SuppressionScope; target?: string; reason: SuppressionReason; detail?: string | null; deliveryId?: number | null }): Promise<boolean> {
    const { rowCount } = await this.pool.query(Q.INSERT_SUPPRESSION, [s.email, s.scope, s.scope === 'all' ? '' : (s.target ?? ''), s.reason, s.detail ?? null, s.deliveryId ?? null]);
    return (rowCount ?? 0) > 0;
  }

  /** Whether this address unsubscribed from exactly this (scope, target). */
  async isUnsubscribed(email: string, scope: SuppressionScope, target: string): Promise<boolean> {
    return ((await this.pool.query(Q.HAS_UNSUBSCRIBE, [email, scope, target])).rowCount ?? 0) > 0;
  }

  async suppressionCount(): Promise<number> {
    return (await this.pool.query(Q.SUPPRESSION_COUNT)).rows[0].n;
  }

  async suppressions(): Promise<Suppression[]> {
    return (await this.pool.query(Q.SUPPRESSIONS)).rows.map((r) => ({ ...r, delivery_id: r.delivery_id === null ? null : Number(r.delivery_id) }));
  }

  /** What stops e-mail of a schedule (and job kind) to each address: the first (strongest) suppression per address. */
  async suppressionsFor(emails: string[], scheduleId: string, job: string): Promise<Map<string, Omit<Suppression, 'delivery_id'>>> {
    const out = new Map<string, Omit<Suppression, 'delivery_id'>>();
    if (!emails.length) return out;
    for (const r of (await this.pool.query(Q.SUPPRESSIONS_FOR, [emails.map((e) => e.toLowerCase()), scheduleId, job])).rows) if (!out.has(r.email)) out.set(r.email, r);
    return out;
  }

  /** Lifts the suppressions of an address: all of them, or one unsubscribe (scope and target). */
  async unsuppress(email: string, only?: { scope: SuppressionScope; target: string }): Promise<Pick<Suppression, 'email' | 'scope' | 'target' | 'reason'>[]> {
    return (await this.pool.query(Q.DELETE_SUPPRESSIONS, [email, only?.scope ?? null, only?.target ?? null])).rows;
  }

  /**
   * Pauses a run whose permanent failures since it was last resumed reach `ratio` after at
   * least `after` tries; returns the pause when this call made it.
   */
  async pauseRunIfFailing(runId: number, ratio: number, after: number): Promise<{ id: number; schedule_id: string; error: string; tried: number; permanent: number } | undefined> {
    const row = (await this.pool.query(Q.PAUSE_RUN_IF_FAILING, [runId, ratio, after])).rows[0];
    return row ? { ...row, id: Number(row.id) } : undefined;
  }

  /** True for the one caller that is to tell the superadmin about this pause. */
  async markRunAlerted(runId: number): Promise<boolean> {
    return ((await this.pool.query(Q.MARK_RUN_ALERTED, [runId])).rowCount ?? 0) > 0;
  }

  /** A paused run continues; false when it was not paused. */
  async resumeRun(runId: number): Promise<boolean> {
    return ((await this.pool.query(Q.RESUME_RUN, [runId])).rowCount ?? 0) > 0;
  }

  /** Failed deliveries of a run go back to pending (not those to suppressed addresses); the run is open again. */
  async retryFailed(runId: number): Promise<{ requeued: number[]; suppressed: string[] }> {
    const requeued = (await this.pool.query(Q.RETRY_FAILED, [runId])).rows.map((r) => Number(r.id));
    const suppressed = (await this.pool.query(Q.SUPPRESSED_FAILED, [runId])).rows.map((r) => r.email);
    return { requeued, suppressed };
  }

  async deliveryCounts(runId: number): Promise<Record<DeliveryStatus, number>> {
    const counts = NO_DELIVERIES();
    for (const r of (await this.pool.query(Q.DELIVERY_COUNTS_OF_RUN, [runId])).rows) counts[r.status as DeliveryStatus] = r.n;
    return counts;
  }

  /** How far each schedule has been checked; one seen for the first time is watched from its `since`. */
  async scheduleStates(list: { id: string; since: Date }[]): Promise<Map<string, { watched_since: Date; checked_until: Date }>> {
    const ids = list.map((s) => s.id);
    let { rows } = await this.pool.query(Q.SCHEDULE_STATES, [ids]);
    if (rows.length < list.length) {
      const known = new Set(rows.map((r) => r.schedule_id as string));
      const added = list.filter((s) => !known.has(s.id));
      await this.pool.query(Q.INIT_SCHEDULE_STATES, [added.map((s) => s.id), added.map((s) => s.since)]);
      ({ rows } = await this.pool.query(Q.SCHEDULE_STATES, [ids]));
    }
    return new Map(rows.map((r) => [r.schedule_id as string, r]));
  }

  /** Each schedule checked up to its `until` (never moved back). */
  async advanceSchedules(list: { id: string; until: Date }[]): Promise<void> {
    if (list.length) await this.pool.query(Q.ADVANCE_SCHEDULE_STATES, [list.map((s) => s.id), list.map((s) => s.until)]);
  }

  /**
   * `fn` with this ledger over one session: a tick's dozen statements without a checkout (and,
   * on a pool shared by tenants, a search_path switch) each. Not for transactions of their own.
   */
  async session<T>(fn: (ledger: Ledger) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const one = { query: client.query.bind(client), connect: async () => ({ query: client.query.bind(client), release: () => undefined }) } as unknown as pg.Pool;
      return await fn(new Ledger(one, this.schema, this.database));
    } finally {
      client.release();
    }
  }

  async recentRuns(limit = 20) {
    return (await this.pool.query(Q.RECENT_RUNS, [limit])).rows as (Pick<RunRow, 'id' | 'schedule_id' | 'run_key' | 'variant' | 'occurrence' | 'job' | 'origin' | 'status' | 'error' | 'created_at'> & Record<'sent' | 'skipped' | 'failed' | 'pending' | 'sending' | 'unknown', number>)[];
  }

  async deliveryTotals(): Promise<Record<DeliveryStatus, number>> {
    const counts = NO_DELIVERIES();
    for (const r of (await this.pool.query(Q.DELIVERY_TOTALS)).rows) counts[r.status as DeliveryStatus] = r.n;
    return counts;
  }

  async pausedRuns(): Promise<{ id: number; schedule_id: string; occurrence: Date; error: string | null; updated_at: Date }[]> {
    return (await this.pool.query(Q.PAUSED_RUNS)).rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async skippedDeliveries(runIds: number[]) {
    return (await this.pool.query(Q.SKIPPED_DELIVERIES, [runIds])).rows as { run_id: number; schedule_id: string; email: string; reason: string }[];
  }

  async problemDeliveries() {
    return (await this.pool.query(Q.PROBLEM_DELIVERIES)).rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
