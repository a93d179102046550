import { DateTime, Interval } from 'luxon';
import type { JobKind, PeriodContext, Recipient, ReviewItem } from '../kit/contract.ts';
import type { Platform } from '../platform/platform.ts';
import type { RoundReader } from '../kit/rounds.ts';
import type { ReviewMeta } from './plan.ts';

/** A review round's snapshot: the reviewed send's own snapshot and what the reviewers are shown of it. */
export interface ReviewData {
  /** The schedule's job kind (the draft is its e-mail). */
  job: string;
  send: ReviewMeta['send'];
  deadline: string;
  default: 'send' | 'hold';
  /** The reviewed send's snapshot, as its job kind collected it: the send carries this one. */
  draft: unknown;
  /** The reviewed send's period (ISO), which its e-mail reports. */
  period: { start: string; end: string };
  /** Numbered from 1 in this order for the reviewers. */
  items: ReviewItem[];
  /** One recipient per language the send's audience reads: whom each draft is rendered for. */
  samples: Pick<Recipient, 'email' | 'name' | 'locale'>[];
}

/**
 * Collects the reviewed send's snapshot now, for its real audience, so the reviewers judge the
 * figures the council will get: the send carries this very snapshot (see review/decision.ts),
 * and "leave out 3" names the project numbered 3 here.
 */
export async function collectDraft(
  inner: JobKind,
  ctx: PeriodContext & { variant: string; meta: Record<string, unknown> },
  review: ReviewMeta,
  deps: { platform: Platform; rounds: RoundReader; audience: Recipient[] },
): Promise<ReviewData> {
  const period = inner.period(ctx);
  const draft = JSON.parse(JSON.stringify(await inner.collect({ ...ctx, period, platform: deps.platform, recipients: deps.audience, rounds: deps.rounds })));
  const samples = new Map<string, Pick<Recipient, 'email' | 'name' | 'locale'>>();
  for (const r of deps.audience) if (!samples.has(r.locale)) samples.set(r.locale, { email: r.email, name: r.name, locale: r.locale });
  return {
    job: inner.name,
    send: review.send,
    deadline: review.deadline,
    default: review.default,
    draft,
    period: { start: period.start.toISO()!, end: period.end.toISO()! },
    // Numbered only when they can be left out: a number is there to be named in "leave out 3".
    items: (inner.leaveOut && inner.reviewItems?.(draft)) || [],
    samples: [...samples.values()],
  };
}

/** The reviewed send's period, in the schedule's zone. */
export function draftPeriod(data: ReviewData, timezone: string): Interval<true> {
  return Interval.fromDateTimes(DateTime.fromISO(data.period.start, { zone: timezone }), DateTime.fromISO(data.period.end, { zone: timezone })) as Interval<true>;
}
