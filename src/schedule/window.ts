import { DateTime } from 'luxon';
import { wallTimeToInstant, type WallTime } from './wallclock.ts';
import { Remembered } from './remembered.ts';

export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * When e-mail may go out, read in a schedule's zone: on `days`, from `from` (inclusive) to `to`
 * (exclusive), local "HH:mm", except on `holidays` (local "YYYY-MM-DD"). The config's
 * `mail.window` / `schedules.ID.window` has this shape (src/config/schema.ts).
 */
export interface SendWindow {
  days: readonly Weekday[];
  from: string;
  to: string;
  holidays: readonly string[];
}

/** How far a window is searched for its next opening before it is judged to never open. */
const MAX_CLOSED_DAYS = 400;

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** True when local date `day` (a UTC-midnight DateTime carrying the calendar date) is a day the window opens. */
function opensOn(w: SendWindow, day: DateTime): boolean {
  return w.days.includes(WEEKDAYS[day.weekday - 1]) && !w.holidays.includes(day.toISODate()!);
}

/** The local calendar date of `at` in `zone`, as a UTC-midnight DateTime (plain calendar arithmetic, no DST). */
function localDay(at: DateTime, zone: string): DateTime {
  const local = at.setZone(zone);
  if (!local.isValid) throw new Error(`unknown time zone '${zone}'`);
  return DateTime.utc(local.year, local.month, local.day);
}

/**
 * The instants the window opens on local date `day`: normally one, the `from` wall time (moved to
 * the first instant after a spring-forward gap, as wallclock.ts does); two when `from` falls in
 * the hour an autumn fall-back repeats.
 */
function openingsOn(w: SendWindow, day: DateTime, zone: string): DateTime[] {
  // Each run moved into the window asks for the same few days: placed once (several Intl calls).
  return openings.get(`${zone} ${w.from} ${day.year}-${day.month}-${day.day}`, () => placeOpenings(w, day, zone));
}

const openings = new Remembered<DateTime[]>(4096);

function placeOpenings(w: SendWindow, day: DateTime, zone: string): DateTime[] {
  const [hour, minute] = w.from.split(':').map(Number);
  const wall: WallTime = { year: day.year, month: day.month, day: day.day, hour, minute };
  const first = wallTimeToInstant(wall, zone);
  // Luxon picks one instance of an ambiguous wall time; if it is the other one, it is an opening too.
  const other = DateTime.fromObject(wall, { zone });
  const sameWall = other.hour === hour && other.minute === minute && other.day === day.day;
  return sameWall && other.toMillis() > first.toMillis() ? [first, other] : [first];
}

/** True when `at` is inside the window: an allowed weekday, not a holiday, from ≤ local time < to. */
export function isOpen(w: SendWindow, at: DateTime, zone: string): boolean {
  const local = at.setZone(zone);
  if (!local.isValid) throw new Error(`unknown time zone '${zone}'`);
  if (!opensOn(w, DateTime.utc(local.year, local.month, local.day))) return false;
  const minutes = local.hour * 60 + local.minute;
  return minutes >= minutesOf(w.from) && minutes < minutesOf(w.to);
}

/**
 * `at` itself when it is inside the window, else the next instant the window opens: `from` on
 * the next allowed, non-holiday local day, in `zone`. An opening that does not exist that day
 * (a spring-forward gap) is the first instant after the gap. Throws when the window does not
 * open within 400 days (every allowed day a holiday).
 */
export function nextOpening(w: SendWindow, at: DateTime, zone: string): DateTime {
  if (isOpen(w, at, zone)) return at;
  const start = localDay(at, zone);
  for (let i = 0; i <= MAX_CLOSED_DAYS; i++) {
    const day = start.plus({ days: i });
    if (!opensOn(w, day)) continue;
    const opening = openingsOn(w, day, zone).find((o) => o > at);
    if (opening) return opening.setZone(zone);
  }
  throw new Error(`the send window ${describeWindow(w)} does not open in the ${MAX_CLOSED_DAYS} days after ${at.setZone(zone).toFormat('yyyy-MM-dd HH:mm')} (${zone}): every allowed day is a holiday; fix its days or holidays`);
}

/**
 * An instant L, at or before `at`, such that every send planned at or before L opens at or
 * before `at`: only sends planned after L can be moved past `at`. It is the start of the latest
 * local day whose opening is at or before `at` (a send planned before that day's opening moves
 * to it at the latest). Planning reads original times from L on and filters on the moved time.
 * When the window has not opened in the 400 days before `at`, L is 400 days before `at`.
 */
export function lookbackFor(w: SendWindow, at: DateTime, zone: string): DateTime {
  const start = localDay(at, zone);
  for (let i = 0; i <= MAX_CLOSED_DAYS; i++) {
    const day = start.minus({ days: i });
    if (!opensOn(w, day)) continue;
    if (openingsOn(w, day, zone)[0] <= at) return wallTimeToInstant({ year: day.year, month: day.month, day: day.day, hour: 0, minute: 0 }, zone);
  }
  return at.minus({ days: MAX_CLOSED_DAYS });
}

/** "MON–FRI 08:00–18:00", "MON, WED, FRI 09:00–12:00": the days and hours, holidays left out. */
export function describeWindow(w: SendWindow): string {
  const idx = [...new Set(w.days.map((d) => WEEKDAYS.indexOf(d)))].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const i of idx) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === i - 1) last.push(i);
    else runs.push([i]);
  }
  const days = idx.length === 7 ? 'every day' : runs.map((r) => (r.length >= 3 ? `${WEEKDAYS[r[0]]}–${WEEKDAYS[r[r.length - 1]]}` : r.map((i) => WEEKDAYS[i]).join(', '))).join(', ');
  return `${days} ${w.from}–${w.to}`;
}
