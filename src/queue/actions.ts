import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { ScheduleBook } from '../deployment/schedules.ts';
import type { Ledger, RunRow } from '../ledger/ledger.ts';
import type { CrierQueues } from './queues.ts';
import * as LQ from '../ledger/queries.ts';

/*
 * What a person asks of the engine, from the command line (`crier run`, `retry`, `resume`) or
 * the dashboard's buttons: one function each, so both have the same effects.
 */

/** What making an occurrence due reads and writes. */
export interface RunNowDeps {
  schedules(): Promise<ScheduleBook>;
  ledger: Ledger;
  log: Logger;
  now(): Date;
}

/** Which occurrence to make due. */
export interface RunNowRequest {
  scheduleId: string;
  /** The occurrence (default: the next send after now). */
  at?: DateTime;
  /** Which send of the occurrence, for job kinds that plan several. */
  variant?: string;
  /** Named in "there is no schedule …" (the config file). */
  file?: string;
  /** Send a reviewed send even though its review holds it (a held run is made due again). */
  force?: boolean;
}

export interface RunNowResult {
  /** The run as this request found or created it (a revived run's status is the one it had). */
  run: RunRow & { created: boolean };
  /** It was recorded as missed or failed and is due again. */
  revived: boolean;
}

/**
 * Makes one occurrence due now through the same ledger and queue as the schedule (origin
 * `manual`). The run key is (schedule, occurrence): asking again, or the schedule reaching it
 * later, sends nothing new. An occurrence recorded as missed, or whose run failed to be
 * prepared (platform down, an audience naming a folder that is gone), is tried again; sent
 * deliveries stay sent.
 */
export async function runNow(deps: RunNowDeps, queues: Pick<CrierQueues, 'enqueueRun'>, req: RunNowRequest): Promise<RunNowResult> {
  const book = await deps.schedules();
  const schedule = book.get(req.scheduleId, req.file);
  const planned = book.pickRun(schedule, req.at, req.variant, DateTime.fromJSDate(deps.now()));
  const run = await deps.ledger.insertRun({
    scheduleId: schedule.id,
    key: planned.key,
    occurrence: planned.occurrence.toJSDate(),
    job: schedule.job,
    timezone: schedule.timezone,
    origin: 'manual',
    status: 'due',
    variant: planned.variant,
    meta: req.force ? { ...planned.meta, force: true } : planned.meta,
  });
  // A person overrides the review's hold: the held run is due again, marked to be sent anyway.
  const forced = req.force && run.status === 'held' && (await deps.ledger.pool.query(LQ.FORCE_HELD_RUN, [run.id])).rowCount === 1;
  const revived = forced || ((run.status === 'missed' || run.status === 'failed') && (await deps.ledger.setRunStatus(run.id, 'due', ['missed', 'failed'])));
  if (revived) deps.log.info({ run: run.id, was: run.status }, 'run retried on request');
  await queues.enqueueRun(run.id);
  return { run, revived };
}

/**
 * A run's failed deliveries go back on the queue, their attempts counted from zero, except
 * those whose address is now suppressed (a person lifts that first). `unknown`: instead the
 * deliveries whose outcome is unknown (handed to the SMTP server, no answer), once a person
 * decided they did not arrive.
 */
export async function retryRun(ledger: Ledger, queues: Pick<CrierQueues, 'enqueueDeliveries'>, runId: number, opts: { unknown?: boolean } = {}): Promise<{ requeued: number[]; suppressed: string[] }> {
  const { requeued, suppressed } = opts.unknown ? { requeued: await ledger.retryUnknown(runId), suppressed: [] } : await ledger.retryFailed(runId);
  await queues.enqueueDeliveries(requeued.map((id) => ({ id, runId })), true);
  return { requeued, suppressed };
}

/**
 * A run that paused itself (mail.pauseAt) continues: its waiting deliveries are queued; its
 * failed ones stay failed (retryRun sends them again). `resumed: false` when it was not paused.
 */
export async function resumeRun(ledger: Ledger, queues: Pick<CrierQueues, 'enqueueDeliveries'>, runId: number): Promise<{ resumed: true; requeued: number[] } | { resumed: false; status: RunRow['status'] | undefined }> {
  if (!(await ledger.resumeRun(runId))) return { resumed: false, status: (await ledger.run(runId))?.status };
  const requeued: number[] = [];
  for await (const page of ledger.pendingOfRun(runId)) {
    await queues.enqueueDeliveries(page, true);
    requeued.push(...page.map((d) => d.id));
  }
  await ledger.completeRunIfSettled(runId);
  return { resumed: true, requeued };
}
