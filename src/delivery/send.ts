import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import type { ClaimedDelivery, Ledger, RunRow } from '../ledger/ledger.ts';
import { composeMessage, type ComposeDeps } from './compose.ts';
import { runPeriod } from './fan-out.ts';
import { SendError, type SendResult, type Transport } from './transport.ts';
import type { CrierConfig } from '../config/load.ts';
import { nextOpening } from '../schedule/window.ts';
import { pauseNotice } from './notice.ts';
import { timedSend } from './send-latency.ts';

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
  config: ComposeDeps['config'] & Pick<CrierConfig, 'operator'> & { crier: Pick<CrierConfig['crier'], 'retry'> };
  now(): Date;
}

/** A limit every worker process shares: one send more today, or how long until there is room. */
export interface SendGate {
  /** Takes one send of today's allowance (the day in `zone`); returns the ms to wait when it is used up. */
  take(zone: string): Promise<number | null>;
  /** Gives back one taken but unused (the delivery was not claimed after all). */
  giveBack(zone: string): Promise<void>;
}

/**
 * Why a delivery waits without being tried: its send window is closed, today's cap is used up,
 * or it failed for a while (SMTP 4xx, a connection refused) and is tried again after a backoff.
 */
export interface Wait {
  until: Date;
  why: 'window' | 'daily-cap' | 'retry';
}

export type DeliverOutcome = 'sent' | 'failed' | 'not-claimed' | Wait;

/**
 * The SMTP server refused Crier itself (login, TLS): sending pauses for every delivery and a
 * later probe resumes it. The delivery is pending again, its attempt not counted.
 */
export class SendingPaused extends Error {}

/** A run and its schedule, as a send needs them; undefined when the run is gone. */
async function openRun(deps: SendDeps, runId: number) {
  const run = await deps.snapshotRun(runId);
  if (!run) return undefined;
  return { run, schedule: (await deps.schedules()).get(run.schedule_id) };
}
/** A run with its schedule. */
export type OpenRun = NonNullable<Awaited<ReturnType<typeof openRun>>>;

/**
 * A send window holds scheduled sends (a retry or a long run that reaches the evening waits for
 * the morning); not what a person started (`crier run`, an acknowledgement) nor a send its
 * schedule kept outside the window for a deadline.
 */
function windowWait({ run, schedule }: OpenRun, now: DateTime): Wait | undefined {
  const held = run.origin === 'schedule' || run.origin === 'catch-up';
  if (!schedule.window || !held || run.meta.outsideWindow) return undefined;
  const opens = nextOpening(schedule.window, now, schedule.timezone);
  return opens > now ? { until: opens.toJSDate(), why: 'window' } : undefined;
}

/**
 * Sends one delivery exactly once: claims the row (pending and due → sending, under this
 * worker's lease, unless its run is paused) in one statement, sends, then marks it sent with its
 * Message-ID. A row another worker holds, or that is settled, is left alone. Everything that can
 * make it wait (its window, today's cap) is asked before the claim, so a claimed row never
 * waits. See sendClaimed for what happens once it is claimed.
 */
export async function deliver(deps: SendDeps, job: { deliveryId: number; runId?: number }): Promise<DeliverOutcome> {
  const { ledger } = deps;
  const { deliveryId } = job;
  // The job names its run (jobs queued by an older version do not: their run is read from the ledger).
  let runId = job.runId;
  if (runId === undefined) {
    const peek = await ledger.deliveryRunId(deliveryId);
    if (!peek || peek.status !== 'pending') return 'not-claimed';
    runId = peek.runId;
  }
  const opened = await openRun(deps, runId);
  if (!opened) return 'not-claimed';
  const now = DateTime.fromJSDate(deps.now());
  const closed = windowWait(opened, now);
  if (closed) return closed;
  const full = await deps.gate?.take(opened.run.timezone);
  if (full) return { until: now.plus(full).toJSDate(), why: 'daily-cap' };
  const delivery = await ledger.claimDelivery(deliveryId, deps.worker.id, deps.worker.leaseSeconds);
  if (!delivery) {
    await deps.gate?.giveBack(opened.run.timezone);
    return 'not-claimed';
  }
  return sendClaimed(deps, opened, delivery);
}

/** What a page of deliveries came to. */
export interface PageOutcome {
  sent: number;
  failed: number;
  /** Deliveries that failed for a while, each to be tried again on its own at `until`. */
  retries: { id: number; until: Date }[];
  /** Sending is paused (the SMTP server refused Crier itself): why. What was not sent waits. */
  paused?: string;
  /** The page comes back at `until` for what it did not send (window, today's cap, a stop). */
  wait?: { until: Date; why: Wait['why'] | 'stopping' };
}

