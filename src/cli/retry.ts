import { CrierQueues } from '../queue/queues.ts';
import { CommandError, openCrier, type GlobalOptions } from './context.ts';

/**
 * `crier retry RUN --unknown`: a person decided that the deliveries of RUN whose outcome is
 * unknown (handed to the SMTP server, no answer) did not arrive: they go back on the queue.
 */
export async function retry(runId: string, opts: GlobalOptions & { unknown?: boolean }): Promise<number> {
  if (!opts.unknown) throw new CommandError('say what to send again: --unknown (the deliveries whose outcome is unknown)', 2);
  const id = Number(runId);
  if (!Number.isInteger(id) || id <= 0) throw new CommandError(`'${runId}' is not a run id; \`crier status\` lists them`, 2);
  const crier = await openCrier(opts);
  const queues = new CrierQueues(crier.config.crier, crier.ledger, crier.log);
  try {
    await queues.ready();
    await crier.ledger.migrate();
    if (!(await crier.ledger.run(id))) throw new CommandError(`there is no run ${id}; \`crier status\` lists them`);
    const ids = await crier.ledger.retryUnknown(id);
    await queues.enqueueDeliveries(ids, true);
    if (opts.json) process.stdout.write(`${JSON.stringify({ run: id, requeued: ids })}\n`);
    else process.stdout.write(ids.length ? `run ${id}: ${ids.length} delivery(ies) whose outcome was unknown are queued again (${ids.join(', ')})\n` : `run ${id} has no delivery whose outcome is unknown\n`);
    return 0;
  } finally {
    await queues.close();
    await crier.close();
  }
}
