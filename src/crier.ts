import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import type { CrierConfig, ScheduleConfig } from './config/load.ts';
import type { JobKind, PeriodContext, PlannedRun } from './job-kind.ts';
import { nextPlannedRuns, plannedRuns, runsOfOccurrence } from './schedule/plan.ts';
import { Ledger, type RunRow } from './ledger/ledger.ts';
import { Platform } from './platform/platform.ts';
import { previousOccurrence, type Triggers } from './schedule/occurrences.ts';
import { createTransport, type Transport } from './delivery/transport.ts';
import { createLogger } from './log.ts';

/** A schedule with its zone settled (config, else the tenant's core.timezone). */
export interface Schedule extends ScheduleConfig {
  timezone: string;
  triggers: Triggers;
  catchUpMs: number;
}

export interface CrierOptions {
  /** Clock, for tests and `--from`. */
  now?: () => Date;
  logger?: Logger;
  /** Use this transport instead of the config's (tests, preview). */
  transport?: Transport;
}

/**
 * One Crier deployment: its config, job kinds, ledger, platform and transport. The scheduling
 * (schedule/tick.ts), fan-out and delivery (delivery/) and queue wiring (queue/) all work
 * through it; nothing here knows about councils or departments.
 */
export class Crier {
  readonly ledger: Ledger;
  readonly log: Logger;
  readonly now: () => Date;
  private platformPromise?: Promise<Platform>;
  private transportInstance?: Transport;
  private schedulesCache?: Schedule[];
  /** Fanned-out runs' snapshots never change: keep the last few instead of re-reading them per recipient. */
  private readonly settledRuns = new Map<number, RunRow>();

  constructor(
    readonly config: CrierConfig,
    readonly jobs: Map<string, JobKind>,
    private readonly opts: CrierOptions = {},
  ) {
    this.ledger = Ledger.connect(config.crier.database, config.crier.schema);
    this.log = opts.logger ?? createLogger();
    this.now = opts.now ?? (() => new Date());
    this.transportInstance = opts.transport;
  }

  /** The platform, connected on first use (check and status need it only for defaults). */
  platform(): Promise<Platform> {
    this.platformPromise ??= Platform.connect({ database: this.config.platform.database, tenant: this.config.platform.tenant, url: this.config.platform.url });
    this.platformPromise.catch(() => (this.platformPromise = undefined));
    return this.platformPromise;
  }

  get transport(): Transport {
    this.transportInstance ??= createTransport({
      kind: this.config.mail.transport,
      outbox: this.config.mail.outbox,
      smtp: this.config.mail.smtp,
      pool: this.config.mail.pool,
    });
    return this.transportInstance;
  }

  /** Every schedule with its time zone resolved; reads the tenant's zone only if one lacks it. */
  async schedules(): Promise<Schedule[]> {
    if (this.schedulesCache) return this.schedulesCache;
    let tenantZone: string | undefined;
    const out: Schedule[] = [];
    for (const s of this.config.schedules) {
      let timezone = s.timezone;
      if (!timezone) {
        try {
          tenantZone ??= (await this.platform()).info.timezone;
        } catch (e) {
          throw new Error(`schedules.${s.id}.timezone is not set and the platform's core.timezone could not be read (${(e as Error).message}); set timezone: in the schedule`);
        }
        timezone = tenantZone;
      }
      out.push({
        ...s,
        timezone,
        catchUpMs: Duration.fromISO(s.catchUp).toMillis(),
        triggers: { timezone, crons: s.crons, dates: s.dates, afterLaunch: s.afterLaunch, time: s.time, launch: this.config.platform.launch },
      });
    }
    this.schedulesCache = out;
    return out;
  }

  async schedule(id: string): Promise<Schedule> {
    const all = await this.schedules();
    const found = all.find((s) => s.id === id);
    if (!found) throw new Error(`there is no schedule '${id}' in ${this.config.file}; schedules: ${all.map((s) => s.id).join(', ') || 'none'}`);
    return found;
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

  job(name: string): JobKind {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job kind '${name}' in jobs/`);
    return job;
  }

  /** What a job kind is told about one run of a schedule. */
  runContext(schedule: Schedule, occurrence: DateTime, variant = 'default', meta: Record<string, unknown> = {}): PeriodContext & { variant: string; meta: Record<string, unknown> } {
    const launch = this.config.platform.launch ? DateTime.fromISO(this.config.platform.launch, { zone: schedule.timezone }) : undefined;
    const previous = previousOccurrence(schedule.triggers, occurrence.minus({ milliseconds: 1 }));
    return { occurrence: occurrence.setZone(schedule.timezone), timezone: schedule.timezone, launch, previous: previous?.setZone(schedule.timezone), options: schedule.options, variant, meta };
  }

  /** The sends a schedule plans in (after, until] (and overdue "as soon as seen" ones). */
  plannedRuns(schedule: Schedule, after: DateTime, until: DateTime): PlannedRun[] {
    return plannedRuns(this.job(schedule.job), schedule, after, until);
  }

  /**
   * The send `crier run` and `crier preview` act on: the one planned for the occurrence `at`
   * (default: the next send), of `variant` when the job kind plans several.
   */
  pickRun(schedule: Schedule, at: DateTime | undefined, variant?: string): PlannedRun {
    const job = this.job(schedule.job);
    const now = DateTime.fromJSDate(this.now());
    const candidates = at ? runsOfOccurrence(job, schedule, at, now) : this.nextRuns(schedule, now, 50);
    const found = candidates.find((r) => !variant || r.variant === variant);
    if (!found) {
      const variants = [...new Set(candidates.map((r) => r.variant))];
      throw new Error(
        candidates.length
          ? `schedule '${schedule.id}' plans no '${variant}' send${at ? ' for that occurrence' : ''}; variants: ${variants.join(', ')}`
          : `schedule '${schedule.id}' has no further occurrence; pass --at`,
      );
    }
    return found;
  }

  /** The schedule's next `count` sends strictly after `from`. */
  nextRuns(schedule: Schedule, from: DateTime, count: number): PlannedRun[] {
    return nextPlannedRuns(this.job(schedule.job), schedule, from, count);
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.ledger.close(),
      this.transportInstance?.close(),
      this.platformPromise?.then((p) => p.close()),
    ]);
  }
}
