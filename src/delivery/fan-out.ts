import { DateTime, Interval } from 'luxon';
import type { Logger } from 'pino';
import type { DeliveryInput, Ledger, RunRow, Suppression } from '../ledger/ledger.ts';
import type { Schedule } from '../deployment/schedules.ts';
import { prepareFanOut, recipientsOf, type PrepareDeps } from './prepare.ts';
import { REVIEW, REVIEW_DEADLINE } from '../review/plan.ts';
import { decidedBeforeDeadline, recordHeld, reviewGate, sendWaitingFor } from '../review/gate.ts';
import type { CrierConfig } from '../config/load.ts';
import { recordReview } from '../review/ledger.ts';
import type { ReviewData } from '../review/draft.ts';

/**
 * What a fan-out leaves to queue: the run's deliveries (`fanned`), and another run (`next`): a
 * held send's notice, or the send a review round held back until it went out.
 */
export interface FanOutResult {
  fanned: boolean;
  next?: number;
}

/** What a fan-out uses: preparing a run, and the ledger it writes to. */
export interface FanOutDeps extends PrepareDeps {
  /** The superadmin, told when a reviewed send is held. */
  config: PrepareDeps['config'] & Pick<CrierConfig, 'operator' | 'mail' | 'tenant' | 'file'>;
  ledger: Ledger;
  log: Logger;
}

/**
 * Prepares a due run: reads the platform once (the snapshot every recipient's e-mail is
 * rendered from), writes one delivery row per recipient (skipped ones with their reason) and
 * marks the run fanned out. Safe to repeat or to run twice at once: the first snapshot wins and
 * delivery rows are unique per (run, e-mail). What is to be queued next: the run's pending
 * deliveries when it fanned the run out (`ledger.pendingOfRun`, a page at a time), and the run
 * of the notice that its review held it, or the send a review round held back.
 */
export async function fanOut(deps: FanOutDeps, runId: number): Promise<FanOutResult> {
  const { ledger } = deps;
  let run = await ledger.run(runId);
  if (!run || run.status !== 'due') return { fanned: false };
  const book = await deps.schedules();
  const schedule = book.all.find((s) => s.id === run!.schedule_id);
  if (!schedule) {
    await ledger.setRunStatus(runId, 'failed', ['due'], `schedule '${run.schedule_id}' is no longer in the config`);
    return { fanned: false };
  }
  const kind = book.job(run.job);
  // A reviewed send carries its review's decision: held, or the round's snapshot with the decision applied.
  if (run.data === null) {
    const gate = await reviewGate(ledger, schedule, run, kind);
    if (gate.kind === 'hold') {
      const notice = await recordHeld(ledger, deps.config, schedule, run, gate);
      deps.log.warn({ run: runId, schedule: run.schedule_id, by: gate.by, reason: gate.reason }, 'reviewed send held: not sent');
      return { fanned: false, next: notice };
    }
    if (gate.kind === 'wait') {
      deps.log.info({ run: runId, schedule: run.schedule_id, round: gate.round }, 'reviewed send waits for its review round, which is not sent yet');
      return { fanned: false };
    }
    if (gate.kind === 'send') run = await ledger.snapshot(runId, gate.data, new Date(gate.period.start), new Date(gate.period.end));
  }
  // The deadline's notice is for a review nobody decided.
  if (run.variant === REVIEW_DEADLINE && (await decidedBeforeDeadline(ledger, run))) {
    await ledger.setRunStatus(runId, 'done', ['due'], 'a reviewer decided before the deadline: nothing to tell');
    return { fanned: false };
  }
  const prepared = await prepareFanOut(deps, schedule, { occurrence: DateTime.fromJSDate(run.occurrence), variant: run.variant, meta: run.meta, job: run.job }, run.data === null);
  if (run.data === null) run = await ledger.snapshot(runId, prepared.data, prepared.period.start.toJSDate(), prepared.period.end.toJSDate());
  const job = book.kindOf(run.job, run.variant);
  const platform = await deps.platform();
  const data = run.data;
  // A page of the audience at a time (a CSV file's people are read in pages, never held): its
  // policies, its suppressions and its rows; all of them in one transaction with the run's
  // status, so a run refused half-way (a bad row far down its CSV file) has no rows to send.
  await ledger.fanOut(
    runId,
    (async function* () {
      for await (const page of prepared.pages()) yield withSuppressions(ledger, schedule, run.job, await recipientsOf(schedule, job, page, data, platform));
    })(),
    run.variant === REVIEW ? (db) => recordReview(db, runId, data as ReviewData) : undefined,
  );
  await ledger.completeRunIfSettled(runId);
  // A send that came due before its round went out waited for it: now it may go.
  const next = run.variant === REVIEW ? await sendWaitingFor(ledger, run) : undefined;
  const counts = await ledger.deliveryCounts(runId);
  deps.log.info({ run: runId, schedule: run.schedule_id, recipients: Object.values(counts).reduce((a, b) => a + b, 0), skipped: counts.skipped }, 'run fanned out');
  return { fanned: true, next };
}

/** The stored period of a run (set with its snapshot). */
export function runPeriod(run: RunRow): Interval<true> {
  return Interval.fromDateTimes(DateTime.fromJSDate(run.period_start!, { zone: run.timezone }), DateTime.fromJSDate(run.period_end!, { zone: run.timezone })) as Interval<true>;
}

/**
 * Recipients whose address is suppressed are recorded as skipped, with why and since when: an
 * unsubscribe from this schedule or its job kind, a hard bounce, a bounce report. Mail a role
 * must receive (`unsubscribe: none`) still stops for an address that bounced.
 */
async function withSuppressions(ledger: Ledger, schedule: Schedule, job: string, recipients: DeliveryInput[]): Promise<DeliveryInput[]> {
  const suppressed = await ledger.suppressionsFor(recipients.filter((r) => r.status === 'pending').map((r) => r.email), schedule.id, job);
  return recipients.map((r) => {
    const s = r.status === 'pending' ? suppressed.get(r.email.toLowerCase()) : undefined;
    if (!s || (schedule.unsubscribe === 'none' && s.scope !== 'all')) return r;
    return { ...r, status: 'skipped', reason: suppressionReason(s) };
  });
}

/** "unsubscribed from this schedule on 2026-11-27; …", "address refused by the mail server (hard bounce) on …: 550 5.1.1 …; …". */
export function suppressionReason(s: Pick<Suppression, 'email' | 'scope' | 'target' | 'reason' | 'detail' | 'created_at'>): string {
  const on = s.created_at.toISOString().slice(0, 10);
  const what =
    s.reason === 'unsubscribed' ? `unsubscribed from ${s.scope === 'job' ? `every ${s.target} e-mail` : 'this schedule'}` : s.reason === 'hard-bounce' ? 'address refused by the mail server (hard bounce)' : 'a bounce report came back for this address';
  const detail = s.reason !== 'unsubscribed' && s.detail ? `: ${s.detail.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  return `${what} on ${on}${detail}; \`crier suppressions remove ${s.email}\` lifts it`;
}
