import { DateTime, Duration } from 'luxon';
import { cronMatchesDay, type CronSpec } from './cron.ts';
import { wallTimeToInstant } from './wallclock.ts';

/** What makes a schedule fire; occurrences are the union of all its triggers. */
export interface Triggers {
  /** IANA zone every trigger is read in. */
  timezone: string;
  crons: CronSpec[];
  /** Local date-times "YYYY-MM-DD HH:mm". */
  dates: string[];
  /** ISO-8601 durations after the platform's launch date, at `time`. */
  afterLaunch: string[];
  /** Local "HH:mm" for `afterLaunch` occurrences. */
  time: string;
  /** Local date the platform went live, "YYYY-MM-DD". */
  launch?: string;
}

/** How far ahead a cron is searched for a next occurrence before it is judged to never fire. */
const MAX_SEARCH_DAYS = 366 * 5;

/** Every occurrence in the half-open range (after, until], in time order. */
export function occurrencesBetween(t: Triggers, after: DateTime, until: DateTime): DateTime[] {
  const found = new Map<number, DateTime>();
  const keep = (dt: DateTime) => {
    if (dt > after && dt <= until) found.set(dt.toMillis(), dt);
  };
  for (const dt of fixedOccurrences(t)) keep(dt);
  const days = Math.min(Math.ceil(until.diff(after, 'days').days) + 2, MAX_SEARCH_DAYS * 20);
  for (const cron of t.crons) for (const dt of cronOccurrences(cron, t.timezone, after, days)) keep(dt);
  return [...found.values()].sort((a, b) => a.toMillis() - b.toMillis());
}

/** The next `count` occurrences strictly after `after`. */
export function nextOccurrences(t: Triggers, after: DateTime, count: number): DateTime[] {
  const found = new Map<number, DateTime>();
  for (const dt of fixedOccurrences(t)) if (dt > after) found.set(dt.toMillis(), dt);
  for (const cron of t.crons) {
    let n = 0;
    for (const dt of cronOccurrences(cron, t.timezone, after, MAX_SEARCH_DAYS)) {
      found.set(dt.toMillis(), dt);
      if (++n >= count) break;
    }
  }
  return [...found.values()].sort((a, b) => a.toMillis() - b.toMillis()).slice(0, count);
}

/**
 * The latest occurrence at or before `at`, if any within the search horizon. Windows widen
 * from two days: a minute-level cron over five years is hundreds of thousands of wall times,
 * and the latest occurrence in a short window is the latest of all.
 */
export function previousOccurrence(t: Triggers, at: DateTime): DateTime | undefined {
  for (const days of [2, 35, 400, MAX_SEARCH_DAYS]) {
    const all = occurrencesBetween(t, at.minus({ days }), at);
    if (all.length) return all[all.length - 1];
  }
  return undefined;
}

/** `dates` and `afterLaunch` occurrences, which are a finite list. */
export function fixedOccurrences(t: Triggers): DateTime[] {
  const out: DateTime[] = [];
  for (const d of t.dates) out.push(wallTimeToInstant(parseLocalDateTime(d), t.timezone));
  if (t.launch) {
    const [hour, minute] = t.time.split(':').map(Number);
    const launchDay = DateTime.fromISO(t.launch, { zone: t.timezone });
    for (const offset of t.afterLaunch) {
      // Calendar arithmetic on the local date: P1M after 31 Jan is 28/29 Feb, P1D keeps the wall clock.
      const day = launchDay.plus(Duration.fromISO(offset));
      out.push(wallTimeToInstant({ year: day.year, month: day.month, day: day.day, hour, minute }, t.timezone));
    }
  }
  return out;
}

/** Cron occurrences strictly after `after`, walking local calendar days for up to `days` days. */
function* cronOccurrences(spec: CronSpec, zone: string, after: DateTime, days: number): Generator<DateTime> {
  // Start a day early: a wall time on the previous local day can land after `after` near a transition.
  let day = after.setZone(zone).startOf('day').minus({ days: 1 });
  for (let i = 0; i <= days; i++, day = day.plus({ days: 1 })) {
    if (!cronMatchesDay(spec, day.year, day.month, day.day)) continue;
    let last = -Infinity;
    for (const hour of spec.hours) {
      for (const minute of spec.minutes) {
        const dt = wallTimeToInstant({ year: day.year, month: day.month, day: day.day, hour, minute }, zone);
        // Several wall times in a spring-forward gap move to the same instant: fire once.
        if (dt.toMillis() === last) continue;
        last = dt.toMillis();
        if (dt > after) yield dt;
      }
    }
  }
}

/** "YYYY-MM-DD HH:mm" (or with a T) → wall time; throws a message naming the expected form. */
export function parseLocalDateTime(text: string): { year: number; month: number; day: number; hour: number; minute: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a local date-time; write "YYYY-MM-DD HH:mm", e.g. "2027-03-09 14:00"`);
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  const check = DateTime.fromObject({ year, month, day, hour, minute }, { zone: 'utc' });
  if (!check.isValid || check.day !== day) throw new Error(`'${text}' is not a date on the calendar (${check.invalidExplanation ?? 'no such day'})`);
  return { year, month, day, hour, minute };
}
