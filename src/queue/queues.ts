import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { Duration } from 'luxon';
import type { Logger } from 'pino';
import type { CrierConfig } from '../config/load.ts';
import { PAGE, type Ledger, type QueuedDelivery } from '../ledger/ledger.ts';
import { redact } from '../redact.ts';
import { AudienceError } from '../delivery/audience.ts';
import { fanOut, type FanOutDeps } from '../delivery/fan-out.ts';
import pLimit from 'p-limit';
import { deliver, deliverPage, SendingPaused, type SendDeps } from '../delivery/send.ts';
import { DailyCap } from './daily-cap.ts';
import { tick, type TickDeps } from './tick.ts';
import { redisSettingProblems } from './redis-settings.ts';
import { processPending } from '../inbound/process.ts';
import { within } from '../deadline.ts';

/** A delivery job's data: one delivery (a retry, or every send under mail.rateLimit). `runId` is absent from jobs queued before it was added. */
interface DeliveryJob {
  deliveryId: number;
  runId?: number;
  /** The tenant whose ledger has it, in a deployment of many. */
  tenant?: string;
}

/** A page job's data: up to PAGE_OF_SENDS deliveries of one run, the queue's usual job. */
interface PageJob {
  runId: number;
  ids: number[];
  tenant?: string;
}

/** A run job's data. */
interface RunJob {
  runId: number;
  tenant?: string;
}

/**
 * Deliveries per page job: one BullMQ job and one claim per page, not per delivery, is most of
 * what sending costs beside SMTP itself; small enough that two or four worker processes share a
 * 10,000-recipient run evenly and a page's claims are not held long.
 */
export const PAGE_OF_SENDS = 50;

/**
 * Options of page and delivery jobs. Their attempts are for errors of Crier's own (the ledger
 * away); the SMTP server's are counted by the ledger. A failed job is removed: the ledger keeps
 * the error, and the tick may queue its deliveries again (a kept failed job would block its id
 * for as long as it is kept).
 */
const SEND_JOB = { attempts: 5, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: true, removeOnFail: true } as const;

/** Pages one process works at once: the next page's claim is made while the last sends of one finish. */
const PAGES_AT_ONCE = 2;

/** How often the tick fires: occurrences are minute-precise. */
export const TICK_EVERY_MS = 60_000;

/**
 * The three BullMQ queues. Redis only carries work: every job names ledger rows, and job ids
 * are derived from row ids (`run-17`, `page-17-840`, `delivery-42`), so a duplicate add while
 * the job exists is a no-op; once a job is gone, the rows' status is what stops a second send.
 * In a deployment of many tenants the queues are shared: each tenant has a view of them
 * (`forTenant`) whose jobs carry the tenant and whose ids start with it (`gent.run-17`).
 */
export class CrierQueues {
  readonly connection!: Redis;
  readonly tick!: Queue;
  readonly runs!: Queue;
  readonly deliveries!: Queue;

  readonly redisUrl!: string;
  readonly prefix!: string;
  /** The tenant of this view of the queues; undefined for the queues themselves. */
  readonly tenant?: string;
  private readonly owner: boolean;

  constructor(
    private readonly settings: Pick<CrierConfig['crier'], 'redis' | 'prefix'>,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    /** mail.rateLimit: BullMQ's limiter counts jobs, so each delivery is a job of its own under it. */
    private readonly rateLimited = false,
    /** In a deployment of many: the tenant whose jobs these are, and the queues it shares (else its own connection). */
    tenancy?: { tenant: string; of?: CrierQueues },
  ) {
    this.tenant = tenancy?.tenant;
    this.owner = !tenancy?.of;
    if (tenancy?.of) {
      const { of } = tenancy;
      Object.assign(this, { connection: of.connection, tick: of.tick, runs: of.runs, deliveries: of.deliveries, redisUrl: of.redisUrl, prefix: of.prefix });
      return;
    }
    const redisUrl = (this.redisUrl = settings.redis);
    const prefix = (this.prefix = settings.prefix);
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const opts = { connection: this.connection, prefix };
    this.tick = new Queue('tick', opts);
    this.runs = new Queue('runs', opts);
    this.deliveries = new Queue('deliveries', opts);
    // ioredis reconnects by itself; say once that Redis is away instead of a stack trace per retry.
    let reported = '';
    const onError = (err: Error & { code?: string }) => {
      if (reported === (err.code ?? err.message)) return;
      reported = err.code ?? err.message;
      log.warn({ err: err.message }, 'redis connection problem; retrying');
    };
    this.connection.on('error', onError);
    for (const q of [this.tick, this.runs, this.deliveries]) q.on('error', onError);
  }

