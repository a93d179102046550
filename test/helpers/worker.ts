import { loadConfig } from '../../src/config/load.ts';
import { Crier } from '../../src/crier.ts';
import { loadJobKinds } from '../../src/job-registry.ts';
import { CrierQueues, startWorkers } from '../../src/queue/queues.ts';
import { tick, type TickResult } from '../../src/schedule/tick.ts';

/**
 * One worker process's minute, in this process, with the clock at `now`: tick, then work the
 * queues until every run is settled. What `crier start` does, minus the waiting for the minute.
 */
export async function tickAndWork(configFile: string, now: Date): Promise<TickResult> {
  const jobs = await loadJobKinds();
  const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { now: () => now });
  await crier.ledger.migrate();
  const queues = new CrierQueues(crier);
  const workers = startWorkers(crier, queues, { tick: false });
  try {
    const result = await tick(crier, now);
    await queues.enqueueOpenWork();
    for (let i = 0; i < 300; i++) {
      const { rows } = await crier.ledger.pool.query(`SELECT count(*)::int AS n FROM runs WHERE status IN ('due', 'fanned-out')`);
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return result;
  } finally {
    await workers.close();
    await queues.close();
    await crier.close();
  }
}
