import path from 'node:path';
import { DateTime, Duration } from 'luxon';
import { loadConfig, type CrierConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { Crier, type CrierOptions } from '../deployment/deployment.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createTransport, type Transport } from '../delivery/transport.ts';
import type { EngineDeps } from '../queue/queues.ts';
import { loadJobKinds } from '../job-registry.ts';

/** Options every command takes. */
export interface GlobalOptions {
  /** Config file (default $CRIER_CONFIG, else config/crier.yaml). */
  config?: string;
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

export async function readConfig(opts: GlobalOptions): Promise<CrierConfig> {
  return loadConfig(configPath(opts), { jobs: await loadJobKinds() });
}

export async function openCrier(opts: GlobalOptions, crierOpts: CrierOptions = {}): Promise<Crier> {
  const config = await readConfig(opts);
  return new Crier(config, await loadJobKinds(), crierOpts);
}

/** The transport of the config (SMTP or the outbox), made by the process that sends. */
export function transportOf(crier: Crier): Transport {
  const mail = crier.config.mail;
  return createTransport({ kind: mail.transport, outbox: mail.outbox, smtp: mail.smtp, pool: mail.pool, dkim: mail.dkim });
}

/** The parts of a deployment the workers use, with the process's transport. */
export function engineOf(crier: Crier, transport: Transport): EngineDeps {
  return {
    config: crier.config,
    ledger: crier.ledger,
    log: crier.log,
    now: crier.now,
    transport,
    // One id per process: what its claims carry, and what its heartbeat keeps alive.
    worker: { id: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, leaseSeconds: Duration.fromISO(crier.config.crier.lease).as('seconds') },
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
