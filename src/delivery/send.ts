import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Ledger, RunRow } from '../ledger/ledger.ts';
import { composeMessage, type ComposeDeps } from './compose.ts';
import { runPeriod } from './fan-out.ts';
import { SendError, type SendResult, type Transport } from './transport.ts';
import type { CrierConfig } from '../config/load.ts';
import { nextOpening } from '../schedule/window.ts';
import { pauseNotice } from './notice.ts';

/** What sending one delivery uses: composing, the transport, and the ledger that records it. */
export interface SendDeps extends ComposeDeps {
  ledger: Ledger;
  log: Logger;
  transport: Transport;
  /** This worker process: the claims it makes carry its id and a lease it renews while alive. */
  worker: { id: string; leaseSeconds: number };
  /** The run with its snapshot (cached: it never changes once taken). */
  snapshotRun(id: number): Promise<RunRow | undefined>;
  /** Limits shared by every worker process (mail.dailyCap); none when absent. */
  gate?: SendGate;
  config: ComposeDeps['config'] & Pick<CrierConfig, 'operator'>;
  now(): Date;
}

/** A limit every worker process shares: one send more today, or how long until there is room. */
export interface SendGate {
  /** Takes one send of today's allowance (the day in `zone`); returns the ms to wait when it is used up. */
  take(zone: string): Promise<number | null>;
  /** Gives back one taken but unused (the delivery was not claimed after all). */
  giveBack(zone: string): Promise<void>;
}

/** Why a delivery waits without being tried: its send window is closed, or today's cap is used up. */
export interface Wait {
  until: Date;
  why: 'window' | 'daily-cap';
}

export type DeliverOutcome = 'sent' | 'failed' | 'not-claimed' | Wait;

/** A temporary failure the queue should retry; the ledger already says so. */
export class RetryLater extends Error {}

/**
 * The SMTP server refused Crier itself (login, TLS): sending pauses for every delivery and a
 * later probe resumes it. The delivery is pending again, its attempt not counted.
 */
export class SendingPaused extends Error {}

/**
 * Sends one delivery exactly once: claims the row (pending → sending, under this worker's
 * lease, unless its run is paused) in one statement, sends, then marks it sent with its
 * Message-ID. A row another worker holds, or that is settled, is left alone. Just before SMTP's
 * final dot the ledger records the hand-over; a connection lost after it, with no answer, makes
 * the delivery `unknown` (never resent without a person). Other failures by class (see
 * FailureClass): temporary ones go back to pending (RetryLater, or failed on the last
 * attempt); permanent ones fail at once with the server's reply, suppress a bad address, and
 * may pause the run (mail.pauseAt); a refused login or TLS pauses sending (SendingPaused).
 * If this process dies, its lease runs out and the row is released the same way.
 */
