import { DateTime } from 'luxon';
import { nextOccurrences, occurrencesBetween, type Triggers } from './occurrences.ts';

/** What a job kind is told when it plans a schedule's sends. */
export interface PlanContext<O extends Record<string, unknown> = Record<string, unknown>> {
  scheduleId: string;
  timezone: string;
  options: O;
  /** The clock: what is already past decides, e.g., whether a cancellation is owed. */
  now: DateTime;
}

/** One send a schedule plans: becomes one run, unique per (schedule, key). */
export interface PlannedRun {
  /** Unique per schedule, stable across restarts and config reloads. */
  key: string;
  /** When it is due. */
  at: DateTime;
  /** Which message this is (e.g. invitation, agenda); passed to the job kind. */
  variant: string;
  /**
   * Details for the job kind (e.g. the meeting's uid, time and sequence), stored with the run.
   * Two keys the engine reads: `audience` (audience ids) sends this run to other audiences
   * than the schedule's, `recipients` ([{email, name, locale}]) to exactly these people.
   */
  meta: Record<string, unknown>;
  /** The trigger occurrence it belongs to (the meeting), for periods and display. */
  occurrence: DateTime;
  /**
   * Sent as soon as it is seen, even if `at` passed before anything looked, as long as the
   * clock is before this (a moved meeting's new invitation, before the meeting).
   */
  asapUntil?: DateTime;
  /**
   * Only when this schedule already sent a run whose key starts with this (a cancellation
   * needs a sent invitation); checked at each tick until `asapUntil`.
   */
  requires?: string;
}

/** What planning asks of a job kind: its own plan of sends per trigger occurrence, if it has one. */
export interface Planner {
  plan?(occurrences: DateTime[], ctx: PlanContext): PlannedRun[];
}

/** What a schedule's planning needs: its triggers, zone and job options. */
export interface PlanInput {
  id: string;
  triggers: Triggers;
  timezone: string;
  options: Record<string, unknown>;
}

const ctxOf = (s: PlanInput, now: DateTime) => ({ scheduleId: s.id, timezone: s.timezone, options: s.options, now });

/** How far around a window trigger occurrences are read for job kinds that plan their own sends. */
const PLAN_HORIZON = { days: 400 };

/** The run key of a plain occurrence: the instant in UTC, as ISO-8601. */
export function occurrenceKey(occurrence: Date): string {
  return occurrence.toISOString();
}

/** A plain occurrence as a run: keyed by its instant. */
function plain(at: DateTime): PlannedRun {
  return { key: occurrenceKey(at.toJSDate()), at, variant: 'default', meta: {}, occurrence: at };
}

/**
 * The runs a schedule plans whose time falls in (after, until], plus the "as soon as seen"
 * ones (a moved meeting's new invitation) whose time has passed but whose deadline has not.
 * A job kind without `plan` sends once per trigger occurrence.
 */
export function plannedRuns(job: Planner, s: PlanInput, after: DateTime, until: DateTime): PlannedRun[] {
  if (!job.plan) return occurrencesBetween(s.triggers, after, until).map(plain);
  const bases = occurrencesBetween(s.triggers, after.minus(PLAN_HORIZON), until.plus(PLAN_HORIZON));
  return job
    .plan(bases, ctxOf(s, until))
    .filter((r) => (r.at > after && r.at <= until) || (r.asapUntil !== undefined && r.at <= after && until < r.asapUntil))
    .sort((a, b) => a.at.toMillis() - b.at.toMillis());
}

/** The next `count` planned runs strictly after `from`. */
export function nextPlannedRuns(job: Planner, s: PlanInput, from: DateTime, count: number): PlannedRun[] {
  if (!job.plan) return nextOccurrences(s.triggers, from, count).map(plain);
  const bases = [...occurrencesBetween(s.triggers, from.minus(PLAN_HORIZON), from), ...nextOccurrences(s.triggers, from, count + 8)];
  return job
    .plan(bases, ctxOf(s, from))
    .filter((r) => r.at > from)
    .sort((a, b) => a.at.toMillis() - b.at.toMillis())
    .slice(0, count);
}

/** The runs one trigger occurrence plans (for `crier run` and `preview` with --at). */
export function runsOfOccurrence(job: Planner, s: PlanInput, occurrence: DateTime, now: DateTime): PlannedRun[] {
  return job.plan ? job.plan([occurrence], ctxOf(s, now)) : [plain(occurrence)];
}
