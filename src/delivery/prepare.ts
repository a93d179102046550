import type { DateTime, Interval } from 'luxon';
import type { CrierConfig } from '../config/load.ts';
import type { Schedule, ScheduleBook } from '../deployment/schedules.ts';
import type { CollectContext, JobKind, Recipient } from '../kit/contract.ts';
import { PAGE, type DeliveryInput } from '../ledger/ledger.ts';
import { optedOut } from '../platform/directory.ts';
import type { Platform } from '../platform/platform.ts';
import type { RoundReader } from '../kit/rounds.ts';
import { audiencePages, resolveAudience, type AudiencePages } from './audience.ts';
import { collectDraft } from '../review/draft.ts';
import { isReviewVariant, REVIEW_DEADLINE, REVIEW_HELD, REVIEW_REPLY, type ReviewMeta } from '../review/plan.ts';

/** What preparing a run reads: the platform, the schedules and the config's audiences. */
export interface PrepareDeps {
  platform(): Promise<Platform>;
  schedules(): Promise<ScheduleBook>;
  rounds: RoundReader;
  config: Pick<CrierConfig, 'audiences' | 'departments'>;
  now(): Date;
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
 * can count per recipient scope in SQL) and the platform snapshot. Preview, the gallery, doctor
 * and the benchmark go through here; a run's fan-out through prepareFanOut, which does not hold
 * the audience.
 *
 * `run.job` is the job kind a recorded run was made for (the schedule's, unless the config
 * changed since); default the schedule's.
 */
export async function prepareRun(deps: PrepareDeps, schedule: Schedule, run: { occurrence: DateTime; variant: string; meta: Record<string, unknown>; job?: string }, collect = true): Promise<PreparedRun> {
  const { platform, job, ctx, period } = await setUp(deps, schedule, run);
  const audience = await runAudience(deps, schedule, job, platform, run.meta);
  // Through JSON, as the ledger stores it, so a preview renders exactly what a run would.
  const data = collect ? await collectOf(deps, schedule, job, { ...ctx, period, platform, recipients: audience }) : null;
  return { period, data, audience };
}

/** A run ready to be fanned out: as PreparedRun, its audience read a page at a time. */
export interface PreparedFanOut {
  period: Interval<true>;
  data: unknown;
  /** Every recipient once, a page at a time, before the skip policies (see audiencePages). */
  pages(): AsyncGenerator<Recipient[]>;
}

/**
 * prepareRun for a fan-out: the audience is not held (a CSV file of 100,000 people is read in
 * pages, see audiencePages), and collect() sees every recipient's scope, not every recipient.
 */
export async function prepareFanOut(deps: PrepareDeps, schedule: Schedule, run: { occurrence: DateTime; variant: string; meta: Record<string, unknown>; job?: string }, collect = true): Promise<PreparedFanOut> {
  const { platform, job, ctx, period } = await setUp(deps, schedule, run);
  let audience: AudiencePages;
  if (Array.isArray(run.meta.recipients)) {
    const list = await runAudience(deps, schedule, job, platform, run.meta);
    audience = { forCollect: list, pages: async function* () { for (let at = 0; at < list.length; at += PAGE) yield list.slice(at, at + PAGE); } };
  } else {
    audience = await audiencePages(deps.config, Array.isArray(run.meta.audience) ? { ...schedule, audience: run.meta.audience as string[] } : schedule, job, platform, deps.now());
  }
  const data = collect ? await collectOf(deps, schedule, job, { ...ctx, period, platform, recipients: audience.forCollect }) : null;
  return { period, data, pages: () => audience.pages() };
}

/**
 * A run's snapshot, through JSON as the ledger stores it (a preview renders exactly what a run
 * would). A review round's is the reviewed send's snapshot, collected for the send's audience
 * (the round's own recipients are the reviewers).
 */
async function collectOf(deps: PrepareDeps, schedule: Schedule, job: JobKind, ctx: Omit<CollectContext, 'rounds'>): Promise<unknown> {
  if (!isReviewVariant(ctx.variant ?? 'default')) return JSON.parse(JSON.stringify(await job.collect({ ...ctx, rounds: deps.rounds })));
  // An answer to a reviewer carries what Crier read, from the ledger: nothing to read on the platform.
  if (ctx.variant === REVIEW_REPLY) return ctx.meta?.reply;
  if (ctx.variant === REVIEW_HELD) return ctx.meta?.held;
  if (ctx.variant === REVIEW_DEADLINE) return ctx.meta?.review;
  const review = ctx.meta?.review as ReviewMeta;
  const book = await deps.schedules();
  const inner = book.job(schedule.job);
  const sendCtx = book.runContext(schedule, ctx.occurrence, review.send.variant, review.send.meta);
  const audience = await runAudience(deps, schedule, inner, ctx.platform, review.send.meta);
  return collectDraft(inner, sendCtx, review, { platform: ctx.platform, rounds: deps.rounds, audience });
}

async function setUp(deps: PrepareDeps, schedule: Schedule, run: { occurrence: DateTime; variant: string; meta: Record<string, unknown>; job?: string }) {
  const [platform, book] = await Promise.all([deps.platform(), deps.schedules()]);
  const job = book.kindOf(run.job ?? schedule.job, run.variant);
  const ctx = book.runContext(schedule, run.occurrence, run.variant, run.meta);
  return { platform, job, ctx, period: job.period(ctx) };
}

/** A run's audience: exactly meta.recipients, else meta.audience's ids, else the schedule's. */
async function runAudience(deps: PrepareDeps, schedule: Schedule, job: JobKind, platform: Platform, meta: Record<string, unknown>): Promise<Recipient[]> {
  if (Array.isArray(meta.recipients)) {
    return (meta.recipients as Recipient[]).map((r) => ({ email: r.email.toLowerCase(), name: r.name, locale: r.locale ?? platform.info.locales[0] }));
  }
  const audience = Array.isArray(meta.audience) ? { ...schedule, audience: meta.audience as string[] } : schedule;
  return resolveAudience(deps.config, audience, job, platform, deps.now());
}

/**
 * Who a run goes to, with the policies applied: a recipient who opted out of the platform's
 * equivalent campaign, or (with skipWhenEmpty) has nothing to report, is recorded as skipped
 * with the reason, never silently left out.
 */
export async function recipientsOf(schedule: Schedule, job: JobKind, recipients: Recipient[], data: unknown, platform: Platform): Promise<DeliveryInput[]> {
  const opted = job.consentCampaign ? await optedOut(platform, job.consentCampaign, recipients.flatMap((r) => (r.userId ? [r.userId] : []))) : new Set<string>();
  const skipEmpty = schedule.skipWhenEmpty ?? job.skipWhenEmpty ?? false;
  return recipients.map((r): DeliveryInput => {
    const base = { email: r.email, name: r.name, locale: r.locale, userId: r.userId, scope: r.scope, variant: r.variant };
    if (r.userId && opted.has(r.userId)) return { ...base, status: 'skipped', reason: `opted out of the platform's ${job.consentCampaign!.split('::').pop()} e-mails` };
    if (skipEmpty && job.isEmpty?.(data, r)) return { ...base, status: 'skipped', reason: 'nothing to report' };
    const reason = job.skip?.(data, r);
    if (reason) return { ...base, status: 'skipped', reason };
    return { ...base, status: 'pending' };
  });
}