  /**
   * The queues of a deployment, on a connection of their own; for one tenant of many (a
   * command with --tenant), its jobs carry the tenant, as a `crier start --configs` worker expects.
   */
  static open(config: Pick<CrierConfig, 'crier' | 'mail' | 'tenant'>, ledger: Ledger, log: Logger): CrierQueues {
    return new CrierQueues(config.crier, ledger, log, Boolean(config.mail.rateLimit), config.tenant ? { tenant: config.tenant } : undefined);
  }

  /** A tenant's view of these queues: its jobs on them, its ledger's work. */
  forTenant(tenant: string, ledger: Ledger): CrierQueues {
    return new CrierQueues(this.settings, ledger, this.log, this.rateLimited, { tenant, of: this });
  }

  /** A job id of this view: the tenant's own, in a deployment of many. */
  private id(plain: string): string {
    return this.tenant ? `${this.tenant}.${plain}` : plain;
  }

  /** What every job of this view carries besides its own data. */
  private get tagged(): { tenant?: string } {
    return this.tenant ? { tenant: this.tenant } : {};
  }

  /** Fails fast, and says what to do, when Redis does not answer (BullMQ would wait forever). */
  async ready(timeoutMs = 5000): Promise<void> {
    await within(timeoutMs, this.connection.ping(), `Redis at ${redact(this.redisUrl)} did not answer within ${timeoutMs / 1000} s; check that it runs and that crier.redis is right`);
  }

  /** What is wrong with Redis's settings for Crier, in words (see redisSettingProblems). */
  checkSettings(): Promise<string[]> {
    return redisSettingProblems(this.connection);
  }

  /** The minute tick as a BullMQ job scheduler: one per deployment, however many workers upsert it. */
  async scheduleTick(): Promise<void> {
    await this.tick.upsertJobScheduler('tick', { every: TICK_EVERY_MS }, { name: 'tick', opts: { removeOnComplete: 100, removeOnFail: 100 } });
  }

  async enqueueRun(runId: number): Promise<void> {
    // A run tried again (`crier run` on a failed one) would otherwise meet its old failed job,
    // kept for inspection under the same id, and never be worked.
    const jobId = this.id(`run-${runId}`);
    const previous = await this.runs.getJob(jobId);
    if (previous && (await previous.isFailed())) await previous.remove();
    await this.runs.add('run', { runId, ...this.tagged } satisfies RunJob, { jobId, attempts: 5, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: true, removeOnFail: { age: 7 * 86400 } });
  }

  /**
   * Deliveries onto the queue: a page job per PAGE_OF_SENDS of one run (one job per delivery
   * under mail.rateLimit), added PAGE at a time (one round trip each: a run of 100,000 would
   * otherwise build every job in memory at once). A page's id is its run and its slice of ids
   * (`page-RUN-⌊id/PAGE_OF_SENDS⌋`): the same on every re-queue, so queuing a delivery whose page
   * is still waiting, delayed or being worked adds nothing. `again`: deliveries released from a
   * dead worker, whose old job may still be held (stalled) in Redis under the plain id: a new id
   * (the ledger's claim keeps it to one send).
   */
  async enqueueDeliveries(list: QueuedDelivery[], again = false): Promise<void> {
    const suffix = again ? `-again-${Date.now()}` : '';
    const jobs = this.rateLimited ? list.map(({ id, runId }) => this.deliveryJob(id, runId, this.id(`delivery-${id}${suffix}`))) : this.pageJobs(list, suffix);
    for (let at = 0; at < jobs.length; at += PAGE) await this.deliveries.addBulk(jobs.slice(at, at + PAGE));
  }

