import { DateTime, Duration } from 'luxon';
import type { ReviewConfig } from '../config/schema.ts';
import { intoWindow, plainRuns, type Planner, type PlannedRun } from '../schedule/plan.ts';

/** The variant of a review round's run: the draft to the reviewers. */
export const REVIEW = 'review';

/** The variant of an answer to a reviewer's reply: what Crier read in it and what became of it. */
export const REVIEW_REPLY = 'review-reply';

/** The variant of the notice to the reviewers, at the deadline, that no decision came and the default applies. */
export const REVIEW_DEADLINE = 'review-deadline';

/** The variant of the notice to the reviewers and the superadmin that a reviewed send was held. */
export const REVIEW_HELD = 'review-held';

/** Is this run part of a review (the round, an answer, a notice) rather than a send of the job kind itself? */
export const isReviewVariant = (variant: string) => [REVIEW, REVIEW_REPLY, REVIEW_DEADLINE, REVIEW_HELD].includes(variant);

/** What a review round's run carries (its meta.review): the send it reviews and the rules. */
export interface ReviewMeta {
  /** The reviewed send: its run key, variant, details and planned time. */
  send: { key: string; variant: string; meta: Record<string, unknown>; at: string };
  /** When decisions are due (ISO instant): the draft's time plus `decide`, and DECISION_MARGIN before the send at the latest. */
  deadline: string;
  default: 'send' | 'hold';
}

/**
 * How long before the send decisions are due at the latest, when a send window squeezes the
 * round towards its send: a reply received just before the deadline is read before the send's
 * fan-out reads the decision.
 */
export const DECISION_MARGIN = Duration.fromObject({ minutes: 15 });

/** The run key of a review round: the reviewed send's key, prefixed. */
export const reviewKey = (sendKey: string) => `${REVIEW}:${sendKey}`;

/**
 * A planner that adds a review round `before` each reviewed send of the job kind: the reviewers
 * (the round's own audience) get the draft then. The reviewed sends themselves are planned as
 * before, same key, same time: a review changes what a send carries, never when or whether it
 * is planned, so exactly-once stays the ledger's, keyed as without a review.
 */
export function withReview(job: Planner & { reviewed?: string[] }, review: ReviewConfig): Planner {
  const reviewed = new Set(job.reviewed ?? ['default']);
  const before = Duration.fromISO(review.before);
  const decide = Duration.fromISO(review.decide);
  return {
    plan(occurrences, ctx) {
      // The sends as they will go out (a kind without a plan: once per occurrence, one per window
      // opening, as plan.ts plans it), so each round comes `before` the send's real time.
      const sends = job.plan ? job.plan(occurrences, ctx).map((r) => intoWindow(r, ctx)) : plainRuns(occurrences, ctx);
      const out: PlannedRun[] = [...sends];
      for (const send of sends) {
        if (!reviewed.has(send.variant)) continue;
        // The round goes out in the send window too, unless the window would push it so late that
        // the reviewers no longer have `decide` before the send: then at its own time, outside the
        // window, as an urgent send is. They decide DECISION_MARGIN before the send at the latest.
        const inWindowUntil = (run: PlannedRun, until: DateTime) => {
          const { asapUntil: _, ...moved } = intoWindow({ ...run, asapUntil: until }, ctx);
          return moved;
        };
        const round = inWindowUntil({ key: reviewKey(send.key), at: send.at.minus(before), variant: REVIEW, meta: {}, occurrence: send.occurrence }, send.at.minus(decide));
        const deadline = DateTime.max(round.at, DateTime.min(round.at.plus(decide), send.at.minus(DECISION_MARGIN)));
        const meta: ReviewMeta = { send: { key: send.key, variant: send.variant, meta: send.meta, at: send.at.toISO()! }, deadline: deadline.toISO()!, default: review.default };
        out.push({ ...round, meta: { audience: review.audience, review: meta } });
        // At the deadline the reviewers hear which default applies; its fan-out sends nothing when they decided.
        out.push({ ...inWindowUntil({ key: `${REVIEW_DEADLINE}:${send.key}`, at: deadline, variant: REVIEW_DEADLINE, meta: {}, occurrence: send.occurrence }, send.at), meta: { audience: review.audience, review: meta }, requires: reviewKey(send.key) });
      }
      return out;
    },
  };
}