export async function deliver(deps: SendDeps, job: { deliveryId: number; runId?: number }, opts: { lastAttempt: boolean }): Promise<DeliverOutcome> {
  const { ledger, log } = deps;
  const { deliveryId } = job;
  // Everything that can fail for reasons of its own is read before the claim, so a claimed row
  // never waits for a retry that will find it claimed. The job names its run (jobs queued by an
  // older version do not: their run is read from the ledger).
  let runId = job.runId;
  if (runId === undefined) {
    const peek = await ledger.deliveryRunId(deliveryId);
    if (!peek || peek.status !== 'pending') return 'not-claimed';
    runId = peek.runId;
  }
  const run = await deps.snapshotRun(runId);
  if (!run) return 'not-claimed';
  const schedule = (await deps.schedules()).get(run.schedule_id);
  const now = DateTime.fromJSDate(deps.now());
  // A send window holds scheduled sends (a retry or a long run that reaches the evening waits for
  // the morning); not what a person started (`crier run`, an acknowledgement) nor a send its
  // schedule kept outside the window for a deadline.
  const held = run.origin === 'schedule' || run.origin === 'catch-up';
  if (schedule.window && held && !run.meta.outsideWindow) {
    const opens = nextOpening(schedule.window, now, schedule.timezone);
    if (opens > now) return { until: opens.toJSDate(), why: 'window' };
  }
  const full = await deps.gate?.take(run.timezone);
  if (full) return { until: now.plus(full).toJSDate(), why: 'daily-cap' };
  const delivery = await ledger.claimDelivery(deliveryId, deps.worker.id, deps.worker.leaseSeconds);
  if (!delivery) {
    await deps.gate?.giveBack(run.timezone);
    return 'not-claimed';
  }

  let result: SendResult;
  try {
    const { occurrence, period, day } = timesOf(run);
    const { message } = await composeMessage(deps, {
      schedule,
      data: run.data,
      period,
      recipient: { email: delivery.email, name: delivery.name, locale: delivery.locale, userId: delivery.user_id ?? undefined, scope: Object.keys(delivery.scope).length ? delivery.scope : undefined, variant: delivery.variant === 'default' ? undefined : delivery.variant },
      run: { occurrence, variant: run.variant, meta: run.meta },
      runId: run.id,
      deliveryId: delivery.id,
      fileStem: `${day}-${run.schedule_id}-${run.id}-${delivery.id}-${delivery.email}`,
    });
    result = await deps.transport.send(message, {
      beforeHandOver: async () => {
        // A claim whose lease ran out (this process stalled) may be another worker's now: stop.
        if (!(await ledger.markHanded(delivery.id, deps.worker.id))) throw new Error(`delivery ${delivery.id} is no longer held by this worker`);
      },
    });
  } catch (e) {
    const error = e as Error;
    const where = { delivery: delivery.id, run: run.id, to: delivery.email, err: error.message };
    // Not handed over (or refused): it does not count towards today's cap.
    if (!(error instanceof SendError && error.uncertain)) await deps.gate?.giveBack(run.timezone);
    if (!(error instanceof SendError)) {
      // Not the server's doing (a template that cannot render this recipient): retrying will not help.
      await ledger.markFailed(delivery.id, error.message, deps.worker.id);
      log.error(where, 'delivery failed');
      await ledger.completeRunIfSettled(run.id);
      return 'failed';
    }
    switch (error.failure) {
      case 'uncertain':
        await ledger.markUnknown(delivery.id, `${error.message}: the server may or may not have it; crier retry ${run.id} --unknown sends it again`, deps.worker.id);
        log.error(where, 'delivery outcome unknown: not resent');
        await ledger.completeRunIfSettled(run.id);
        return 'failed';
      case 'paused':
        await ledger.markHeld(delivery.id, `waiting: ${error.message}`, error.reply ?? null, deps.worker.id);
        throw new SendingPaused(error.message);
      case 'permanent':
        await ledger.markFailed(delivery.id, error.message, deps.worker.id, error.reply ?? String(error.responseCode ?? ''));
        // An address the server says does not exist is not written to again until a person says so.
        if (error.hardBounce) await ledger.suppress({ email: delivery.email, scope: 'all', reason: 'hard-bounce', detail: error.reply ?? error.message, deliveryId: delivery.id });
        log.error({ ...where, reply: error.reply, suppressed: error.hardBounce }, 'delivery failed permanently');
        await ledger.completeRunIfSettled(run.id);
        await pauseIfFailing(deps, run);
        return 'failed';
      case 'temporary':
        if (opts.lastAttempt) {
          await ledger.markFailed(delivery.id, `${error.message} (last of its attempts)`, deps.worker.id, error.reply ?? null);
          log.error(where, 'delivery failed: temporary failures on every attempt');
          await ledger.completeRunIfSettled(run.id);
          return 'failed';
        }
        await ledger.markRetry(delivery.id, error.message, deps.worker.id, error.reply ?? null);
        log.warn(where, 'delivery will be retried');
        throw new RetryLater(error.message);
    }
  }
  // Sent: from here an error propagates and leaves the row `sending`, never `failed`.
  await ledger.markSent(delivery.id, result.messageId, deps.worker.id, run.id);
  log.info({ delivery: delivery.id, run: run.id, to: delivery.email, messageId: result.messageId }, 'sent');
  // A run that failed early may reach mail.pauseAt's minimum number of sends with a success.
  if (failingRuns.has(run.id)) await pauseIfFailing(deps, run);
  return 'sent';
}

/**
 * A run's occurrence and period in its zone, made once per run: the run row is cached (its
 * snapshot never changes) and luxon's zone arithmetic is not free at every send.
 */
const runTimes = new WeakMap<RunRow, { occurrence: DateTime; period: ReturnType<typeof runPeriod>; day: string }>();
function timesOf(run: RunRow) {
  let times = runTimes.get(run);
  if (!times) {
    const occurrence = DateTime.fromJSDate(run.occurrence, { zone: run.timezone });
    times = { occurrence, period: runPeriod(run), day: occurrence.toFormat('yyyy-MM-dd') };
    runTimes.set(run, times);
  }
  return times;
}

/**
 * Runs this process saw fail permanently: only their successes are worth a pause check (a
 * run that never failed cannot reach the ratio), which spares every other send a query.
 */
const failingRuns = new Set<number>();

/**
 * After a permanent failure: a run whose share of permanent failures reaches mail.pauseAt
 * pauses itself (its other deliveries wait), and the superadmin is told once.
 */
async function pauseIfFailing(deps: SendDeps, run: RunRow): Promise<void> {
  failingRuns.add(run.id);
  if (failingRuns.size > 100) failingRuns.delete(failingRuns.values().next().value!);
  const { ratio, after } = deps.config.mail.pauseAt;
  const paused = await deps.ledger.pauseRunIfFailing(run.id, ratio, after);
  if (!paused) return;
  deps.log.error({ run: run.id, schedule: run.schedule_id, tried: paused.tried, permanent: paused.permanent }, paused.error);
  if (!(await deps.ledger.markRunAlerted(run.id))) return;
  try {
    const failures = (await deps.ledger.deliveries(run.id)).filter((d) => d.status === 'failed' && d.smtp_reply);
    await deps.transport.send(pauseNotice(deps.config, run, paused, failures));
  } catch (e) {
    deps.log.error({ run: run.id, err: (e as Error).message }, 'could not e-mail the superadmin about the pause; crier status shows it');
  }
}
