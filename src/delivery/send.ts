import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Ledger, RunRow } from '../ledger/ledger.ts';
import { composeMessage, type ComposeDeps } from './compose.ts';
import { runPeriod } from './fan-out.ts';
import { SendError, type SendResult, type Transport } from './transport.ts';

/** What sending one delivery uses: composing, the transport, and the ledger that records it. */
export interface SendDeps extends ComposeDeps {
  ledger: Ledger;
  log: Logger;
  transport: Transport;
  /** This worker process: the claims it makes carry its id and a lease it renews while alive. */
  worker: { id: string; leaseSeconds: number };
  /** The run with its snapshot (cached: it never changes once taken). */
  snapshotRun(id: number): Promise<RunRow | undefined>;
}

export type DeliverOutcome = 'sent' | 'failed' | 'not-claimed';

/** A temporary failure the queue should retry; the ledger already says so. */
export class RetryLater extends Error {}

/**
 * Sends one delivery exactly once: claims the row (pending → sending, under this worker's
 * lease) in one statement, sends, then marks it sent with its Message-ID. A row another worker
 * holds, or that is settled, is left alone. Just before SMTP's final dot the ledger records the
 * hand-over; a connection lost after it, with no answer, makes the delivery `unknown` (never
 * resent without a person). A failure before it is an ordinary temporary failure: back to
 * pending with its error (RetryLater, or failed on the last attempt); a 5xx fails it at once.
 * If this process dies, its lease runs out and the row is released the same way.
 */
export async function deliver(deps: SendDeps, deliveryId: number, opts: { lastAttempt: boolean }): Promise<DeliverOutcome> {
  const { ledger, log } = deps;
  // Everything that can fail for reasons of its own is read before the claim, so a claimed row
  // never waits for a retry that will find it claimed.
  const peek = await ledger.deliveryRunId(deliveryId);
  if (!peek || peek.status !== 'pending') return 'not-claimed';
  const run = (await deps.snapshotRun(peek.runId))!;
  const schedule = (await deps.schedules()).get(run.schedule_id);
  const delivery = await ledger.claimDelivery(deliveryId, deps.worker.id, deps.worker.leaseSeconds);
  if (!delivery) return 'not-claimed';

  let result: SendResult;
  try {
    const occurrence = DateTime.fromJSDate(run.occurrence, { zone: run.timezone });
    const { message } = await composeMessage(deps, {
      schedule,
      data: run.data,
      period: runPeriod(run),
      recipient: { email: delivery.email, name: delivery.name, locale: delivery.locale, userId: delivery.user_id ?? undefined, scope: Object.keys(delivery.scope).length ? delivery.scope : undefined, variant: delivery.variant === 'default' ? undefined : delivery.variant },
      run: { occurrence, variant: run.variant, meta: run.meta },
      runId: run.id,
      deliveryId: delivery.id,
      fileStem: `${occurrence.toFormat('yyyy-MM-dd')}-${run.schedule_id}-${run.id}-${delivery.id}-${delivery.email}`,
    });
    result = await deps.transport.send(message, {
      beforeHandOver: async () => {
        // A claim whose lease ran out (this process stalled) may be another worker's now: stop.
        if (!(await ledger.markHanded(delivery.id, deps.worker.id))) throw new Error(`delivery ${delivery.id} is no longer held by this worker`);
      },
    });
  } catch (e) {
    const error = e as Error;
    if (error instanceof SendError && error.uncertain) {
      await ledger.markUnknown(delivery.id, `${error.message}: the server may or may not have it; crier retry ${run.id} --unknown sends it again`, deps.worker.id);
      log.error({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery outcome unknown: not resent');
      await ledger.completeRunIfSettled(run.id);
      return 'failed';
    }
    const permanent = !(error instanceof SendError) || error.permanent;
    if (permanent || opts.lastAttempt) {
      await ledger.markFailed(delivery.id, error.message, deps.worker.id);
      log.error({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery failed');
      await ledger.completeRunIfSettled(run.id);
      return 'failed';
    }
    await ledger.markRetry(delivery.id, error.message, deps.worker.id);
    log.warn({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery will be retried');
    throw new RetryLater(error.message);
  }
  // Sent: from here an error propagates and leaves the row `sending`, never `failed`.
  await ledger.markSent(delivery.id, result.messageId, deps.worker.id);
  log.info({ delivery: delivery.id, run: run.id, to: delivery.email, messageId: result.messageId }, 'sent');
  await ledger.completeRunIfSettled(run.id);
  return 'sent';
}