/** How a page's sends share the process. */
export interface PageOptions {
  /** Runs one send: the process's limit on sends in flight, shared by every page and delivery job. */
  slot: <T>(send: () => Promise<T>) => Promise<T>;
  /** Sending is paused and this page is the probe: its first delivery is tried alone first. */
  probe?: boolean;
  /** The worker is stopping: what has not started is left for another worker. */
  stopping?: () => boolean;
}

/**
 * A page of one run's deliveries (the queue's usual job: one BullMQ job and one claim for up to
 * PAGE_OF_SENDS deliveries, instead of one of each per delivery). The window and today's cap
 * are asked once for the page before the claim; the claimed deliveries are sent through the
 * process's shared slots, each exactly as `deliver` sends one (hand-over and `sent` per
 * message). What cannot be sent now stays pending, its attempt not counted, and the page says
 * when to come back; a page worked again claims only what is still pending and due.
 */
export async function deliverPage(deps: SendDeps, job: { runId: number; ids: number[] }, opts: PageOptions): Promise<PageOutcome> {
  const outcome: PageOutcome = { sent: 0, failed: 0, retries: [] };
  const opened = await openRun(deps, job.runId);
  if (!opened) return outcome;
  const { run } = opened;
  const now = DateTime.fromJSDate(deps.now());
  const closed = windowWait(opened, now);
  if (closed) return { ...outcome, wait: closed };
  let ids = job.ids;
  // Today's cap: an allowance for each delivery of the page, as far as it goes (given back for those not claimed).
  let allowed = 0;
  if (deps.gate) {
    for (; allowed < ids.length; allowed++) {
      const full = await deps.gate.take(run.timezone);
      if (full) {
        outcome.wait = { until: now.plus(full).toJSDate(), why: 'daily-cap' };
        ids = ids.slice(0, allowed);
        break;
      }
    }
  }
  const held: number[] = [];
  let why = '';
  const page = { runPaused: false };
  const one = async (delivery: ClaimedDelivery) => {
    // Checked at its turn: a page claimed before sending paused, the run paused or the worker stopped does not send on.
    const stop = outcome.paused ? `waiting: ${outcome.paused}` : page.runPaused ? 'waiting: its run is paused (mail.pauseAt)' : opts.stopping?.() ? 'its worker stopped before its turn; sent by another' : '';
    if (stop) {
      held.push(delivery.id);
      why ||= stop;
      if (!outcome.paused && !page.runPaused) outcome.wait = { until: new Date(), why: 'stopping' };
      return deps.gate?.giveBack(run.timezone);
    }
    try {
      const result = await sendClaimed(deps, opened, delivery, page);
      if (result === 'sent') outcome.sent++;
      else if (result === 'failed') outcome.failed++;
      else outcome.retries.push({ id: delivery.id, until: result.until });
    } catch (e) {
      if (!(e instanceof SendingPaused)) throw e;
      outcome.paused ??= e.message;
    }
  };
  let claimedCount = 0;
  try {
    if (opts.probe) {
      // Sending is paused: one delivery tries the server before the page claims the rest.
      for (const [i, id] of ids.entries()) {
        const first = await deps.ledger.claimDelivery(id, deps.worker.id, deps.worker.leaseSeconds);
        if (!first) continue;
        claimedCount++;
        await opts.slot(() => one(first));
        ids = ids.slice(i + 1);
        break;
      }
    }
    const claimed = ids.length && !outcome.paused ? await deps.ledger.claimDeliveries(ids, deps.worker.id, deps.worker.leaseSeconds) : [];
    claimedCount += claimed.length;
    // Every claimed delivery has its turn even when one fails on Crier's side (the ledger away),
    // so none is left claimed by a worker that lives on and renews its lease.
    const failure = (await Promise.allSettled(claimed.map((d) => opts.slot(() => one(d))))).find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
  } finally {
    await deps.ledger.markHeld(held, why, null, deps.worker.id);
    for (let i = claimedCount; i < allowed; i++) await deps.gate?.giveBack(run.timezone);
  }
  return outcome;
}

/**
 * A delivery's e-mail as its send composes it: from its run's snapshot, for its recipient. The
 * dashboard shows a delivery's e-mail by composing it again this way (the ledger keeps no copy).
 */
export function composeDelivery(deps: ComposeDeps, { run, schedule }: OpenRun, delivery: Pick<ClaimedDelivery, 'id' | 'email' | 'name' | 'locale' | 'user_id' | 'scope' | 'variant'>) {
  const { occurrence, period, day } = timesOf(run);
  return composeMessage(deps, {
    schedule,
    data: run.data,
    period,
    recipient: { email: delivery.email, name: delivery.name, locale: delivery.locale, userId: delivery.user_id ?? undefined, scope: Object.keys(delivery.scope).length ? delivery.scope : undefined, variant: delivery.variant === 'default' ? undefined : delivery.variant },
    run: { occurrence, variant: run.variant, meta: run.meta },
    runId: run.id,
    deliveryId: delivery.id,
    fileStem: `${day}-${run.schedule_id}-${run.id}-${delivery.id}-${delivery.email}`,
  });
}

