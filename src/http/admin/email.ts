import type { Crier } from '../../deployment/deployment.ts';
import type { DeliveryRow, RunRow } from '../../ledger/ledger.ts';
import { composeDelivery } from '../../delivery/send.ts';
import type { OutgoingMessage } from '../../delivery/transport.ts';
import * as Q from '../queries.ts';

/** A delivery's e-mail, composed again; or why it cannot be. */
export type ComposedEmail = { run: RunRow; delivery: DeliveryRow; message: OutgoingMessage } | { missing: string };

/**
 * A delivery's e-mail as it was sent: the ledger keeps no copy of a message, so it is composed
 * again from what the send composed it from (the run's snapshot, the delivery's recipient) by
 * the send path's own function. The platform is read for its facts (name, languages, URL)
 * only, as a send does; the figures are the snapshot's.
 */
export async function composeSentEmail(crier: Crier, runId: number, deliveryId: number): Promise<ComposedEmail> {
  const delivery: DeliveryRow | undefined = (await crier.ledger.pool.query(Q.DELIVERY_OF_RUN, [runId, deliveryId])).rows[0];
  if (!delivery) return { missing: `run ${runId} has no delivery ${deliveryId}` };
  if (delivery.status === 'skipped') return { missing: `delivery ${deliveryId} was skipped (${delivery.reason ?? 'no reason'}): no e-mail was made for it` };
  const run = await crier.snapshotRun(runId);
  if (!run || run.data === null) return { missing: `run ${runId} has no snapshot yet` };
  const schedule = (await crier.schedules()).all.find((s) => s.id === run.schedule_id);
  if (!schedule) return { missing: `schedule '${run.schedule_id}' is no longer in the config, so its e-mail cannot be composed again` };
  const { message } = await composeDelivery(crier, { run, schedule }, delivery);
  return { run, delivery, message };
}
