import { DateTime, Interval } from 'luxon';
import type { Crier, Schedule } from '../crier.ts';
import type { JobKind, Recipient } from '../job-kind.ts';
import type { DeliveryInput, RunRow } from '../ledger/ledger.ts';
import { optedOut } from '../platform/directory.ts';
import type { Platform } from '../platform/platform.ts';
import { resolveAudience } from './audience.ts';

/**
 * Prepares a due run: reads the platform once (the snapshot every recipient's e-mail is
 * rendered from), writes one delivery row per recipient (skipped ones with their reason) and
 * marks the run fanned out. Safe to repeat or to run twice at once: the first snapshot wins and
 * delivery rows are unique per (run, e-mail). Returns the ids of deliveries waiting to be sent.
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
  const job = crier.job(run.job);
  const prepared = await prepareRun(crier, schedule, { occurrence: DateTime.fromJSDate(run.occurrence), variant: run.variant, meta: run.meta }, run.data === null);
  if (run.data === null) run = await crier.ledger.snapshot(runId, prepared.data, prepared.period.start.toJSDate(), prepared.period.end.toJSDate());
  await crier.ledger.insertDeliveries(runId, await recipientsOf(crier, schedule, job, prepared.audience, run.data, platform));
  await crier.ledger.setRunStatus(runId, 'fanned-out', ['due']);
  await crier.ledger.completeRunIfSettled(runId);
  const deliveries = await crier.ledger.deliveries(runId);
  crier.log.info({ run: runId, schedule: run.schedule_id, recipients: deliveries.length, skipped: deliveries.filter((d) => d.status === 'skipped').length }, 'run fanned out');
  return deliveries.filter((d) => d.status === 'pending').map((d) => d.id);
}

/** A run ready to be sent: its period, its snapshot and who it goes to. */
export interface PreparedRun {
  period: Interval<true>;
  /** The platform snapshot, as JSON (as the ledger stores it), or null when not collected. */
  data: unknown;
  /** Every recipient of the audience, before the skip policies. */
  audience: Recipient[];
}

/**
 * Prepares one send of a schedule: its period, its recipients (resolved first, so a job kind
 * can count per recipient scope in SQL) and the platform snapshot. Fan-out, preview, the gallery
 * and the benchmark all go through here.
 */
export async function prepareRun(crier: Crier, schedule: Schedule, run: { occurrence: DateTime; variant: string; meta: Record<string, unknown> }, collect = true): Promise<PreparedRun> {
  const platform = await crier.platform();
  const job = crier.job(schedule.job);
  const ctx = crier.runContext(schedule, run.occurrence, run.variant, run.meta);
  const period = job.period(ctx);
  const audience = await resolveAudience(crier.config, schedule, job, platform, crier.now());
  // Through JSON, as the ledger stores it, so a preview renders exactly what a run would.
  const data = collect ? JSON.parse(JSON.stringify(await job.collect({ ...ctx, period, platform, recipients: audience }))) : null;
  return { period, data, audience };
}

/**
 * Who a run goes to, with the policies applied: a recipient who opted out of the platform's
 * equivalent campaign, or (with skipWhenEmpty) has nothing to report, is recorded as skipped
 * with the reason, never silently left out.
 */
export async function recipientsOf(crier: Crier, schedule: Schedule, job: JobKind, recipients: Recipient[], data: unknown, platform: Platform): Promise<DeliveryInput[]> {
  const opted = job.consentCampaign ? await optedOut(platform, job.consentCampaign, recipients.flatMap((r) => (r.userId ? [r.userId] : []))) : new Set<string>();
  const skipEmpty = schedule.skipWhenEmpty ?? job.skipWhenEmpty ?? false;
  return recipients.map((r): DeliveryInput => {
    const base = { email: r.email, name: r.name, locale: r.locale, userId: r.userId, scope: r.scope, variant: r.variant };
    if (r.userId && opted.has(r.userId)) return { ...base, status: 'skipped', reason: `opted out of the platform's ${job.consentCampaign!.split('::').pop()} e-mails` };
    if (skipEmpty && job.isEmpty?.(data, r)) return { ...base, status: 'skipped', reason: 'nothing to report' };
    return { ...base, status: 'pending' };
  });
}

/** The stored period of a run (set with its snapshot). */
export function runPeriod(run: RunRow): Interval<true> {
  return Interval.fromDateTimes(DateTime.fromJSDate(run.period_start!, { zone: run.timezone }), DateTime.fromJSDate(run.period_end!, { zone: run.timezone })) as Interval<true>;
}
