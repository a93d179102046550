import type { Logger } from 'pino';
import type { CrierConfig } from '../config/load.ts';
import { Ledger, type RunRow } from '../ledger/ledger.ts';
import { Platform } from '../platform/platform.ts';
import { createLogger } from '../log.ts';
import type { SharedPools } from '../db.ts';
import { roundReader } from '../inbound/rounds.ts';
import type { RoundReader } from '../kit/rounds.ts';
import { resolveSchedules, ScheduleBook, type JobRegistry } from './schedules.ts';

export interface CrierOptions {
  /** Clock, for tests and `--from`. */
  now?: () => Date;
  logger?: Logger;
  /** In a deployment of many tenants: the connection pools they share (else this deployment has its own). */
  pools?: SharedPools;
  /**
   * Milliseconds a connection to the ledger or the platform may take (its own pools only). For
   * a command that reports, like doctor, which must not wait forever on a host that silently
   * drops packets; not for workers, whose pools also queue for a free connection under load.
   */
  connectTimeout?: number;
}

/**
 * One Crier deployment as a command opens it: its config, job kinds, ledger, the platform
 * (connected on first use) and its schedules. The engine's functions (queue/, delivery/) ask
 * for the narrow parts they use; the SMTP or outbox transport is made by the process that
 * sends (`crier start`, `crier run`), not here.
 */
export class Crier {
  readonly ledger: Ledger;
  readonly log: Logger;
  readonly now: () => Date;
  /** Project-call rounds and their answers, from the ledger's tables. */
  readonly rounds: RoundReader;
  private platformPromise?: Promise<Platform>;
  private readonly pools?: SharedPools;
  private readonly connectTimeout?: number;
  private bookPromise?: Promise<ScheduleBook>;
  /** Fanned-out runs' snapshots never change: keep the last few instead of re-reading them per recipient. */
  private readonly settledRuns = new Map<number, RunRow>();

  constructor(
    readonly config: CrierConfig,
    readonly jobs: JobRegistry,
    opts: CrierOptions = {},
  ) {
    this.ledger = Ledger.connect(config.crier.database, config.crier.schema, opts.pools, opts.connectTimeout);
    this.connectTimeout = opts.connectTimeout;
    this.pools = opts.pools;
    const log = opts.logger ?? createLogger();
    this.log = config.tenant ? log.child({ tenant: config.tenant }) : log;
    this.now = opts.now ?? (() => new Date());
    this.rounds = roundReader(this.ledger.pool, this.now);
  }

  /** The platform, connected on first use (check and status need it only for defaults). */
  platform(): Promise<Platform> {
    this.platformPromise ??= Platform.connect({ database: this.config.platform.database, tenant: this.config.platform.tenant, url: this.config.platform.url, shared: this.pools, connectTimeout: this.connectTimeout });
    this.platformPromise.catch(() => (this.platformPromise = undefined));
    return this.platformPromise;
  }

  /** The schedules; reads the tenant's zone only if one lacks it. */
  schedules(): Promise<ScheduleBook> {
    this.bookPromise ??= resolveSchedules(this.config, async () => (await this.platform()).info.timezone).then((all) => new ScheduleBook(all, this.jobs, this.config.platform.launch));
    this.bookPromise.catch(() => (this.bookPromise = undefined));
    return this.bookPromise;
  }

  /** A run whose snapshot is taken (fanned out or later), read once per process. */
  async snapshotRun(id: number): Promise<RunRow | undefined> {
    const hit = this.settledRuns.get(id);
    if (hit) return hit;
    const run = await this.ledger.run(id);
    if (run && run.data !== null) {
      this.settledRuns.set(id, run);
      if (this.settledRuns.size > 20) this.settledRuns.delete(this.settledRuns.keys().next().value!);
    }
    return run;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.ledger.close(), this.platformPromise?.then((p) => p.close())]);
  }
}
