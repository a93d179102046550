import type pg from 'pg';
import { runValues } from '../ledger/ledger.ts';
import * as LQ from '../ledger/queries.ts';
import { readDecision, type Decision } from './parse.ts';
import { REVIEW_REPLY } from './plan.ts';

/** A review as its ledger row has it. */
export interface ReviewRow {
  id: number;
  schedule_id: string;
  send_key: string;
  occurrence: Date;
  run_id: number;
  deadline: Date;
  default_decision: 'send' | 'hold';
  reviewers: { email: string; name: string; locale: string }[];
  items: { id: string; title: unknown }[];
}

/** The decision that applies to a review, as EFFECTIVE_DECISION reads it (the first verified one). */
export interface EffectiveDecision {
  from_address: string;
  action: 'send' | 'hold';
  leave_out: number[];
  note: string | null;
  reason: string | null;
}

/** The stored decision as a reviewer's Decision (a hold with no reason written has ''). */
export function storedDecision(e: EffectiveDecision): Decision {
  return e.action === 'hold' ? { action: 'hold', reason: e.reason ?? '' } : { action: 'send', leaveOut: e.leave_out, note: e.note };
}

/** What became of a reply, and what the reviewer is told. */
export type Outcome = 'taken' | 'already' | 'late' | 'unclear' | 'unverified';

/** The snapshot of an answer to a reviewer (a review-reply run's meta.reply). */
export interface ReplyData {
  outcome: Exclude<Outcome, 'unverified'>;
  /** What they decided (taken), or what had been decided (already). */
  decision: Decision | null;
  /** Who took the decision that applies, when it is not theirs. */
  by: string | null;
  problem: string | null;
  deadline: string;
  default: 'send' | 'hold';
  items: ReviewRow['items'];
}

/** The delivery a reply was matched to, with its run. */
interface Matched {
  id: number;
  email: string;
  name: string;
  locale: string;
  run_id: number;
  schedule_id: string;
  occurrence: Date;
  job: string;
  timezone: string;
}

/**
 * A reply to a review round, in the transaction of its processing: verified against the
 * review's reviewers, read, kept with the message it came from, and answered (except when
 * it is not from a reviewer: a stranger is not written to). The first verified, readable
 * decision before the deadline applies; the review row is locked, so of two replies processed
 * at once one is first.
 */
export async function reviewReply(
  client: pg.ClientBase,
  inboundId: number,
  reply: { from: string | null; fromName: string | null; text: string; messageId: string | null; receivedAt: Date },
  matched: Matched,
): Promise<{ outcome: Outcome; decision: Decision | null } | null> {
  const review = (await client.query<ReviewRow>(LQ.REVIEW_OF_RUN_FOR_UPDATE, [matched.run_id])).rows[0];
  if (!review) return null;
  const reviewer = review.reviewers.find((r) => r.email === reply.from);
  const reading = readDecision(reply.text, review.items.length);
  const effective = (await client.query<EffectiveDecision>(LQ.EFFECTIVE_DECISION, [review.id])).rows[0];
  // Late by the clock, or read after the send was made (a reply stored in time but processed
  // after a crash, or while the send's fan-out ran): it can no longer change what went out.
  const send = (await client.query<{ status: string; data: unknown }>(LQ.RUN_BY_KEY, [review.schedule_id, review.send_key])).rows[0];
  // Its snapshot taken, the send carries the decision that applied then, even while still due.
  const late = reply.receivedAt > review.deadline || (send !== undefined && (send.status !== 'due' || send.data !== null));
  // Asking to rephrase only helps while a decision can still be taken.
  const outcome: Outcome = !reviewer ? 'unverified' : effective ? 'already' : late ? 'late' : !reading.ok ? 'unclear' : 'taken';
  const decision = reading.ok ? reading.decision : null;
  await client.query(LQ.INSERT_REVIEW_DECISION, [
    review.id,
    inboundId,
    reply.from,
    Boolean(reviewer),
    decision?.action ?? null,
    decision?.action === 'send' ? decision.leaveOut : [],
    decision?.action === 'send' ? decision.note : null,
    decision?.action === 'hold' ? decision.reason : null,
    reading.ok ? null : reading.problem,
    outcome,
    outcome === 'taken',
    reply.receivedAt,
  ]);
  if (reviewer) {
    const applies: Decision | null = outcome === 'already' && effective ? storedDecision(effective) : decision;
    const data: ReplyData = {
      outcome: outcome as ReplyData['outcome'],
      decision: outcome === 'unclear' || outcome === 'late' ? null : applies,
      by: outcome === 'already' ? (effective?.from_address ?? null) : null,
      problem: reading.ok ? null : reading.problem,
      deadline: review.deadline.toISOString(),
      default: review.default_decision,
      items: review.items,
    };
    // The answer goes through the ledger like every e-mail, keyed by the reply, in the reviewer's thread.
    await client.query(
      LQ.INSERT_RUN,
      runValues({
        scheduleId: matched.schedule_id,
        key: `${REVIEW_REPLY}:${inboundId}`,
        occurrence: matched.occurrence,
        job: matched.job,
        timezone: matched.timezone,
        origin: 'reply',
        status: 'due',
        variant: REVIEW_REPLY,
        meta: { reply: data, thread: { deliveryId: Number(matched.id), messageId: reply.messageId ? `<${reply.messageId}>` : null }, recipients: [{ email: reviewer.email, name: reviewer.name, locale: reviewer.locale }] },
      }),
    );
  }
  return { outcome, decision };
}
