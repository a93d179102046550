import { loadConfig } from '../../src/config/load.ts';
import { Crier } from '../../src/deployment/deployment.ts';
import { loadJobKinds } from '../../src/job-registry.ts';
import { engineOf, transportOf } from '../../src/cli/context.ts';
import { CrierQueues, startWorkers, type EngineDeps } from '../../src/queue/queues.ts';
import { tick, type TickResult } from '../../src/queue/tick.ts';

/** A worker process of a config, in this process, with the clock at `now`: what `crier start` wires up. */
export async function openEngine(configFile: string, now?: Date): Promise<{ crier: Crier; engine: EngineDeps; queues: CrierQueues; close(): Promise<void> }> {
  const jobs = await loadJobKinds();
  const crier = new Crier(loadConfig(configFile, { jobs }), jobs, now ? { now: () => now } : {});
  await crier.ledger.migrate();
  const transport = transportOf(crier);
  const engine = engineOf(crier, transport);
  const queues = new CrierQueues(crier.config.crier, crier.ledger, crier.log, Boolean(crier.config.mail.rateLimit));
  return {
    crier,
    engine,
    queues,
    async close() {
      await queues.close();
      await transport.close();
      await crier.close();
    },
  };
}

/**
 * One worker process's minute, in this process, with the clock at `now`: tick, then work the
 * queues until every run is settled. What `crier start` does, minus the waiting for the minute.
 */
export async function tickAndWork(configFile: string, now: Date): Promise<TickResult> {
  const { crier, engine, queues, close } = await openEngine(configFile, now);
  const workers = startWorkers(engine, queues, { tick: false });
  try {
    const result = await tick(engine, now);
    await queues.enqueueOpenWork();
    for (let i = 0; i < 300; i++) {
      const { rows } = await crier.ledger.pool.query(`SELECT count(*)::int AS n FROM runs WHERE status IN ('due', 'fanned-out')`);
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return result;
  } finally {
    await workers.close();
    await close();
  }
}
