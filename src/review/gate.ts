import path from 'node:path';
import { DateTime } from 'luxon';
import type { CrierConfig } from '../config/load.ts';
import type { ReviewConfig } from '../config/schema.ts';
import type { JobKind } from '../kit/contract.ts';
import type { Ledger, RunRow } from '../ledger/ledger.ts';
import * as LQ from '../ledger/queries.ts';
import { operatorOf } from '../config/addresses.ts';
import { applyDecision } from './apply.ts';
import type { ReviewData } from './draft.ts';
import type { Decision } from './parse.ts';
import { storedDecision, type EffectiveDecision, type ReviewRow } from './reply.ts';
import { REVIEW_HELD, reviewKey, type ReviewMeta } from './plan.ts';

/** What the review step reads of a schedule. */
type Reviewed = { id: string; timezone: string; review?: ReviewConfig };

/** What a review decides for one send at its fan-out. */
export type Gate =
  | { kind: 'none' }
  /** Its round is planned and still due: the send stays due until the round went out (whose fan-out queues it again). */
  | { kind: 'wait'; round: number }
  | { kind: 'send'; data: unknown; period: { start: string; end: string } }
  /** Not sent: who held it and why (none: the default, hold), and whom to tell beside the superadmin. */
  | { kind: 'hold'; reason: string | null; by: string | null; reviewers: ReviewRow['reviewers']; why?: string };

/** The decision that applies to a review: the effective one, else the default (no decision came by the deadline). */
export async function decisionOf(ledger: Ledger, review: ReviewRow): Promise<{ decision: Decision; by: string | null; byDefault: boolean }> {
  const e = (await ledger.pool.query<EffectiveDecision>(LQ.EFFECTIVE_DECISION, [review.id])).rows[0];
  if (e) return { decision: storedDecision(e), by: e.from_address, byDefault: false };
  return { decision: review.default_decision === 'hold' ? { action: 'hold', reason: '' } : { action: 'send', leaveOut: [], note: null }, by: null, byDefault: true };
}

/**
 * Whether and with what a reviewed send goes out, read when it is fanned out: decisions were
 * due DECISION_MARGIN before it at the latest (see withReview), so the decision is final by then,
 * and a reply read after the send left `due` counts as late (reply.ts). A send is
 * carried by its review round's snapshot, the decision applied; a hold stops it, unless a
 * person forced the send (`crier run … --force`: the draft as reviewed). A send whose round
 * was never planned (the schedule was added later than `before`) was reviewed by nobody: it is
 * sent as it would be without a review. One whose round was planned but did not go out (failed,
 * missed) was not reviewed either: the review's default applies (hold: held, the superadmin told).
 */
export async function reviewGate(ledger: Ledger, schedule: Reviewed, run: RunRow, job: JobKind): Promise<Gate> {
  if (!schedule.review || !(job.reviewed ?? ['default']).includes(run.variant)) return { kind: 'none' };
  // The round first: its review is recorded in the transaction that fans it out, so a round
  // read as fanned out has its review visible below (read the other way round, a round
  // committing in between would be missed).
  const roundRun = await ledger.runByKey(schedule.id, reviewKey(run.run_key));
  // Planned but not yet out (both due at one minute; a round retried): the send waits for it.
  if (roundRun?.status === 'due') return { kind: 'wait', round: roundRun.id };
  const review = (await ledger.pool.query<ReviewRow>(LQ.REVIEW_OF_SEND, [schedule.id, run.run_key])).rows[0];
  if (!review) {
    if (!roundRun || schedule.review.default === 'send' || run.meta.force) return { kind: 'none' };
    return { kind: 'hold', reason: null, by: null, reviewers: [], why: `held: its review round (run ${roundRun.id}) did not go out (${roundRun.status}${roundRun.error ? `: ${roundRun.error}` : ''}), and the review's default is hold` };
  }
  const round = (await ledger.pool.query(LQ.RUN_DATA, [review.run_id])).rows[0]?.data as ReviewData | null;
  if (!round) return { kind: 'none' };
  const { decision, by } = await decisionOf(ledger, review);
  if (decision.action === 'hold' && !run.meta.force) return { kind: 'hold', reason: decision.reason || null, by, reviewers: review.reviewers };
  const send = decision.action === 'send' ? decision : { action: 'send' as const, leaveOut: [], note: null };
  return { kind: 'send', data: applyDecision(job, round, send), period: round.period };
}