  private pageJobs(list: QueuedDelivery[], suffix: string) {
    const pages = new Map<string, PageJob>();
    for (const { id, runId } of list) {
      const key = this.id(`page-${runId}-${Math.floor(id / PAGE_OF_SENDS)}${suffix}`);
      let page = pages.get(key);
      if (!page) pages.set(key, (page = { runId, ids: [], ...this.tagged }));
      page.ids.push(id);
    }
    return [...pages].map(([jobId, data]) => ({ name: 'page', data, opts: { jobId, ...SEND_JOB } }));
  }

  private deliveryJob(id: number, runId: number, jobId: string, delay?: number) {
    return { name: 'delivery', data: { deliveryId: id, runId, ...this.tagged } satisfies DeliveryJob, opts: { jobId, delay, ...SEND_JOB } };
  }

  /** Deliveries of a page that failed for a while, each queued to be tried again on its own at its time. */
  async enqueueRetries(runId: number, retries: { id: number; until: Date }[]): Promise<void> {
    if (retries.length) await this.deliveries.addBulk(retries.map(({ id, until }) => this.deliveryJob(id, runId, this.id(`delivery-${id}-at-${until.getTime()}`), Math.max(0, until.getTime() - Date.now()))));
  }

  /** A fanned-out run's pending deliveries onto the queue, read and added a page at a time. */
  async enqueueRunDeliveries(runId: number, again = false): Promise<void> {
    for await (const page of wholePages(this.ledger.pendingOfRun(runId))) await this.enqueueDeliveries(page, again);
  }

  /** Puts every due run and pending delivery of the ledger (back) on the queues, and closes settled runs; `ledger`: the same ledger in a session of the tick's. */
  async enqueueOpenWork(ledger: Ledger = this.ledger): Promise<void> {
    await ledger.completeSettledRuns();
    for (const id of await ledger.dueRunIds()) await this.enqueueRun(id);
    for await (const page of wholePages(ledger.pendingDeliveries())) await this.enqueueDeliveries(page);
  }

  async close(): Promise<void> {
    // A tenant's view leaves the shared queues open: their owner closes them.
    if (!this.owner) return;
    await Promise.allSettled([this.tick.close(), this.runs.close(), this.deliveries.close()]);
    this.connection.disconnect();
  }
}

/**
 * The ledger's pages (in id order) cut so that no page job's slice of ids (⌊id/PAGE_OF_SENDS⌋)
 * spans two of them: the ids of a slice read later would otherwise make a job under the same id
 * as one already added, and be dropped as its duplicate.
 */
async function* wholePages(pages: AsyncIterable<QueuedDelivery[]>): AsyncGenerator<QueuedDelivery[]> {
  const slice = (d: QueuedDelivery) => Math.floor(d.id / PAGE_OF_SENDS);
  let carried: QueuedDelivery[] = [];
  for await (const page of pages) {
    const all = carried.concat(page);
    const last = slice(all[all.length - 1]);
    const cut = all.findIndex((d) => slice(d) === last);
    if (cut > 0) yield all.slice(0, cut);
    carried = all.slice(cut);
  }
  if (carried.length) yield carried;
}