/**
 * Sends a claimed delivery. Just before SMTP's final dot the ledger records the hand-over; a
 * connection lost after it, with no answer, makes the delivery `unknown` (never resent without
 * a person). Other failures by class (see FailureClass): temporary ones go back to pending until
 * a backoff has passed (a Wait; failed after crier.retry.attempts tries); permanent ones fail at
 * once with the server's reply, suppress a bad address, and may pause the run (mail.pauseAt); a
 * refused login or TLS pauses sending (SendingPaused). If this process dies, its lease runs out
 * and the row is released the same way.
 */
async function sendClaimed(deps: SendDeps, { run, schedule }: OpenRun, delivery: ClaimedDelivery, page?: { runPaused: boolean }): Promise<'sent' | 'failed' | Wait> {
  const { ledger, log } = deps;
  let result: SendResult;
  try {
    const { message } = await composeDelivery(deps, { run, schedule }, delivery);
    // Timed for the /metrics histogram of send latency.
    result = await timedSend(() => deps.transport.send(message, {
      beforeHandOver: async () => {
        // A claim whose lease ran out (this process stalled) may be another worker's now: stop.
        if (!(await ledger.markHanded(delivery.id, deps.worker.id))) throw new Error(`delivery ${delivery.id} is no longer held by this worker`);
      },
    }));
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
        await ledger.markHeld([delivery.id], `waiting: ${error.message}`, error.reply ?? null, deps.worker.id);
        throw new SendingPaused(error.message);
      case 'permanent':
        await ledger.markFailed(delivery.id, error.message, deps.worker.id, error.reply ?? String(error.responseCode ?? ''));
        // An address the server says does not exist is not written to again until a person says so.
        if (error.hardBounce) await ledger.suppress({ email: delivery.email, scope: 'all', reason: 'hard-bounce', detail: error.reply ?? error.message, deliveryId: delivery.id });
        log.error({ ...where, reply: error.reply, suppressed: error.hardBounce }, 'delivery failed permanently');
        await ledger.completeRunIfSettled(run.id);
        if ((await pauseIfFailing(deps, run)) && page) page.runPaused = true;
        return 'failed';
      case 'temporary': {
        const { attempts, backoff } = deps.config.crier.retry;
        if (delivery.attempts >= attempts) {
          await ledger.markFailed(delivery.id, `${error.message} (last of its attempts)`, deps.worker.id, error.reply ?? null);
          log.error(where, 'delivery failed: temporary failures on every attempt');
          await ledger.completeRunIfSettled(run.id);
          return 'failed';
        }
        // Exponential, with jitter: the retries of a whole run that failed at once (a relay's 421) do not return together.
        const ms = Duration.fromISO(backoff).toMillis() * 2 ** (delivery.attempts - 1) * (1 - Math.random() / 2);
        await ledger.markRetry(delivery.id, error.message, deps.worker.id, error.reply ?? null, ms / 1000);
        log.warn({ ...where, retryInSeconds: Math.round(ms / 1000) }, 'delivery will be retried');
        return { until: new Date(Date.now() + ms), why: 'retry' };
      }
    }
  }
  // Sent: from here an error propagates and leaves the row `sending`, never `failed`.
  await ledger.markSent(delivery.id, result.messageId, deps.worker.id, run.id);
  log.info({ delivery: delivery.id, run: run.id, to: delivery.email, messageId: result.messageId }, 'sent');
  // A run that failed early may reach mail.pauseAt's minimum number of sends with a success.
  if (failingRuns.has(run.id) && (await pauseIfFailing(deps, run)) && page) page.runPaused = true;
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
async function pauseIfFailing(deps: SendDeps, run: RunRow): Promise<boolean> {
  failingRuns.add(run.id);
  if (failingRuns.size > 100) failingRuns.delete(failingRuns.values().next().value!);
  const { ratio, after } = deps.config.mail.pauseAt;
  const paused = await deps.ledger.pauseRunIfFailing(run.id, ratio, after);
  if (!paused) return false;
  deps.log.error({ run: run.id, schedule: run.schedule_id, tried: paused.tried, permanent: paused.permanent }, paused.error);
  if (!(await deps.ledger.markRunAlerted(run.id))) return true;
  try {
    const failures = (await deps.ledger.deliveries(run.id)).filter((d) => d.status === 'failed' && d.smtp_reply);
    await deps.transport.send(pauseNotice(deps.config, run, paused, failures));
  } catch (e) {
    deps.log.error({ run: run.id, err: (e as Error).message }, 'could not e-mail the superadmin about the pause; crier status shows it');
  }
  return true;
}
