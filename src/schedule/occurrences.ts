import { DateTime, Duration } from 'luxon';
import { cronMatchesDay, type CronSpec } from './cron.ts';
import { wallTimeToInstant } from './wallclock.ts';
import { Remembered } from './remembered.ts';

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

/**
 * How far ahead a cron is searched for a next occurrence before it is judged to never fire (a
 * 29th of February is up to four years away). The search walks plain dates, so five years of
 * days cost well under a millisecond; only a matching day's wall times involve the zone.
 */
const MAX_SEARCH_DAYS = 366 * 5;

/** Every occurrence in the half-open range (after, until], in time order. */
export function occurrencesBetween(t: Triggers, after: DateTime, until: DateTime): DateTime[] {
  if (until <= after) return [];
  const found = new Map<number, DateTime>();
  const keep = (dt: DateTime) => {
    if (dt > after && dt <= until) found.set(dt.toMillis(), dt);
  };
  for (const dt of fixedOccurrences(t)) keep(dt);
  const days = Math.min(Math.ceil(until.diff(after, 'days').days) + 2, MAX_SEARCH_DAYS * 20);
  for (const cron of t.crons) for (const dt of cronOccurrences(cron, t.timezone, after, days, until)) keep(dt);
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
  if (!t.dates.length && !(t.launch && t.afterLaunch.length)) return [];
  // Planning asks for them at every step (each occurrence search, each schedule of `crier
  // check`): worked out once per set of triggers (the fields they come from, not the object).
  return [...fixedKnown.get(JSON.stringify([t.timezone, t.dates, t.launch, t.time, t.afterLaunch]), () => placeFixed(t))];
}

const fixedKnown = new Remembered<DateTime[]>(256);

function placeFixed(t: Triggers): DateTime[] {
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

const DAY_MS = 86_400_000;
/**
 * More than any UTC offset a zone has had (-15:56 in Manila before 1845): a wall time read as
 * UTC is less than this from its instant, in either direction, whatever the zone and the day.
 */
const MAX_OFFSET_MS = 16 * 3_600_000;

/**
 * Cron occurrences strictly after `after`, walking local calendar days for up to `days` days;
 * when `until` is given, the walk may end once every further occurrence is after it.
 *
 * The days are walked as plain calendar dates (a UTC Date stands for the local date): a day
 * has no time zone, and luxon's zone arithmetic for each of them (an Intl call a day) was most
 * of `crier check`'s time. Only a matching day's wall times are placed in the zone (several
 * Intl calls each), and not those that fall before `after` or after `until` whatever the
 * zone's offset: a cron every 15 minutes has 96 wall times a day, and the walk starts the day
 * before `after`.
 */
function* cronOccurrences(spec: CronSpec, zone: string, after: DateTime, days: number, until?: DateTime): Generator<DateTime> {
  // Start a day early: a wall time on the previous local day can land after `after` near a transition.
  const local = after.setZone(zone);
  const first = Date.UTC(local.year, local.month - 1, local.day) - DAY_MS;
  // A wall time (read as UTC) at or before `skipTo` is an instant at or before `after`; one
  // after `stopAfter` an instant after `until`.
  const skipTo = after.toMillis() - MAX_OFFSET_MS;
  const stopAfter = until ? until.toMillis() + MAX_OFFSET_MS : Infinity;
  for (let i = 0; i <= days; i++) {
    const date = new Date(first + i * DAY_MS);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    const day = date.getUTCDate();
    if (!cronMatchesDay(spec, year, month, day)) continue;
    let last = -Infinity;
    for (const hour of spec.hours) {
      for (const minute of spec.minutes) {
        const wall = Date.UTC(year, month - 1, day, hour, minute);
        // Wall times only grow from here on: each is an instant after `until`, so is every later one.
        if (wall > stopAfter) return;
        // Its instant is at or before `after`: not yielded, and no later wall time is the same
        // instant as an earlier one that is yielded (it would be at or before `after` too).
        if (wall <= skipTo) continue;
        const dt = wallTimeToInstant({ year, month, day, hour, minute }, zone);
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
