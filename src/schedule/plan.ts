import { DateTime } from 'luxon';
import { nextOccurrences, occurrencesBetween, type Triggers } from './occurrences.ts';
import { lookbackFor, nextOpening, type SendWindow } from './window.ts';

/** What a job kind is told when it plans a schedule's sends. */
export interface PlanContext<O extends Record<string, unknown> = Record<string, unknown>> {
  scheduleId: string;
  timezone: string;
  options: O;
  /** When sends may go out, in `timezone` (the engine moves planned runs into it after planning). */
  window?: SendWindow;
  /**
   * When the plan is asked for. The tick keeps a schedule's plan while its trigger occurrences
   * stay the same, so a plan must follow from the occurrences and options alone, not from this.
   */
  now: DateTime;
}

/** One send a schedule plans: becomes one run, unique per (schedule, key). */
export interface PlannedRun {
  /** Unique per schedule, stable across restarts and config reloads. */
  key: string;
  /** When it is due: moved to the next opening of the schedule's send window when planned outside it. */
  at: DateTime;
  /** The time it was planned for, when the send window moved it (`at` is then the opening). */
  movedFrom?: DateTime;
  /** Outside the send window, kept there for its deadline (see intoWindow): the sender must not hold it. */
  outsideWindow?: true;
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
  /** When sends may go out, in `timezone`; undefined: any time. */
  window?: SendWindow;
}

const ctxOf = (s: PlanInput, now: DateTime): PlanContext => ({ scheduleId: s.id, timezone: s.timezone, options: s.options, window: s.window, now });

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
 * A run moved into the schedule's send window: planned outside it, its `at` becomes the next
 * opening and `movedFrom` keeps the planned time; key and occurrence stay, so a moved run is
 * still the one run. Urgency wins over the window: an "as soon as seen" send (a moved meeting's
 * new invitation, an agenda) the window would push to or past its deadline (`asapUntil`, the
 * meeting) keeps its planned time.
 */
export function intoWindow(r: PlannedRun, s: Pick<PlanInput, 'window' | 'timezone'>): PlannedRun {
  // Kept outside once (a review round before its send) stays outside when planned again.
  if (!s.window || r.outsideWindow) return r;
  const at = nextOpening(s.window, r.at, s.timezone);
  if (at.toMillis() === r.at.toMillis()) return r;
  if (r.asapUntil && at >= r.asapUntil) return { ...r, outsideWindow: true };
  return { ...r, at, movedFrom: r.at };
}

/**
 * Plain occurrences the window moves to the same opening (a daily 07:00 digest over a weekend)
 * send once, as the latest of them: three e-mails at Monday 08:00 would say the same thing.
 */
function onePerOpening(runs: PlannedRun[]): PlannedRun[] {
  const latest = new Map<number, PlannedRun>();
  for (const r of runs) {
    const seen = latest.get(r.at.toMillis());
    if (!seen || r.occurrence > seen.occurrence) latest.set(r.at.toMillis(), r);
  }
  return runs.filter((r) => latest.get(r.at.toMillis()) === r);
}

/**
 * A schedule's sends when its job kind plans none: one per trigger occurrence, keyed by its
 * instant, moved into the send window, one per opening.
 */
export function plainRuns(occurrences: DateTime[], s: Pick<PlanInput, 'window' | 'timezone'>): PlannedRun[] {
  return onePerOpening(occurrences.map((o) => intoWindow(plain(o), s)));
}

/** In time order; runs moved to the same opening keep the order they were planned in. */
const byTime = (a: PlannedRun, b: PlannedRun) => a.at.toMillis() - b.at.toMillis() || (a.movedFrom ?? a.at).toMillis() - (b.movedFrom ?? b.at).toMillis();

/**
 * How far before `after` planned times are read: a run planned before `after` can be moved
 * by the send window to after it. Not a fixed span (a weekend, Christmas holidays, a run of
 * holidays): the window says, through lookbackFor, from when on a planned time can still open
 * after `after` (the start of the last day the window opened by then); everything planned
 * earlier opened by `after` at the latest and was due then.
 */
function lookback(s: PlanInput, after: DateTime): DateTime {
  return s.window ? lookbackFor(s.window, after, s.timezone) : after;
}

/**
 * The runs a schedule plans whose (moved) time falls in (after, until], plus the "as soon as
 * seen" ones (a moved meeting's new invitation) whose time has passed but whose deadline has
 * not. A job kind without `plan` sends once per trigger occurrence.
 */
