import { DateTime } from 'luxon';
import type { Ledger } from '../ledger/ledger.ts';
import * as LQ from '../ledger/queries.ts';
import { decisionOf } from './gate.ts';
import type { Decision } from './parse.ts';
import type { Outcome, ReviewRow } from './reply.ts';
import type { ReviewMeta } from './plan.ts';

/*
 * The state of the current review, read once for its two faces: `crier review` (text or
 * --json, whose shape the README documents) and the dashboard's Reviews page. The object is
 * the command's JSON as it is printed, so both show the same thing.
 */

/** A decision as the command prints it: a hold with its reason, or a send with what was left out and the note. */
export type DecisionView = { action: 'hold'; reason: string | null } | { action: 'send'; leaveOut: number[]; note: string | null };

/** A reply to the round, with the message it came from. Times are ISO in the schedule's zone. */
export interface ReviewReplyView {
  receivedAt: string;
  from: string | null;
  verified: boolean;
  outcome: Outcome;
  /** The decision that applies is this reply's. */
  effective: boolean;
  /** What was read in it; null when nothing readable was. */
  decision: DecisionView | null;
  /** Why nothing could be read (none, numbers, range, both, reason, note). */
  problem: string | null;
  message: { inbound: number; subject: string | null; text: string | null };
}

/** The latest review round of some schedules, as `crier review --json` prints it. */
export interface ReviewStatus {
  /** The reviewed send: its run key and variant, when it goes out (`sendAt`) and the occurrence it belongs to (a meeting), the deadline, the default, the round's run. */
  review: { schedule: string; send: string; variant: string; sendAt: string; occurrence: string; deadline: string; default: 'send' | 'hold'; round: number };
  /** Who was asked: the round's deliveries, with whether their draft went out. */
  reviewers: { email: string; name: string; locale: string; status: string; sentAt: string | null; reason: string | null }[];
  /** As the job kind gave it: platform text in every language it has, or plain text. */
  items: { number: number; id: string; title: unknown }[];
  decisions: ReviewReplyView[];
  /** The effective decision, else the default; final once a reviewer decided (the first verified decision stands) or the deadline passed. */
  applies: Decision & { by: string | null; byDefault: boolean; final: boolean };
  /** The reviewed send's run, once it was recorded; `forced`: sent with `crier run … --force` over a hold. */
  sendRun: { id: number; variant: string; status: string; error: string | null; forced: boolean } | null;
}

interface DeliveryOfRound {
  email: string;
  name: string;
  locale: string;
  status: string;
  sent_at: Date | null;
  reason: string | null;
}

interface DecisionRow {
  received_at: Date;
  from_address: string | null;
  verified: boolean;
  outcome: Outcome;
  effective: boolean;
  action: 'send' | 'hold' | null;
  leave_out: number[];
  note: string | null;
  reason: string | null;
  problem: string | null;
  inbound_id: string;
  subject: string | null;
  text: string | null;
}

/**
 * The latest round that went out of any of these schedules (the one reviewing the latest
 * send), or undefined when none has; its times in its schedule's zone. `now` decides whether
 * what applies is final.
 */
export async function reviewStatus(ledger: Ledger, schedules: { id: string; timezone: string }[], now: Date): Promise<ReviewStatus | undefined> {
  const { pool } = ledger;
  const row = (await pool.query<ReviewRow>(LQ.LATEST_REVIEW, [schedules.map((s) => s.id)])).rows[0];
  if (!row) return undefined;
  const schedule = schedules.find((s) => s.id === row.schedule_id)!;
  const local = (d: Date | string) => DateTime.fromJSDate(new Date(d)).setZone(schedule.timezone).toISO()!;
  const asked = (await pool.query<DeliveryOfRound>(LQ.DELIVERIES_OF_RUN, [row.run_id])).rows;
  const replies = (await pool.query<DecisionRow>(LQ.REVIEW_DECISIONS, [row.id])).rows;
  const { decision, by, byDefault } = await decisionOf(ledger, row);
  const send = await ledger.runByKey(row.schedule_id, row.send_key);
  // The send as the round planned it: which of the occurrence's sends, and when it goes out.
  const planned: Pick<ReviewMeta['send'], 'variant' | 'at'> = ((await ledger.run(row.run_id))?.meta.review as ReviewMeta | undefined)?.send ?? { variant: 'default', at: row.occurrence.toISOString() };
  // Built key by key in the order the README documents the JSON in.
  return {
    review: { schedule: row.schedule_id, send: row.send_key, variant: planned.variant, sendAt: local(planned.at), occurrence: local(row.occurrence), deadline: local(row.deadline), default: row.default_decision, round: Number(row.run_id) },
    reviewers: asked.map((d) => ({ email: d.email, name: d.name, locale: d.locale, status: d.status, sentAt: d.sent_at ? local(d.sent_at) : null, reason: d.reason })),
    items: row.items.map((item, i) => ({ number: i + 1, id: item.id, title: item.title })),
    decisions: replies.map((d) => ({
      receivedAt: local(d.received_at),
      from: d.from_address,
      verified: d.verified,
      outcome: d.outcome,
      effective: d.effective,
      decision: d.action === 'hold' ? { action: 'hold', reason: d.reason } : d.action === 'send' ? { action: 'send', leaveOut: d.leave_out, note: d.note } : null,
      problem: d.problem,
      message: { inbound: Number(d.inbound_id), subject: d.subject, text: d.text },
    })),
    applies: { ...decision, by, byDefault, final: !byDefault || now > row.deadline },
    // --force on a send its review did not hold forced nothing.
    sendRun: send ? { id: Number(send.id), variant: send.variant, status: send.status, error: send.error, forced: Boolean(send.meta?.force) && decision.action === 'hold' } : null,
  };
}

/** The reviewed send in words: "the send of Mon 4 Jan 2027 09:00", "the agenda of Wed 7 Apr 2027 14:00, for Wed 14 Apr 2027 14:00". */
export function sendInWords(review: ReviewStatus['review'], when: (iso: string) => string): string {
  const what = review.variant === 'default' ? 'send' : review.variant;
  return `the ${what} of ${when(review.sendAt)}${DateTime.fromISO(review.sendAt).toMillis() === DateTime.fromISO(review.occurrence).toMillis() ? '' : `, for ${when(review.occurrence)}`}`;
}

/** A decision in words, as the command and the dashboard say it: "hold: …", "send; leaving out 3, 5; note "…"". */
export function decisionInWords(d: { action: string; reason?: string | null; leaveOut?: number[]; note?: string | null } | null): string {
  if (!d) return 'nothing readable';
  if (d.action === 'hold') return `hold: ${d.reason}`;
  return ['send', d.leaveOut?.length ? `leaving out ${d.leaveOut.join(', ')}` : '', d.note ? `note "${d.note.replace(/\s+/g, ' ')}"` : ''].filter(Boolean).join('; ');
}
