import { DateTime, Duration } from 'luxon';
import type { CrierConfig, ScheduleConfig } from '../config/load.ts';
import type { JobKind, PeriodContext, PlannedRun } from '../kit/contract.ts';
import { previousOccurrence, type Triggers } from '../schedule/occurrences.ts';
import { nextPlannedRuns, plannedRuns, runsOfOccurrence, type Planner } from '../schedule/plan.ts';
import { isReviewVariant, withReview } from '../review/plan.ts';
import { reviewKind } from '../review/kind.ts';

/** A schedule with its zone settled (config, else the tenant's core.timezone). */
export interface Schedule extends ScheduleConfig {
  timezone: string;
  triggers: Triggers;
  catchUpMs: number;
}

/** The job kinds of a deployment, by name (src/job-registry.ts loads them). */
export type JobRegistry = ReadonlyMap<string, JobKind>;

/**
 * Every schedule of one deployment with its job kind, and the time questions the engine asks
 * of them: what a run covers, which sends fall in a window, which one `crier run` means.
 */
export class ScheduleBook {
  constructor(
    readonly all: Schedule[],
    readonly jobs: JobRegistry,
    /** platform.launch, a local date. */
    private readonly launch?: string,
  ) {}

  get(id: string, file = 'the config'): Schedule {
    const found = this.all.find((s) => s.id === id);
    if (!found) throw new Error(`there is no schedule '${id}' in ${file}; schedules: ${this.all.map((s) => s.id).join(', ') || 'none'}`);
    return found;
  }

  job(name: string): JobKind {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job kind '${name}' in jobs/`);
    return job;
  }

  /**
   * The job kind that renders a run: the schedule's, or for a review round the review e-mail
   * wrapped around it (the draft is the kind's own e-mail).
   */
  kindOf(name: string, variant: string): JobKind {
    const job = this.job(name);
    return isReviewVariant(variant) ? reviewKind(job) : job;
  }

  /** What plans a schedule's sends: its job kind, with a review round before each reviewed send when it has `review:`. */
  private planner(schedule: Schedule): Planner {
    const job = this.job(schedule.job);
    if (!schedule.review) return job;
    let kept = this.planners.get(schedule);
    if (!kept) this.planners.set(schedule, (kept = withReview(job, schedule.review)));
    return kept;
  }

  private readonly planners = new WeakMap<Schedule, Planner>();

  /** What a job kind is told about one run of a schedule. */
  runContext(schedule: Schedule, occurrence: DateTime, variant = 'default', meta: Record<string, unknown> = {}): PeriodContext & { variant: string; meta: Record<string, unknown> } {
    const launch = this.launch ? DateTime.fromISO(this.launch, { zone: schedule.timezone }) : undefined;
    const previous = previousOccurrence(schedule.triggers, occurrence.minus({ milliseconds: 1 }));
    return { scheduleId: schedule.id, occurrence: occurrence.setZone(schedule.timezone), timezone: schedule.timezone, launch, previous: previous?.setZone(schedule.timezone), options: schedule.options, variant, meta };
  }

  /**
   * The sends a schedule plans in (after, until] (and overdue "as soon as seen" ones), at their
   * time moved into the schedule's send window (src/schedule/plan.ts).
   */
  plannedRuns(schedule: Schedule, after: DateTime, until: DateTime): PlannedRun[] {
    return plannedRuns(this.planner(schedule), schedule, after, until);
  }

  /** The schedule's next `count` sends strictly after `from`, at their time moved into its send window. */
  nextRuns(schedule: Schedule, from: DateTime, count: number): PlannedRun[] {
    return nextPlannedRuns(this.planner(schedule), schedule, from, count);
  }

  /**
   * The send `crier run` and `crier preview` act on: the one planned for the occurrence `at`
   * (default: the next send after `now`), of `variant` when the job kind plans several; its
   * `at` is moved into the send window, its key and occurrence are the planned ones.
   */
  pickRun(schedule: Schedule, at: DateTime | undefined, variant: string | undefined, now: DateTime): PlannedRun {
    const job = this.planner(schedule);
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
}

/** The config's schedules with their zones; `tenantZone` is asked only if one lacks a zone. */
export async function resolveSchedules(config: CrierConfig, tenantZone: () => Promise<string>): Promise<Schedule[]> {
  let zone: string | undefined;
  const out: Schedule[] = [];
  for (const s of config.schedules) {
    let timezone = s.timezone;
    if (!timezone) {
      try {
        zone ??= await tenantZone();
      } catch (e) {
        throw new Error(`schedules.${s.id}.timezone is not set and the platform's core.timezone could not be read (${(e as Error).message}); set timezone: in the schedule`);
      }
      timezone = zone;
    }
    out.push({
      ...s,
      timezone,
      catchUpMs: Duration.fromISO(s.catchUp).toMillis(),
      triggers: { timezone, crons: s.crons, dates: s.dates, afterLaunch: s.afterLaunch, time: s.time, launch: config.platform.launch },
    });
  }
  return out;
}
