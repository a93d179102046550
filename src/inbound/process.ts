import type pg from 'pg';
import type { Logger } from 'pino';
import type { CrierConfig } from '../config/load.ts';
import { runValues, type Ledger } from '../ledger/ledger.ts';
import { answerItems, contentKey, parseInbound, type DeliveryReport, type InboundMessage } from './parse.ts';
import * as Q from './queries.ts';
import { isAddressStatus } from '../smtp-status.ts';
import * as LQ from '../ledger/queries.ts';
import { tokenIn, verifyBounceToken, verifyToken } from './token.ts';
import { REVIEW } from '../review/plan.ts';
import { reviewReply, type Outcome } from '../review/reply.ts';
import type { Decision } from '../review/parse.ts';
import type { AnswerItem } from '../kit/rounds.ts';
import { inTransaction } from '../db.ts';

/** What reading replies uses: the ledger, the inbound settings and deputies, a clock and a log. */
export interface InboundDeps {
  ledger: Ledger;
  log: Logger;
  now(): Date;
  /** mail.bounces: a bounce address of its own (default: the inbound address). */
  config: Pick<CrierConfig, 'inbound' | 'deputies'> & { mail?: Pick<CrierConfig['mail'], 'bounces'> };
}

export type Channel = 'smtp' | 'imap' | 'file';

/** What became of one received message (`crier inbound --json` prints it). */
export interface InboundResult {
  id: number;
  /** The same message had arrived before (by this or another channel): nothing was done again. */
  duplicate: boolean;
  kind: 'answer' | 'unverified' | 'unmatched' | 'auto-reply' | 'bounce' | 'error' | 'review' | null;
  /** A reply to a review round: what became of it, and the decision read in it. */
  review?: { outcome: Outcome; decision: Decision | null };
  from: string | null;
  subject: string;
  round?: { schedule: string; occurrence: string; head: string };
  late?: boolean;
  items?: AnswerItem[];
  /** The delivery a failed delivery status notification marked `bounced` (and whose address it suppressed). */
  bounced?: number;
  /** What a delivery status notification said, and how it was matched to its delivery. */
  dsn?: Omit<DeliveryReport, 'messageId'> & { delivery: number | null; matchedBy: 'verp' | 'message-id' | null };
  error?: string;
}

/** A delivery with its run, as a token or thread header finds it. */
type Matched = { id: number; email: string; name: string; locale: string; message_id: string | null; run_id: number; schedule_id: string; occurrence: Date; variant: string; job: string; timezone: string };

/**
 * Stores a message raw before anything else (what a receiver does before it answers 250), once:
 * a Message-ID seen before, or the same bytes, is a duplicate. Returns its id and whether it is new.
 */
export async function storeMessage(deps: InboundDeps, raw: Buffer, channel: Channel): Promise<{ id: number; duplicate: boolean; parsed: InboundMessage | null; stored?: { kind: InboundResult['kind']; processed: boolean } }> {
  const parsed = await parseInbound(raw).catch((e: Error) => {
    deps.log.warn({ err: e.message }, 'inbound message could not be parsed; stored as it is');
    return null;
  });
  const key = parsed?.dedupeKey ?? contentKey(raw);
  const inserted = await deps.ledger.pool.query(Q.INSERT_MESSAGE, [key, channel, raw, deps.now(), parsed?.from ?? null, parsed?.subject ?? null]);
  if (inserted.rows[0]) return { id: Number(inserted.rows[0].id), duplicate: false, parsed };
  const existing = (await deps.ledger.pool.query(Q.MESSAGE_BY_KEY, [key])).rows[0];
  return { id: Number(existing.id), duplicate: true, parsed, stored: { kind: existing.kind, processed: existing.processed_at !== null } };
}

/**
 * Receives one raw message from any channel: stores it, then processes it (once). A message
 * that arrives again is a duplicate; if the first copy was stored but never processed (a crash,
 * an error), it is processed now.
 */
export async function receive(deps: InboundDeps, raw: Buffer, channel: Channel, envelope: string[] = []): Promise<InboundResult> {
  const stored = await storeMessage(deps, raw, channel);
  if (stored.duplicate) {
    if (!stored.stored?.processed) return processStored(deps, stored.id, stored.parsed, envelope);
    return { id: stored.id, duplicate: true, kind: stored.stored.kind, from: stored.parsed?.from ?? null, subject: stored.parsed?.subject ?? '' };
  }
  return processStored(deps, stored.id, stored.parsed, envelope);
}

