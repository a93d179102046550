import { DateTime, Interval } from 'luxon';
import type { Crier } from '../crier.ts';
import type { RunRow } from '../ledger/ledger.ts';
import { resolveAudience } from './audience.ts';

/**
 * Prepares a due run: reads the platform once (the snapshot every recipient's e-mail is
 * rendered from), writes one delivery row per recipient and marks the run fanned out.
 * Safe to repeat or to run twice at once: the first snapshot wins and delivery rows are unique
 * per (run, e-mail). Returns the ids of deliveries waiting to be sent.
 */
export async function fanOut(crier: Crier, runId: number): Promise<number[]> {
  let run = await crier.ledger.run(runId);
  if (!run || run.status !== 'due') return [];
  const schedule = (await crier.schedules()).find((s) => s.id === run!.schedule_id);
  if (!schedule) {
    await crier.ledger.setRunStatus(runId, 'failed', ['due'], `schedule '${run.schedule_id}' is no longer in the config`);
    return [];
  }
  const platform = await crier.platform();
  const occurrence = DateTime.fromJSDate(run.occurrence, { zone: run.timezone });
  const period = crier.period(schedule, occurrence);
  if (run.data === null) {
    const job = crier.job(run.job);
    const data = await job.collect({ occurrence, timezone: run.timezone, launch: launchOf(crier, run), options: schedule.options, period, platform });
    run = await crier.ledger.snapshot(runId, data, period.start.toJSDate(), period.end.toJSDate());
  }
  await crier.ledger.insertDeliveries(runId, resolveAudience(schedule, crier.config, platform.info));
  await crier.ledger.setRunStatus(runId, 'fanned-out', ['due']);
  await crier.ledger.completeRunIfSettled(runId);
  const deliveries = await crier.ledger.deliveries(runId);
  crier.log.info({ run: runId, schedule: run.schedule_id, recipients: deliveries.length }, 'run fanned out');
  return deliveries.filter((d) => d.status === 'pending').map((d) => d.id);
}

/** The stored period of a run (set with its snapshot). */
export function runPeriod(run: RunRow): Interval<true> {
  return Interval.fromDateTimes(DateTime.fromJSDate(run.period_start!, { zone: run.timezone }), DateTime.fromJSDate(run.period_end!, { zone: run.timezone })) as Interval<true>;
}

function launchOf(crier: Crier, run: RunRow): DateTime | undefined {
  return crier.config.platform.launch ? DateTime.fromISO(crier.config.platform.launch, { zone: run.timezone }) : undefined;
}
