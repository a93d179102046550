import type { Crier } from '../deployment/deployment.ts';
import { TenantMissingError } from '../platform/platform.ts';
import { openCrier, type GlobalOptions } from './context.ts';

/** `crier demo`: (re)creates the demo tenant named by platform.tenant in platform.database. */
export async function demo(opts: GlobalOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    const started = Date.now();
    const { createDemoTenant } = await import('../demo/demo-tenant.ts');
    const report = await createDemoTenant({ databaseUrl: crier.config.platform.database, host: crier.config.platform.tenant, launch: crier.config.platform.launch });
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(`Demo tenant ${crier.config.platform.tenant} (schema ${report.schema}) created in ${((Date.now() - started) / 1000).toFixed(1)} s; launch ${report.launch}.\n`);
      for (const [table, n] of Object.entries(report.counts)) process.stdout.write(`  ${table.padEnd(32)} ${n}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}

/** With platform.demo: true, a missing tenant is created instead of refused. */
export async function ensureDemoTenant(crier: Crier): Promise<void> {
  try {
    await crier.platform();
  } catch (e) {
    if (!(e instanceof TenantMissingError) || !crier.config.platform.demo) throw e;
    crier.log.info({ platform: e.tenant }, 'creating the demo tenant (platform.demo: true)');
    // Loaded only here: the generator is not part of a production worker's path.
    const { createDemoTenant } = await import('../demo/demo-tenant.ts');
    await createDemoTenant({ databaseUrl: crier.config.platform.database, host: crier.config.platform.tenant, launch: crier.config.platform.launch });
    await crier.platform();
  }
}