/**
 * Processes every stored message not processed yet (a crash between storing and processing, or
 * a processing that failed); run at start and at every tick. One message that fails is logged
 * and left for the next time; it does not stop the others.
 */
export async function processPending(deps: InboundDeps): Promise<InboundResult[]> {
  const out: InboundResult[] = [];
  for (const { id } of (await deps.ledger.pool.query(Q.UNPROCESSED)).rows) {
    try {
      const { raw } = (await deps.ledger.pool.query(Q.MESSAGE_RAW, [id])).rows[0];
      out.push(await processStored(deps, Number(id), await parseInbound(raw).catch(() => null)));
    } catch (e) {
      deps.log.error({ inbound: Number(id), err: (e as Error).message }, 'inbound message not processed; tried again at the next tick');
    }
  }
  return out;
}

/**
 * Works out what a stored message is and records it, in one transaction with what follows from
 * it, so nothing is half done and nothing is done twice: a bounce marks its delivery bounced; an
 * auto-reply is noted; a reply is matched to a round and a head (signed token, else thread) and
 * verified by its sender, and a verified answer's acknowledgement is queued (a run keyed by the
 * answer). A message another processor holds, or that is processed already, is left as it is.
 */
export async function processStored(deps: InboundDeps, id: number, parsed: InboundMessage | null, envelope: string[] = []): Promise<InboundResult> {
  const result = await inTransaction(deps.ledger.pool, async (client) => ((await client.query(Q.CLAIM_MESSAGE, [id])).rows[0] ? classify(deps, client, id, parsed, envelope) : undefined));
  if (!result) {
    const row = (await deps.ledger.pool.query(Q.MESSAGE_BY_ID, [id])).rows[0];
    return { id, duplicate: true, kind: row?.kind ?? null, from: parsed?.from ?? null, subject: parsed?.subject ?? '' };
  }
  deps.log.info({ inbound: id, kind: result.kind, from: result.from, round: result.round }, 'inbound message processed');
  return result;
}

async function classify(deps: InboundDeps, client: pg.PoolClient, id: number, parsed: InboundMessage | null, envelope: string[]): Promise<InboundResult> {
  const record = async (r: Omit<InboundResult, 'id' | 'duplicate' | 'from' | 'subject'>, m: Partial<Matched> = {}, extra: { answeredAt?: Date; text?: string } = {}) => {
    await client.query(Q.RECORD_RESULT, [id, r.kind, m.schedule_id ?? null, m.occurrence ?? null, m.email ?? null, m.id ?? null, extra.answeredAt ?? null, r.late ?? false, extra.text ?? null, r.items ? JSON.stringify(r.items) : null, r.error ?? null]);
    return { id, duplicate: false, from: parsed?.from ?? null, subject: parsed?.subject ?? '', ...r } satisfies InboundResult;
  };
  if (!parsed) return record({ kind: 'error', error: 'not a readable RFC 5322 message' });

  if (parsed.kind === 'bounce') return recordBounce(deps, client, parsed, envelope, record);

  const matched = await match(deps, client, parsed, envelope);
  const round = matched ? { schedule: matched.schedule_id, occurrence: matched.occurrence.toISOString(), head: matched.email } : undefined;

  if (parsed.kind === 'auto-reply') return record({ kind: 'auto-reply', round }, matched ?? {});
  if (!matched) return record({ kind: 'unmatched' }, {}, { text: parsed.answer });

  // A reviewer's reply to a review round: a decision, kept in review_decisions with this message.
  if (matched.variant === REVIEW) {
    const { received_at } = (await client.query(Q.MESSAGE_RAW, [id])).rows[0] as { received_at: Date };
    const review = await reviewReply(client, id, { from: parsed.from, fromName: parsed.fromName ?? null, text: parsed.answer, messageId: parsed.messageId, receivedAt: received_at }, matched);
    if (review) return record({ kind: 'review', round, review }, matched, { text: parsed.answer });
  }

  const call = (await client.query(Q.CALL_RUN, [matched.schedule_id, matched.occurrence])).rows[0] as { meta: { deadline?: string }; job: string; timezone: string } | undefined;
  const deputies = Object.entries(deps.config.deputies).find(([head]) => head.toLowerCase() === matched.email)?.[1] ?? [];
  const verified = parsed.from !== null && (parsed.from === matched.email || deputies.some((d) => d.toLowerCase() === parsed.from));
  const stored = (await client.query(Q.MESSAGE_RAW, [id])).rows[0] as { received_at: Date };
  const answeredAt = answerTime(parsed.date, stored.received_at, matched.occurrence);
  // Late is decided by when Crier received it, not by a date the sender's client wrote.
  const late = call?.meta.deadline ? stored.received_at > new Date(call.meta.deadline) : false;
  const items = answerItems(parsed.answer);
  const result = await record({ kind: verified ? 'answer' : 'unverified', round, late, items }, matched, { answeredAt, text: parsed.answer });
  if (verified && call) {
    // One acknowledgement per answer, through the ledger like every e-mail: keyed by the answer.
    await client.query(
      LQ.INSERT_RUN,
      runValues({
        scheduleId: matched.schedule_id,
        key: `ack:${id}`,
        occurrence: matched.occurrence,
        job: call.job,
        timezone: call.timezone,
        origin: 'reply',
        status: 'due',
        variant: 'ack',
        meta: { answer: id, deadline: call.meta.deadline, thread: { deliveryId: Number(matched.id), messageId: parsed.messageId ? `<${parsed.messageId}>` : null }, recipients: [{ email: parsed.from, name: parsed.from === matched.email ? matched.name : (parsed.fromName ?? parsed.from), locale: matched.locale }] },
      }),
    );
  }
  return result;
}

