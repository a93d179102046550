import { CrierQueues } from '../queue/queues.ts';
import { resumeRun, retryRun } from '../queue/actions.ts';
import type { Crier } from '../deployment/deployment.ts';
import { CommandError, openCrier, type GlobalOptions } from './context.ts';

/** A run id from the command line. */
function runIdOf(text: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id <= 0) throw new CommandError(`'${text}' is not a run id; \`crier status\` lists them`, 2);
  return id;
}

/** Opens the deployment and its queues for a command that puts a run's deliveries back on them. */
async function withQueues<T>(opts: GlobalOptions, id: number, fn: (crier: Crier, queues: CrierQueues) => Promise<T>): Promise<T> {
  const crier = await openCrier(opts);
  const queues = CrierQueues.open(crier.config, crier.ledger, crier.log);
  try {
    await queues.ready();
    await crier.ledger.migrate();
    if (!(await crier.ledger.run(id))) throw new CommandError(`there is no run ${id}; \`crier status\` lists them`);
    return await fn(crier, queues);
  } finally {
    await queues.close();
    await crier.close();
  }
}

const print = (opts: GlobalOptions, json: unknown, text: string) => process.stdout.write(opts.json ? `${JSON.stringify(json)}\n` : `${text}\n`);

/**
 * `crier retry RUN`: the run's failed deliveries go back on the queue (not those whose address
 * is now suppressed: a person lifts that first). `--unknown`: instead, the deliveries whose
 * outcome is unknown (handed to the SMTP server, no answer), once a person decided they did not arrive.
 */
export async function retry(runId: string, opts: GlobalOptions & { unknown?: boolean }): Promise<number> {
  const id = runIdOf(runId);
  return withQueues(opts, id, async (crier, queues) => {
    const { requeued, suppressed } = await retryRun(crier.ledger, queues, id, { unknown: opts.unknown });
    if (opts.unknown) {
      print(opts, { run: id, requeued }, requeued.length ? `run ${id}: ${requeued.length} delivery(ies) whose outcome was unknown are queued again (${requeued.join(', ')})` : `run ${id} has no delivery whose outcome is unknown`);
      return 0;
    }
    const kept = suppressed.length ? `; ${suppressed.length} stay failed because their address is suppressed (${suppressed.join(', ')}): \`crier suppressions remove ADDRESS\` first` : '';
    print(opts, { run: id, requeued, suppressed }, `${requeued.length ? `run ${id}: ${requeued.length} failed delivery(ies) are queued again` : `run ${id} has no failed delivery to send again`}${kept}`);
    return 0;
  });
}

/** `crier resume RUN`: a run that paused itself (mail.pauseAt) continues with its waiting deliveries. */
export async function resume(runId: string, opts: GlobalOptions): Promise<number> {
  const id = runIdOf(runId);
  return withQueues(opts, id, async (crier, queues) => {
    const resumed = await resumeRun(crier.ledger, queues, id);
    if (!resumed.resumed) throw new CommandError(`run ${id} is ${resumed.status}, not paused; only a paused run can be resumed`);
    const pending = resumed.requeued;
    print(opts, { run: id, resumed: true, requeued: pending }, `run ${id} continues: ${pending.length} waiting delivery(ies) are queued; its failed ones stay failed (crier retry ${id} sends them again)`);
    return 0;
  });
}