/**
 * Holds the send and tells the reviewers and the superadmin, with how to send it anyway:
 * through the ledger like every e-mail, a run keyed by the held send, recorded with the hold.
 * The notice's run id, to be queued, when this call held the send.
 */
export async function recordHeld(ledger: Ledger, config: Pick<CrierConfig, 'operator' | 'mail' | 'tenant' | 'file'>, schedule: Reviewed, run: RunRow, gate: Extract<Gate, { kind: 'hold' }>): Promise<number | undefined> {
  const operator = operatorOf(config);
  const recipients = [...gate.reviewers, ...(gate.reviewers.some((r) => r.email === operator.email.toLowerCase()) ? [] : [{ ...operator, email: operator.email.toLowerCase() }])];
  const why = gate.why ?? (gate.reason ? `held by ${gate.by}: ${gate.reason}` : `held: no decision by the deadline, and the review's default is hold`);
  return ledger.holdRun(run.id, why, {
    scheduleId: schedule.id,
    key: `${REVIEW_HELD}:${run.run_key}`,
    occurrence: run.occurrence,
    job: run.job,
    timezone: run.timezone,
    origin: run.origin,
    status: 'due',
    variant: REVIEW_HELD,
    meta: { held: { reason: gate.reason, by: gate.by, schedule: schedule.id, occurrence: run.occurrence.toISOString(), timezone: schedule.timezone, command: forceCommand({ schedule: schedule.id, occurrence: run.occurrence, timezone: schedule.timezone, variant: run.variant, tenant: config.tenant, file: config.file }) }, recipients },
  });
}

/**
 * The command that sends a held send anyway: its occurrence in the schedule's zone, its variant
 * when it is not the plain send (a steering agenda: the invitation is the meeting's first send),
 * its tenant in a deployment of many.
 */
export function forceCommand(o: { schedule: string; occurrence: Date | string; timezone: string; variant: string; tenant?: string; file?: string }): string {
  const at = DateTime.fromJSDate(new Date(o.occurrence), { zone: o.timezone }).toFormat("yyyy-MM-dd'T'HH:mm");
  // A tenant of many is named with where its config is: its folder (<id>.yaml in it), or the one file with tenants:.
  const where = o.tenant && o.file ? (path.basename(o.file) === `${o.tenant}.yaml` ? ` --configs ${path.dirname(o.file)}` : ` --config ${o.file}`) : '';
  return `crier run ${o.schedule} --at ${at}${o.variant === 'default' ? '' : ` --variant ${o.variant}`} --force${o.tenant ? ` --tenant ${o.tenant}` : ''}${where}`;
}

/** The reviewed send a round held back (due while the round was), to be queued once the round went out. */
export async function sendWaitingFor(ledger: Ledger, round: RunRow): Promise<number | undefined> {
  const key = (round.meta.review as ReviewMeta | undefined)?.send.key;
  const send = key ? await ledger.runByKey(round.schedule_id, key) : undefined;
  return send?.status === 'due' && send.data === null ? send.id : undefined;
}

/** Whether the review a deadline notice is about has an effective decision (then there is nothing to tell). */
export async function decidedBeforeDeadline(ledger: Ledger, run: RunRow): Promise<boolean> {
  const key = (run.meta.review as ReviewMeta | undefined)?.send.key;
  const review = key ? (await ledger.pool.query<ReviewRow>(LQ.REVIEW_OF_SEND, [run.schedule_id, key])).rows[0] : undefined;
  if (!review) return false;
  return !(await decisionOf(ledger, review)).byDefault;
}