export interface Workers {
  /**
   * Stops taking jobs and waits for the active ones, at most `timeoutMs` (default the config's
   * shutdownTimeout). Then the transport is closed (nothing more can reach the server), what this
   * worker still holds is released and recorded (never handed over: pending again; handed over:
   * unknown, logged by delivery id), and only then is the worker's ledger use over.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Everything the workers of one process use: the tick's, the fan-out's and the sender's parts. */
export type EngineDeps = TickDeps & FanOutDeps & SendDeps & { config: Pick<CrierConfig, 'crier' | 'inbound' | 'deputies' | 'mail'> & { tenant?: string } };

/** One tenant's part of the work: its engine and its view of the shared queues. */
export interface TenantWork {
  engine: EngineDeps;
  queues: CrierQueues;
}

/** The tenants a process works for, in a deployment of many: every job names its tenant. */
export interface Tenancy {
  /** Every tenant that runs (a refused tenant is not here). */
  all: TenantWork[];
  /** Settings of the deployment as a whole (defaults.yaml): the queues, concurrency, the relay's rate limit. */
  config: Pick<CrierConfig, 'crier' | 'mail'>;
  log: Logger;
}

/** Tenants the tick and the heartbeat take care of at once (beyond the shared pool's connections, a tenant's tick waits for one). */
export const TENANTS_AT_ONCE = 32;

/** How long a job of a tenant this process does not serve waits before it is offered again. */
const OTHER_TENANT_WAIT_MS = 5_000;

/** Each of the tenants, TENANTS_AT_ONCE at a time; one tenant's trouble is logged and does not stop the others. */
async function forEachTenant(tenants: TenantWork[], what: string, fn: (t: TenantWork) => Promise<void>): Promise<void> {
  const limit = pLimit(TENANTS_AT_ONCE);
  await Promise.all(
    tenants.map((t) =>
      limit(async () => {
        try {
          await fn(t);
        } catch (e) {
          t.engine.log.error({ err: (e as Error).message }, `${what} failed for this tenant; tried again next time`);
        }
      }),
    ),
  );
}

/**
 * One tenant's minute: its occurrences come due recorded and queued, its stored replies
 * processed; with `sweep`, also every due run and pending delivery of its ledger (back) on the
 * queues and its settled runs closed (what a Redis that lost jobs needs).
 */
async function tickTenant({ engine, queues }: TenantWork, sweep = true): Promise<void> {
  // One session for the tick's statements: no checkout (nor search_path switch) for each.
  await engine.ledger.session(async (ledger) => {
    const { created } = await tick({ ...engine, ledger });
    if (sweep) await queues.enqueueOpenWork(ledger);
    else for (const run of created) if (run.status === 'due') await queues.enqueueRun(run.id);
  });
  // Replies stored but not processed (a crash, an error) are tried again each minute.
  if (engine.config.inbound) await processPending(engine);
}

/**
 * Every tenant's minute (the tick of a deployment of many), TENANTS_AT_ONCE tenants at a time.
 * Each tenant's sweep comes every SWEEP_EVERY minutes, staggered, so each minute sweeps a fifth
 * of them: a lost job waits at most five minutes, not one, and the tick of 500 tenants stays short.
 * `minute` (default: now's) picks whose turn it is; `sweepAll` sweeps every tenant (at start).
 */
export function tickTenants(tenants: TenantWork[], opts: { minute?: number; sweepAll?: boolean } = {}): Promise<void> {
  const minute = opts.minute ?? Math.floor(Date.now() / 60_000);
  const turn = new Map(tenants.map((t, i) => [t, opts.sweepAll || (minute + i) % SWEEP_EVERY === 0]));
  return forEachTenant(tenants, 'the tick', (t) => tickTenant(t, turn.get(t)));
}

/** Minutes between two sweeps of one tenant's ledger in a deployment of many (see tickTenants). */
const SWEEP_EVERY = 5;

/** One tenant's send state in this process, made when its first job comes. */
interface Sending {
  work: TenantWork;
  sender: SendDeps;
  pause: SendingPause;
}

/**
 * Starts the tick, run and delivery workers of one process, and its heartbeat: every third of
 * the lease it renews its claims, releases the claims of workers that died, and checks that
 * Redis still has the work (a Redis restarted empty, flushed or failed over lost the tick and
 * the queued jobs: both are rebuilt from the ledger, which is the truth). `work` is one
 * deployment's engine, or the tenants of a deployment of many, whose jobs share the queues.
 */
export function startWorkers(work: EngineDeps | Tenancy, queues: CrierQueues, opts: { tick?: boolean } = {}): Workers {
  const tenancy: Tenancy = 'all' in work ? work : { all: [{ engine: work, queues }], config: work.config, log: work.log };
  const byTenant = new Map(tenancy.all.map((t) => [t.engine.config.tenant, t]));
  const { log } = tenancy;
  const settings = tenancy.config;
  const workOf = (tenant: string | undefined): TenantWork | undefined => byTenant.get(tenant);
  /**
   * A job of a tenant this process does not serve (`crier run --tenant` serves one; a tenant
   * refused since its job was queued): it waits for a process that does, its attempts unspent.
   */
  const elsewhere = (job: Job, token: string | undefined) => job.moveToDelayed(Date.now() + OTHER_TENANT_WAIT_MS, token).then(() => Promise.reject(new DelayedError()));
  const eachTenant = (what: string, fn: (t: TenantWork) => Promise<void>) => forEachTenant(tenancy.all, what, fn);
  const connections: Redis[] = [];
  const workerOpts = (concurrency: number) => {
    const connection = new Redis(queues.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => {
      /* reported once by the queues' connection */
    });
    connections.push(connection);
    return { connection, prefix: queues.prefix, concurrency };
  };
  const single = tenancy.all.length === 1 && tenancy.all[0].engine.config.tenant === undefined;
  /**
   * Which tenants this process works for now: jobs under way, and when the last began. Only
   * those hold claims whose leases the heartbeat must renew (renewing 500 tenants' every ten
   * seconds would be 500 writes for nothing).
   */
  const activity = new Map<TenantWork, { inFlight: number; lastAt: number }>();
  const busy = async <T>(work: TenantWork, fn: () => Promise<T>): Promise<T> => {
    const a = activity.get(work) ?? { inFlight: 0, lastAt: 0 };
    activity.set(work, a);
    a.inFlight++;
    a.lastAt = Date.now();
    try {
      return await fn();
    } finally {
      a.inFlight--;
    }
  };
  const workers: Worker[] = [];
  if (opts.tick !== false) {
    workers.push(
      new Worker(
        'tick',
        async () => {
          if (single) await tickTenant(tenancy.all[0]);
          else await tickTenants(tenancy.all);
        },
        workerOpts(1),
      ),
    );
  }
  workers.push(
    new Worker(
      'runs',
      async (job: Job<RunJob>, token?: string) => {
        const work = workOf(job.data.tenant);
        if (!work) return elsewhere(job, token);
        const { engine, queues: view } = work;
        try {
          const done = await busy(work, () => fanOut(engine, job.data.runId));
          if (done.fanned) await view.enqueueRunDeliveries(job.data.runId);
          if (done.next) await view.enqueueRun(done.next);
        } catch (e) {
          // A platform that is down may come back; an audience naming a missing folder will not.
          const final = e instanceof AudienceError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (final) await engine.ledger.setRunStatus(job.data.runId, 'failed', ['due'], (e as Error).message);
          engine.log.error({ run: job.data.runId, err: (e as Error).message }, 'run could not be prepared');
          throw e instanceof AudienceError ? new UnrecoverableError((e as Error).message) : e;
        }
      },
      workerOpts(2),
    ),
  );
  const sending = new Map<string | undefined, Sending>();
  const sendingOf = (tenant: string | undefined): Sending | undefined => {
    let s = sending.get(tenant);
    if (!s) {
      const work = workOf(tenant);
      if (!work) return undefined;
      const { engine } = work;
      const mail = engine.config.mail;
      // A tenant's daily cap and sending pause are its own (its own relay account may be refused).
      const keys = tenant ? `${queues.prefix}:${tenant}` : queues.prefix;
      const sender: SendDeps = { ...engine, gate: mail.dailyCap ? new DailyCap(queues.connection, keys, mail.dailyCap, engine.now) : undefined };
      const pause = new SendingPause(queues.connection, keys, engine.log, Duration.fromISO(engine.config.crier.retry.backoff).toMillis());
      sending.set(tenant, (s = { work, sender, pause }));
    }
    return s;
  };
  // crier.concurrency sends in flight in this process, whether they come from pages or from
  // delivery jobs, whichever tenant they are of.
  const sendSlots = pLimit(settings.crier.concurrency);
  const pageSlots = pLimit(PAGES_AT_ONCE);
  let stopping = false;
  const rateLimit = settings.mail.rateLimit;
  workers.push(
    new Worker(
      'deliveries',
      async (job: Job<DeliveryJob | PageJob>, token?: string) => {
        const tenantSending = sendingOf(job.data.tenant);
        if (!tenantSending) return elsewhere(job, token);
        return busy(tenantSending.work, () => sendJob(job, token, tenantSending));
      },
      {
        ...workerOpts(settings.crier.concurrency),
        // BullMQ's limiter is kept in Redis: it holds across every worker process of the deployment
        // (and every tenant: they share the relay, whose limit it is).
        ...(rateLimit ? { limiter: { max: rateLimit.max, duration: Duration.fromISO(rateLimit.per).toMillis() } } : {}),
      },
    ),
  );
  /** A page or delivery job of one tenant. */
  async function sendJob(job: Job<DeliveryJob | PageJob>, token: string | undefined, { work, sender, pause }: Sending) {
    // This job waits until `at`, its attempt unspent (moveToDelayed skips the attempt).
    const waitUntil = (at: number) => job.moveToDelayed(at, token).then(() => Promise.reject(new DelayedError()));
    // While sending is paused, one job at a time (deployment-wide) probes; the others wait.
    if (await pause.someoneElseProbes()) return waitUntil(Date.now() + pause.probeMs);
    if (job.name === 'page') {
      const data = job.data as PageJob;
      const out = await pageSlots(() => deliverPage(sender, data, { slot: sendSlots, probe: pause.paused, stopping: () => stopping }));
      await work.queues.enqueueRetries(data.runId, out.retries);
      if (out.sent) await pause.over();
      if (out.paused) {
        await pause.hold(out.paused);
        return waitUntil(Date.now() + pause.probeMs);
      }
      // Outside its schedule's send window, today's cap used up, or this worker stopping: the
      // page comes back for what it did not send (delayed jobs due at one instant keep their order).
      if (out.wait) return waitUntil(out.wait.until.getTime());
      return out;
    }
    let outcome;
    try {
      outcome = await sendSlots(() => deliver(sender, job.data as DeliveryJob));
    } catch (e) {
      if (!(e instanceof SendingPaused)) throw e;
      // The job waits for the next probe.
      await pause.hold(e.message);
      return waitUntil(Date.now() + pause.probeMs);
    }
    if (outcome === 'sent') await pause.over();
    if (typeof outcome !== 'object') return outcome;
    // Outside its window, today's cap used up, or a retry's backoff: this job waits.
    return waitUntil(outcome.until.getTime());
  }
  for (const w of workers) {
    w.on('error', (err) => log.error({ err: err.message, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) => log.warn({ queue: w.name, job: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed'));
  }
  // The process is one worker in every tenant's ledger: its claims there are leased to it.
  const worker = tenancy.all[0]?.engine.worker ?? { id: 'none', leaseSeconds: 30 };
  const registered = new Map<TenantWork, Promise<unknown>>();
  for (const t of tenancy.all) {
    registered.set(t, t.engine.ledger.registerWorker(worker.id, hostname(), process.pid).catch((e: Error) => t.engine.log.error({ err: e.message }, 'worker could not register; its claims are still leased')));
  }
  let beating: Promise<void> | undefined;
  const beatTenant = async (t: TenantWork) => {
    const { ledger, log: tlog } = t.engine;
    await registered.get(t);
    // Claims are held only while a job of the tenant is under way (a page: until it is sent).
    const a = activity.get(t);
    if (single || (a && (a.inFlight > 0 || Date.now() - a.lastAt < worker.leaseSeconds * 2000))) await ledger.heartbeat(worker.id, worker.leaseSeconds);
    const released = await ledger.releaseDeliveries(null);
    if (released.length) {
      for (const r of released) tlog[r.status === 'unknown' ? 'error' : 'warn']({ delivery: r.id, run: r.run_id, status: r.status }, r.status === 'unknown' ? 'delivery outcome unknown: its worker died after handing it over' : 'delivery released: its worker died before sending; sent again');
      await t.queues.enqueueDeliveries(released.flatMap((r) => (r.status === 'pending' ? [{ id: r.id, runId: r.run_id }] : [])), true);
      await ledger.completeSettledRuns();
    }
  };
  const beat = async () => {
    if (single) await beatTenant(tenancy.all[0]);
    else await eachTenant('the heartbeat', beatTenant);
    if (opts.tick !== false && !(await queues.tick.getJobScheduler('tick'))) {
      log.warn('the tick is gone from Redis (restarted empty, flushed or failed over): rebuilding it and the queued work from the ledger');
      await queues.scheduleTick();
      for (const t of tenancy.all) await t.queues.enqueueOpenWork();
    }
  };
  const heartbeat = setInterval(() => {
    beating ??= beat()
      .catch((e: Error) => log.warn({ err: e.message }, 'heartbeat failed; trying again'))
      .finally(() => (beating = undefined));
  }, (worker.leaseSeconds * 1000) / 3);
  heartbeat.unref();
  return {
    async close(timeoutMs = Duration.fromISO(settings.crier.shutdownTimeout).toMillis()) {
      // Pages under way send what is in flight and leave the rest pending for another worker.
      stopping = true;
      const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled(workers.map((w) => w.close())), deadline]);
      // Past here nothing more may reach the SMTP server: a send still under way is cut off.
      await Promise.allSettled(tenancy.all.map((t) => t.engine.transport.close()));
      clearInterval(heartbeat);
      await beating;
      await Promise.all(
        tenancy.all.map(async ({ engine: { ledger, log: tlog } }) => {
          try {
            for (const r of await ledger.releaseDeliveries(worker.id)) {
              tlog[r.status === 'unknown' ? 'error' : 'warn']({ delivery: r.id, run: r.run_id, status: r.status }, r.status === 'unknown' ? 'stopped while the SMTP server had the message and no answer yet: outcome unknown' : 'stopped before sending: pending again');
            }
            await ledger.completeSettledRuns();
            await ledger.stopWorker(worker.id);
          } catch (e) {
            tlog.error({ err: (e as Error).message }, 'could not record what this worker held; its leases run out and another worker releases them');
          }
        }),
      );
      for (const c of connections) c.disconnect();
      // BullMQ's own close may still be waiting for a cut-off job: let it end in the background.
      void Promise.allSettled(workers.map((w) => w.close(true)));
    },
  };
}

/**
 * Sending paused because the SMTP server refused Crier itself (login, TLS, its sender), across
 * every process: the first worker to see it records the reason in Redis and logs it once.
 * While it holds, one delivery per `probeMs` in the whole deployment is tried (the probe: a
 * lock in Redis decides which); the others wait without connecting, so a service account is
 * not locked out by a storm of failed logins. The first send that gets through ends the pause
 * and logs that, once.
 */
class SendingPause {
  /** Whether Redis says sending is paused, as last read (at most once a second). */
  paused = false;
  private readAt = 0;
  constructor(
    private readonly redis: Redis,
    /** The queues' prefix (and the tenant's id, in a deployment of many). */
    private readonly prefix: string,
    private readonly log: Logger,
    readonly probeMs: number,
  ) {}

  private get key(): string {
    return `${this.prefix}:sending-paused`;
  }

  private async isPaused(): Promise<boolean> {
    if (Date.now() - this.readAt > 1000) {
      this.paused = (await this.redis.exists(this.key)) === 1;
      this.readAt = Date.now();
    }
    return this.paused;
  }

  /** True when sending is paused and another delivery is this round's probe. */
  async someoneElseProbes(): Promise<boolean> {
    if (!(await this.isPaused())) return false;
    const mine = await this.redis.set(`${this.key}:probe`, '1', 'PX', this.probeMs, 'NX');
    return mine === null;
  }

  async hold(reason: string): Promise<void> {
    // Kept a day at most, so a pause nobody saw end does not silence the next one.
    const first = await this.redis.set(this.key, reason, 'EX', 86400, 'NX');
    this.paused = true;
    this.readAt = Date.now();
    if (first) this.log.error({ reason, probeEverySeconds: this.probeMs / 1000 }, `sending paused: ${reason}; every delivery waits, one probe tries again every ${Math.round(this.probeMs / 1000)} s`);
    // This failure was the round's probe: the next one comes after probeMs.
    await this.redis.set(`${this.key}:probe`, '1', 'PX', this.probeMs);
  }

  async over(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    const reason = await this.redis.getdel(this.key);
    if (reason) this.log.warn({ reason }, 'sending resumed: the SMTP server accepts Crier again');
  }
}