/**
 * When the head answered, for display: the Date their client wrote when it is plausible (from
 * a few hours before Crier received it, so a message replayed with `crier inbound` keeps its
 * time, to a day after), else when Crier received it.
 */
function answerTime(date: Date | null, received: Date, call: Date): Date {
  const earliest = Math.max(call.getTime(), received.getTime() - 6 * 3_600_000);
  if (date && date.getTime() >= earliest && date.getTime() <= received.getTime() + 86_400_000) return date;
  return received;
}

type RecordResult = (r: Omit<InboundResult, 'id' | 'duplicate' | 'from' | 'subject'>, m?: Partial<Matched>) => Promise<InboundResult>;

/**
 * A delivery status notification: matched to its delivery by the signed VERP token of the
 * address it came to (the envelope recipient, else To, Delivered-To, X-Original-To), else by the
 * original Message-ID (its returned headers, or References; Crier's Message-IDs carry a signature,
 * so they cannot be guessed). A failed one (Action: failed, a 5.x.x Status) marks the delivery
 * `bounced`, even when it was sent and settled, and, when it says the address is bad (5.1.x,
 * 5.2.1) and is about the delivery's own address, suppresses it for every e-mail, in the
 * transaction of the processing; a delayed one (4.x.x) or a
 * success notice is only recorded. A token that does not verify matches nothing at all.
 */
