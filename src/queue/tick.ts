import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Schedule, ScheduleBook } from '../deployment/schedules.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { RunRow } from '../ledger/ledger.ts';

/** An occurrence this close to the tick counts as on time; older ones are catch-up. */
const ON_TIME_MS = 2 * 60_000;

/** What a tick uses: the schedules, the ledger it records runs in, a clock and a log. */
export interface TickDeps {
  schedules(): Promise<ScheduleBook>;
  ledger: Ledger;
  log: Logger;
  now(): Date;
}

export interface TickResult {
  /** Runs this tick created (another tick or worker may have created the rest). */
  created: RunRow[];
}

/**
 * Records every occurrence that has come due since each schedule was last checked: as a `due`
 * run while it is within the schedule's catchUp, as `missed` beyond it. Idempotent: the
 * (schedule, run key) makes concurrent ticks create each run once. A schedule is watched
 * from its first tick minus catchUp, so adding one does not resurrect its history.
 */
export async function tick(deps: TickDeps, now: Date = deps.now()): Promise<TickResult> {
  const created: RunRow[] = [];
  const book = await deps.schedules();
  const enabled = book.all.filter((s) => s.enabled);
  if (!enabled.length) return { created };
  // Every schedule's state in one statement, and moved forward in one: a deployment of many
  // tenants ticks each in a handful of round trips, not three per schedule.
  const states = await deps.ledger.scheduleStates(enabled.map((s) => ({ id: s.id, since: new Date(now.getTime() - s.catchUpMs) })));
  const advances: { id: string; until: Date }[] = [];
  for (const s of enabled) {
    try {
      const { runs, until } = await tickSchedule(deps, book, s, states.get(s.id)!, now);
      created.push(...runs);
      advances.push({ id: s.id, until });
    } catch (e) {
      // One schedule's trouble (a database hiccup) must not keep the others from being checked;
      // its mark stays, so it is checked again from there.
      deps.log.error({ schedule: s.id, err: (e as Error).message }, 'schedule could not be checked; retried next tick');
    }
  }
  // Only once their runs are recorded: a failure above leaves that schedule to be checked again.
  await deps.ledger.advanceSchedules(advances);
  return { created };
}

/** One schedule's part of a tick: its runs come due since it was last checked, and how far it is now checked. */
async function tickSchedule({ ledger, log }: TickDeps, book: ScheduleBook, s: Schedule, state: { checked_until: Date }, now: Date): Promise<{ runs: RunRow[]; until: Date }> {
  const created: RunRow[] = [];
  const due = book.plannedRuns(s, DateTime.fromJSDate(state.checked_until), DateTime.fromJSDate(now));
  // A send whose required run is recorded but not sent yet (a call still being prepared, or
  // revived late) is not given up: the schedule is checked again from just before it.
  let holdAt: Date | undefined;
  for (const planned of due) {
    if (planned.requires && !(await ledger.hasSentRun(s.id, planned.requires))) {
      if (!planned.asapUntil && (await ledger.hasDueRun(s.id, planned.requires))) holdAt ??= new Date(planned.at.toMillis() - 1);
      continue;
    }
    // From the send time moved into the send window: a Sunday send seen on Monday 08:00 is on time.
    const lateBy = now.getTime() - planned.at.toMillis();
    const run = await ledger.insertRun({
      scheduleId: s.id,
      key: planned.key,
      occurrence: planned.occurrence.toJSDate(),
      job: s.job,
      timezone: s.timezone,
      origin: lateBy <= ON_TIME_MS ? 'schedule' : 'catch-up',
      // An "as soon as seen" send (a moved meeting's invitation) is never too late before its deadline.
      status: lateBy <= s.catchUpMs || planned.asapUntil ? 'due' : 'missed',
      variant: planned.variant,
      // Kept outside its send window for a deadline (a meeting's agenda): the sender must not hold it either.
      meta: planned.outsideWindow ? { ...planned.meta, outsideWindow: true } : planned.meta,
    });
    if (run.created) {
      created.push(run);
      const level = run.status === 'missed' ? 'warn' : 'info';
      log[level]({ schedule: s.id, at: planned.at.toISO(), variant: planned.variant, run: run.id, status: run.status }, run.status === 'missed' ? 'occurrence missed: later than catchUp allows' : 'occurrence due');
    }
  }
  return { runs: created, until: holdAt && holdAt < now ? holdAt : now };
}