export function plannedRuns(job: Planner, s: PlanInput, after: DateTime, until: DateTime): PlannedRun[] {
  if (!job.plan) {
    // The tick asks every minute; most minutes nothing is due, and the next run is known.
    const q = quiet.get(s);
    if (q && after.toMillis() >= q.from && until.toMillis() < q.next) return [];
    const from = lookback(s, after);
    // The window only moves runs later: nothing planned after `until` moves into the range.
    const runs = plainRuns(occurrencesBetween(s.triggers, from, until), s)
      .filter((r) => r.at > after && r.at <= until)
      .sort(byTime);
    if (!runs.length) quiet.set(s, { from: after.toMillis(), next: nextPlannedRuns(job, s, after, 1)[0]?.at.toMillis() ?? Infinity });
    return runs;
  }
  const from = lookback(s, after);
  const bases = basesBetween(s, from.minus(PLAN_HORIZON), until.plus(PLAN_HORIZON));
  return planOf(job, s, bases, until)
    .filter((r) => (r.at > after && r.at <= until) || (r.asapUntil !== undefined && r.at <= after && until < r.asapUntil))
    .sort(byTime);
}

/**
 * Per schedule of a kind without `plan`: after `from` (ms), its first run is at `next`. A
 * window (after, until] with after ≥ from and until < next has none, without planning it.
 */
const quiet = new WeakMap<PlanInput, { from: number; next: number }>();

/** Per schedule: its trigger occurrences in (lo, hi] (ms), read a week wider than asked. */
const basesKept = new WeakMap<PlanInput, { lo: number; hi: number; list: DateTime[] }>();

/**
 * The schedule's trigger occurrences in (lo, hi], as occurrencesBetween reads them: from a
 * list read a week wider on each side and kept, as the tick's 800-day span moves by a minute.
 */
function basesBetween(s: PlanInput, lo: DateTime, hi: DateTime): DateTime[] {
  let kept = basesKept.get(s);
  if (!kept || lo.toMillis() < kept.lo || hi.toMillis() > kept.hi) {
    const wideLo = lo.minus({ days: 7 });
    const wideHi = hi.plus({ days: 7 });
    kept = { lo: wideLo.toMillis(), hi: wideHi.toMillis(), list: occurrencesBetween(s.triggers, wideLo, wideHi) };
    basesKept.set(s, kept);
  }
  return kept.list.filter((o) => o > lo && o <= hi);
}

/** Each schedule's last plan, by the occurrences it was made from. */
const lastPlans = new WeakMap<PlanInput, { bases: string; runs: PlannedRun[] }>();

/**
 * A job kind's plan of these trigger occurrences, moved into the send window. The tick asks
 * every minute for a window of 800 days of occurrences, which stays the same set for weeks: the
 * last plan is kept per schedule and made again only when an occurrence enters or leaves it
 * (a plan follows from its occurrences and options, see PlanContext).
 */
function planOf(job: Planner, s: PlanInput, bases: DateTime[], now: DateTime): PlannedRun[] {
  const key = bases.length ? `${bases.length}:${bases[0].toMillis()}:${bases[bases.length - 1].toMillis()}` : '0';
  const last = lastPlans.get(s);
  if (last?.bases === key) return last.runs;
  const runs = job.plan!(bases, ctxOf(s, now)).map((r) => intoWindow(r, s));
  lastPlans.set(s, { bases: key, runs });
  return runs;
}

/** The next `count` planned runs whose (moved) time is strictly after `from`. */
export function nextPlannedRuns(job: Planner, s: PlanInput, from: DateTime, count: number): PlannedRun[] {
  if (!job.plan) {
    // Runs planned a little before `from` that the window moves past it come first.
    const earlier = occurrencesBetween(s.triggers, lookback(s, from), from);
    // Occurrences moved to one opening become one run: read more until there are `count` runs.
    for (let n = count; ; n *= 4) {
      const occurrences = nextOccurrences(s.triggers, from, n);
      const runs = plainRuns([...earlier, ...occurrences], s)
        .filter((r) => r.at > from)
        .sort(byTime);
      // The last opening may still gather later occurrences: only the runs before it are settled.
      const settled = occurrences.length < n ? runs : runs.filter((r) => r.at < runs[runs.length - 1].at);
      if (settled.length >= count || occurrences.length < n || n > 20_000) return (settled.length >= count ? settled : runs).slice(0, count);
    }
  }
  const bases = [...occurrencesBetween(s.triggers, lookback(s, from).minus(PLAN_HORIZON), from), ...nextOccurrences(s.triggers, from, count + 8)];
  return job
    .plan(bases, ctxOf(s, from))
    .map((r) => intoWindow(r, s))
    .filter((r) => r.at > from)
    .sort(byTime)
    .slice(0, count);
}

/** The runs one trigger occurrence plans (for `crier run` and `preview` with --at), moved into the send window. */
export function runsOfOccurrence(job: Planner, s: PlanInput, occurrence: DateTime, now: DateTime): PlannedRun[] {
  return (job.plan ? job.plan([occurrence], ctxOf(s, now)) : [plain(occurrence)]).map((r) => intoWindow(r, s));
}
