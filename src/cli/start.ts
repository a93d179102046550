import { DateTime } from 'luxon';
import { CrierQueues, startWorkers } from '../queue/queues.ts';
import { nextOccurrences } from '../schedule/occurrences.ts';
import { tick } from '../queue/tick.ts';
import type { Crier } from '../deployment/deployment.ts';
import { engineOf, openCrier, readTenants, transportOf, type GlobalOptions } from './context.ts';
import { startInbound, untilSignal } from './serving.ts';
import { ensureDemoTenant } from './demo.ts';


/**
 * The web endpoint, when the config has `http:`: health and metrics, one-click unsubscribe
 * (behind a reverse proxy that terminates TLS and answers at http.publicUrl), the dashboard.
 */
async function startHttp(crier: Crier, queues: CrierQueues): Promise<{ close(): Promise<void> }> {
  const http = crier.config.http;
  if (!http) return { close: async () => undefined };
  const server = await (await import('../http/server.ts')).startHttpServer(crier, { host: http.host, port: http.port, queues });
  crier.log.info({ url: server.url, publicUrl: http.publicUrl, unsubscribe: Boolean(http.secrets), admin: Boolean(http.admin) }, 'http endpoint listening');
  return server;
}

/**
 * `crier start`: the scheduler and worker. Migrates the ledger, upserts the minute tick, ticks
 * once at once (so a restart catches up without waiting a minute) and works the queues until
 * SIGTERM or SIGINT.
 */
export async function start(opts: GlobalOptions): Promise<number> {
  // A deployment of many tenants (--configs DIR, or tenants: in the file) starts them all.
  const tenants = opts.tenant ? undefined : await readTenants(opts);
  if (tenants) return (await import('./start-tenants.ts')).startTenants(tenants);
  const crier = await openCrier(opts);
  const queues = CrierQueues.open(crier.config, crier.ledger, crier.log);
  try {
    await queues.ready();
    await crier.ledger.migrate();
    await ensureDemoTenant(crier);
  } catch (e) {
    await queues.close();
    await crier.close();
    throw e;
  }
  for (const problem of await queues.checkSettings()) crier.log.warn(problem);
  await queues.scheduleTick();
  const transport = transportOf(crier);
  const engine = engineOf(crier, transport);
  const workers = startWorkers(engine, queues);
  const now = DateTime.fromJSDate(crier.now());
  for (const s of (await crier.schedules()).all) {
    const next = nextOccurrences(s.triggers, now, 1)[0];
    crier.log.info({ schedule: s.id, job: s.job, timezone: s.timezone, next: next?.setZone(s.timezone).toISO() ?? null, enabled: s.enabled }, 'schedule loaded');
  }
  await tick(engine);
  await queues.enqueueOpenWork();
  const inbound = await startInbound(crier);
  let http: { close(): Promise<void> };
  try {
    http = await startHttp(crier, queues);
  } catch (e) {
    // The port is taken, say: stop what runs already, so the error ends the process.
    await inbound.close();
    await workers.close();
    await queues.close();
    await transport.close();
    await crier.close();
    throw e;
  }
  crier.log.info({ config: crier.config.file, transport: crier.config.mail.transport }, 'crier started');

  await untilSignal(crier.log);
  await http.close();
  await inbound.close();
  await workers.close();
  await queues.close();
  await transport.close();
  await crier.close();
  // Everything is recorded. A job BullMQ still holds (a send cut off at the deadline) must not
  // keep the process alive past it: the shutdown is bounded.
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  return 0;
}
