import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime, Duration } from 'luxon';
import { loadConfig, type CrierConfig } from '../config/load.ts';
import type { ConfigError } from '../config/errors.ts';
import { loadTenantDir, loadTenantFile, type TenantConfig } from '../config/tenants.ts';
// Types only: the deployment (the ledger's and the platform's pg, pino) is loaded once a config
// has been read, and the transport (nodemailer's SMTP client, and with it net, tls, dns, zlib)
// by the first send, so a command refusing a config, or one that never sends, starts without them.
import type { Crier, CrierOptions } from '../deployment/deployment.ts';
import type { Transport } from '../delivery/transport.ts';
import { hostname } from 'node:os';
import type { EngineDeps } from '../queue/queues.ts';
import { loadJobKinds } from '../job-registry.ts';

/** Options every command takes. */
export interface GlobalOptions {
  /** Config file (default $CRIER_CONFIG, else config/crier.yaml). */
  config?: string;
  /** A folder of tenant configs beside a defaults.yaml (default $CRIER_CONFIGS): a deployment of many tenants. */
  configs?: string;
  /** The tenant a command is about, in a deployment of many. */
  tenant?: string;
  /** Machine-readable output (a contract). */
  json?: boolean;
}

/** An error the command reports and exits with `code` on. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export function configPath(opts: GlobalOptions): string {
  return path.resolve(opts.config ?? process.env.CRIER_CONFIG ?? 'config/crier.yaml');
}

/** The folder of tenant configs, when the command is given one. */
function configsDir(opts: GlobalOptions): string | undefined {
  const dir = opts.configs ?? (opts.config ? undefined : process.env.CRIER_CONFIGS);
  return dir ? path.resolve(dir) : undefined;
}

/**
 * The tenants of a deployment of many (`--configs DIR`, or a config file with `tenants:`);
 * undefined for a deployment of one.
 */
export async function readTenants(opts: GlobalOptions): Promise<TenantConfig[] | undefined> {
  const jobs = await loadJobKinds();
  const dir = configsDir(opts);
  if (dir) return loadTenantDir(dir, { jobs });
  const file = configPath(opts);
  // Most configs are a deployment of one: parsed once, by readConfig, unless the file has tenants:.
  if (!existsSync(file) || !/^tenants[ \t]*:/m.test(readFileSync(file, 'utf8'))) return undefined;
  return loadTenantFile(file, { jobs });
}

/**
 * The config a command works on: the file's, or in a deployment of many the tenant named by
 * `--tenant` (refused with its own errors when its file is broken).
 */
export async function readConfig(opts: GlobalOptions): Promise<CrierConfig> {
  const tenants = await readTenants(opts);
  if (!tenants) {
    if (opts.tenant) throw new CommandError(`--tenant ${opts.tenant}: ${path.relative(process.cwd(), configPath(opts))} is a deployment of one (no tenants:); leave --tenant out, or pass --configs DIR`, 2);
    return loadConfig(configPath(opts), { jobs: await loadJobKinds() });
  }
  const ids = tenants.map((t) => t.id).join(', ');
  if (!opts.tenant) throw new CommandError(`this deployment has ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} (${ids}); name one with --tenant ID`, 2);
  const tenant = tenants.find((t) => t.id === opts.tenant);
  if (!tenant) throw new CommandError(`--tenant ${opts.tenant}: no such tenant; the tenants are ${ids}`, 2);
  if (tenant.error) throw tenant.error;
  return tenant.config!;
}

export async function openCrier(opts: GlobalOptions, crierOpts: CrierOptions = {}): Promise<Crier> {
  const config = await readConfig(opts);
  const [{ Crier }, jobs] = await Promise.all([import('../deployment/deployment.ts'), loadJobKinds()]);
  return new Crier(config, jobs, crierOpts);
}

/**
 * The transport of the config (SMTP or the outbox), made by the process that sends: the real one
 * is made (its module loaded) by the first send, so `crier run` of a run with nothing to send,
 * or that fails before sending, never loads nodemailer.
 */
export function transportOf(crier: Crier): Transport {
  const mail = crier.config.mail;
  let made: Promise<Transport> | undefined;
  const real = () => (made ??= import('../delivery/transport.ts').then((t) => t.createTransport({ kind: mail.transport, outbox: mail.outbox, smtp: mail.smtp, pool: mail.pool, dkim: mail.dkim })));
  return {
    kind: mail.transport,
    send: async (message, hooks) => (await real()).send(message, hooks),
    close: async () => {
      if (made) await (await made).close();
    },
  };
}

/** This process as a worker in a ledger: what its claims carry, and what its heartbeat keeps alive. */
export function processWorker(crier: Crier): EngineDeps['worker'] {
  return { id: `${hostname()}:${process.pid}:${globalThis.crypto.randomUUID().slice(0, 8)}`, leaseSeconds: Duration.fromISO(crier.config.crier.lease).as('seconds') };
}

/** The parts of a deployment the workers use, with the process's transport (and its worker id, when it serves several tenants). */
export function engineOf(crier: Crier, transport: Transport, worker = processWorker(crier)): EngineDeps {
  return {
    config: crier.config,
    ledger: crier.ledger,
    log: crier.log,
    now: crier.now,
    transport,
    worker,
    rounds: crier.rounds,
    platform: () => crier.platform(),
    schedules: () => crier.schedules(),
    snapshotRun: (id) => crier.snapshotRun(id),
  };
}

/**
 * An instant from the command line. With an offset or Z it is that instant; without one it is
 * wall-clock time in `zone` (the schedule's), which is how a superadmin thinks of "--at 2027-01-04T09:00".
 */
export function parseInstant(text: string, zone: string, flag: string): DateTime {
  const dt = DateTime.fromISO(text.trim().replace(' ', 'T'), { zone, setZone: true });
  if (!dt.isValid) throw new CommandError(`${flag} '${text}' is not an ISO-8601 date-time; write e.g. 2027-01-04T09:00 (schedule time) or 2027-01-04T08:00:00Z`, 2);
  return dt;
}

/** Prints a ConfigError the way the contract says and returns exit code 2. */
export function reportConfigError(e: ConfigError, json: boolean | undefined): number {
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, errors: e.issues }, null, 2)}\n`);
  else process.stderr.write(`The config is refused; nothing was changed.\n${e.message}\n`);
  return 2;
}
