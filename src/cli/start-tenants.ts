import pLimit from 'p-limit';
import { ConfigError } from '../config/errors.ts';
import type { TenantConfig } from '../config/tenants.ts';
import { SharedPools } from '../db.ts';
import { Crier } from '../deployment/deployment.ts';
import { loadJobKinds } from '../job-registry.ts';
import { createLogger } from '../log.ts';
import { CrierQueues, startWorkers, tickTenants, type Tenancy, type TenantWork } from '../queue/queues.ts';
import { engineOf, processWorker, transportOf } from './context.ts';
import { ensureDemoTenant } from './demo.ts';
import { startInbound, untilSignal } from './serving.ts';

/** Ledgers migrated (and demo tenants checked) at once when a deployment of many starts. */
const MIGRATIONS_AT_ONCE = 4;

/**
 * `crier start --configs DIR` (or a config with `tenants:`): one process for every tenant. A
 * tenant whose config is refused is logged with its errors (file, line, field) and left out;
 * the others run. They share the queues, the tick, the send slots and the connection pools;
 * each has its own ledger schema, audiences, schedules, suppressions, daily cap and mailbox.
 */
export async function startTenants(tenants: TenantConfig[]): Promise<number> {
  const log = createLogger();
  for (const t of tenants.filter((x) => x.error)) {
    log.error({ tenant: t.id, file: t.file, errors: t.error!.issues.map((i) => `${i.file}: line ${i.line}, column ${i.column}, ${i.path}: ${i.message}`) }, 'tenant refused: its config has errors; the other tenants run');
  }
  const valid = tenants.filter((t) => t.config);
  if (!valid.length) throw new ConfigError(tenants.flatMap((t) => t.error?.issues ?? []));
  const jobs = await loadJobKinds();
  const pools = new SharedPools();
  const cruise = valid.map((t) => new Crier(t.config!, jobs, { logger: log, pools }));
  const first = cruise[0];
  const queues = CrierQueues.open({ ...first.config, tenant: undefined }, first.ledger, log);
  const closeAll = async () => {
    await queues.close();
    await Promise.allSettled(cruise.map((c) => c.close()));
    await pools.close();
  };
  try {
    await queues.ready();
    // The tenants' ledgers in parallel; demo tenants one by one, as two may name the same one.
    const migrations = pLimit(MIGRATIONS_AT_ONCE);
    await Promise.all(cruise.map((crier) => migrations(() => crier.ledger.migrate())));
    // A tenant whose platform does not answer (its schema missing, its database down) runs all
    // the same: its work is tried again at each tick and /readyz names it. Only when no tenant's
    // platform answers does the start fail, as a deployment of one does.
    const unanswered: Error[] = [];
    for (const crier of cruise) {
      await ensureDemoTenant(crier).catch((e: Error) => {
        crier.log.error({ err: e.message }, "the tenant's platform does not answer; the tenant runs, tried again at each tick (/readyz names it)");
        unanswered.push(e);
      });
    }
    if (unanswered.length === cruise.length) throw unanswered[0];
  } catch (e) {
    await closeAll();
    throw e;
  }
  for (const problem of await queues.checkSettings()) log.warn(problem);
  await queues.scheduleTick();
  // One worker id for the process: its claims in every tenant's ledger are renewed by one heartbeat.
  const worker = processWorker(first);
  const all: TenantWork[] = cruise.map((crier) => ({ engine: { ...engineOf(crier, transportOf(crier)), worker }, queues: queues.forTenant(crier.config.tenant!, crier.ledger) }));
  const tenancy: Tenancy = { all, config: first.config, log };
  const workers = startWorkers(tenancy, queues);
  for (const crier of cruise) {
    const book = await crier.schedules().catch((e: Error) => {
      crier.log.error({ err: e.message }, 'schedules could not be read (the platform?); tried again at each tick');
      return undefined;
    });
    if (book) crier.log.info({ ledger: crier.config.crier.schema, platform: crier.config.platform.tenant, schedules: book.all.filter((s) => s.enabled).length }, 'tenant loaded');
  }
  await tickTenants(all, { sweepAll: true });
  const inbound = await Promise.all(cruise.map((crier) => startInbound(crier)));
  let http: { close(): Promise<void> } = { close: async () => undefined };
  const settings = first.config.http;
  try {
    if (settings) {
      const { startHttpServer } = await import('../http/server.ts');
      const server = await startHttpServer(first, { host: settings.host, port: settings.port, queues, tenants: cruise, refused: tenants.filter((t) => t.error), log });
      log.info({ url: server.url, tenants: cruise.length, admin: Boolean(settings.admin) }, 'http endpoint listening');
      http = server;
    }
  } catch (e) {
    await Promise.allSettled(inbound.map((i) => i.close()));
    await workers.close();
    await closeAll();
    throw e;
  }
  log.info({ tenants: cruise.length, refused: tenants.length - cruise.length }, 'crier started');
  await untilSignal(log);
  await http.close();
  await Promise.allSettled(inbound.map((i) => i.close()));
  await workers.close();
  await closeAll();
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  return 0;
}
