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
  /** The run with its snapshot (cached: it never changes once taken). */
  snapshotRun(id: number): Promise<RunRow | undefined>;
}

export type DeliverOutcome = 'sent' | 'failed' | 'not-claimed';

/** A temporary failure the queue should retry; the ledger already says so. */
export class RetryLater extends Error {}

/**
 * Sends one delivery exactly once: claims the row (pending → sending) in one statement, sends,
 * then marks it sent with its Message-ID. A row another worker holds, or that is settled, is
 * left alone. A temporary failure goes back to pending with its error (and throws RetryLater
 * unless this was the last attempt, which marks it failed); a permanent one is failed at once.
 * Once the SMTP server may have the message, nothing marks it failed or pending again: an error
 * there (the connection lost during DATA, the ledger unreachable) leaves it `sending`, which
 * `crier status` reports for a person to check.
 */
export async function deliver(deps: SendDeps, deliveryId: number, opts: { lastAttempt: boolean }): Promise<DeliverOutcome> {
  const { ledger, log } = deps;
  // Everything that can fail for reasons of its own is read before the claim, so a claimed row
  // never waits for a retry that will find it claimed.
  const peek = await ledger.deliveryRunId(deliveryId);
  if (!peek || peek.status !== 'pending') return 'not-claimed';
  const run = (await deps.snapshotRun(peek.runId))!;
  const schedule = (await deps.schedules()).get(run.schedule_id);
  const delivery = await ledger.claimDelivery(deliveryId);
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
    result = await deps.transport.send(message);
  } catch (e) {
    const error = e as Error;
    if (error instanceof SendError && error.uncertain) {
      await ledger.markUncertain(delivery.id, error.message);
      log.error({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery outcome unknown: left as sending, not resent');
      return 'failed';
    }
    const permanent = !(error instanceof SendError) || error.permanent;
    if (permanent || opts.lastAttempt) {
      await ledger.markFailed(delivery.id, error.message);
      log.error({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery failed');
      await ledger.completeRunIfSettled(run.id);
      return 'failed';
    }
    await ledger.markRetry(delivery.id, error.message);
    log.warn({ delivery: delivery.id, run: run.id, to: delivery.email, err: error.message }, 'delivery will be retried');
    throw new RetryLater(error.message);
  }
  // Sent: from here an error propagates and leaves the row `sending`, never `failed`.
  await ledger.markSent(delivery.id, result.messageId);
  log.info({ delivery: delivery.id, run: run.id, to: delivery.email, messageId: result.messageId }, 'sent');
  await ledger.completeRunIfSettled(run.id);
  return 'sent';
}