async function recordBounce(deps: InboundDeps, client: pg.PoolClient, parsed: InboundMessage, envelope: string[], record: RecordResult): Promise<InboundResult> {
  const report: DeliveryReport = parsed.bounce ?? { messageId: null, recipient: null, action: null, status: null, diagnostic: null };
  let target: Matched | undefined;
  let matchedBy: 'verp' | 'message-id' | null = null;
  const verp = bounceTokenIn(deps, [...envelope.map((a) => a.toLowerCase()), ...parsed.recipients]);
  if (verp === 'forged') deps.log.warn({ to: [...envelope, ...parsed.recipients] }, 'delivery status notification with a bounce token that does not verify: matched to nothing');
  else if (verp !== null) {
    target = (await client.query<Matched>(Q.DELIVERY_BY_ID, [verp])).rows[0];
    if (target) matchedBy = 'verp';
  }
  if (!target && verp === null) {
    target = (await client.query<Matched>(Q.DELIVERIES_BY_MESSAGE_ID, [asStored([report.messageId, ...parsed.thread])])).rows[0];
    if (target) matchedBy = 'message-id';
  }
  const failed = (report.action === 'failed' || report.action === null) && /^5\./.test(report.status ?? '');
  const detail = [report.status, report.diagnostic].filter(Boolean).join(' ') || 'no status';
  // Suppressed only when the report is about this very address (not a forwarding target that
  // kept the original envelope sender) and says the address is bad (5.1.x), not a policy refusal.
  const sameAddress = !report.recipient || report.recipient.toLowerCase() === target?.email;
  const suppress = Boolean(target && failed && sameAddress && isAddressStatus(report.status ?? undefined));
  if (target && failed) {
    await client.query(Q.MARK_BOUNCED, [target.id, `bounced: ${detail}${report.recipient && !sameAddress ? ` (for ${report.recipient})` : ''}`]);
    // A hard bounce: no e-mail to this address until a person lifts it (crier suppressions remove).
    if (suppress) await client.query(LQ.INSERT_SUPPRESSION, [target!.email, 'all', '', 'bounced', detail, target!.id]);
  }
  if (target) deps.log.info({ delivery: Number(target.id), action: report.action, status: report.status, matchedBy }, failed ? (suppress ? 'delivery bounced; address suppressed' : 'delivery bounced') : 'delivery status notification recorded; nothing changed');
  const { messageId: _original, ...said } = report;
  return record(
    {
      kind: 'bounce',
      round: target ? { schedule: target.schedule_id, occurrence: target.occurrence.toISOString(), head: target.email } : undefined,
      bounced: target && failed ? Number(target.id) : undefined,
      dsn: { ...said, delivery: target ? Number(target.id) : null, matchedBy },
    },
    target ?? {},
  );
}

/**
 * Crier's inbound mailboxes, lower case: the inbound address, and the bounce address
 * (mail.bounces) when it has one of its own. Their `+token` forms are replies and VERP bounces.
 */
export function inboundMailboxes(deps: Pick<InboundDeps, 'config'>): string[] {
  const inbound = deps.config.inbound;
  if (!inbound) return [];
  return [...new Set([inbound.address, deps.config.mail?.bounces].filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase()))];
}

/**
 * The delivery a VERP token among `addresses` names; 'forged' when a bounce token is there but
 * does not verify; null when there is none (a reply token is not a bounce token).
 */
function bounceTokenIn(deps: InboundDeps, addresses: string[]): number | 'forged' | null {
  const inbound = deps.config.inbound;
  if (!inbound) return null;
  let forged = false;
  const bases = inboundMailboxes(deps);
  for (const address of addresses) {
    for (const base of bases) {
      const token = tokenIn(address, base);
      if (!token || !/^b\d/.test(token)) continue;
      const id = verifyBounceToken(inbound.secret, token);
      if (id !== null) return id;
      forged = true;
    }
  }
  return forged ? 'forged' : null;
}

/** Message-IDs as the ledger stores a sent one: in angle brackets, as nodemailer returns it. */
const asStored = (ids: (string | null | undefined)[]) => ids.filter((id): id is string => Boolean(id)).map((id) => `<${id}>`);

/** The call delivery a reply belongs to: by its signed token, else by its thread headers. */
async function match(deps: InboundDeps, pool: pg.ClientBase, parsed: InboundMessage, envelope: string[]): Promise<Matched | null> {
  const inbound = deps.config.inbound;
  if (inbound) {
    for (const address of [...envelope.map((a) => a.toLowerCase()), ...parsed.recipients]) {
      const token = tokenIn(address, inbound.address);
      // A bounce address (an auto-reply to the Return-Path) names no call: the thread may.
      if (!token || verifyBounceToken(inbound.secret, token) !== null) continue;
      const deliveryId = verifyToken(inbound.secret, token);
      // A token that does not verify matches nothing, not even through the thread.
      if (deliveryId === null) return null;
      const row = (await pool.query<Matched>(Q.DELIVERY_BY_ID, [deliveryId])).rows[0];
      return row ?? null;
    }
  }
  if (!parsed.thread.length) return null;
  const [row] = (await pool.query<Matched>(Q.CALL_DELIVERIES_BY_MESSAGE_ID, [asStored(parsed.thread)])).rows;
  return row ?? null;
}
