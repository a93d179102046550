import type pg from 'pg';
import type { AnswerItem, Round, RoundAnswer, RoundHead, RoundReader } from '../kit/rounds.ts';
import * as Q from './queries.ts';

type MessageRow = { id: number; kind: string; head_email: string | null; from_address: string | null; subject: string | null; answered_at: Date | null; received_at: Date; late: boolean; text: string | null; items: AnswerItem[] | null };

const answerOf = (m: MessageRow): RoundAnswer => ({ id: Number(m.id), receivedAt: (m.answered_at ?? m.received_at).toISOString(), from: m.from_address ?? '', verified: m.kind === 'answer', late: m.late, text: m.text ?? '', items: m.items ?? [] });

/** Reads rounds from the ledger's connection. */
export function roundReader(pool: pg.Pool, now: () => Date = () => new Date()): RoundReader {
  const reader: RoundReader = {
    async round(scheduleId, occurrence) {
      const call = (await pool.query(Q.CALL_RUN, [scheduleId, occurrence])).rows[0] as { meta: { deadline?: string }; occurrence: Date } | undefined;
      if (!call) return null;
      const [heads, messages, unmatched] = await Promise.all([
        pool.query(Q.ROUND_HEADS, [scheduleId, occurrence]),
        pool.query<MessageRow>(Q.ROUND_MESSAGES, [scheduleId, occurrence]),
        pool.query(Q.UNMATCHED_BETWEEN, [occurrence, now()]),
      ]);
      return {
        schedule: scheduleId,
        occurrence: call.occurrence.toISOString(),
        deadline: call.meta.deadline ?? call.occurrence.toISOString(),
        heads: heads.rows.map((h): RoundHead => {
          const mine = messages.rows.filter((m) => m.head_email === h.email);
          const answers = mine.filter((m) => m.kind === 'answer').map(answerOf);
          return {
            email: h.email,
            name: h.name,
            locale: h.locale,
            scope: h.scope ?? {},
            call: { deliveryId: Number(h.id), messageId: h.message_id, status: h.status },
            status: answers.some((a) => !a.late) ? 'answered' : answers.length ? 'late' : 'missing',
            answers,
            unverified: mine.filter((m) => m.kind === 'unverified').map((m) => ({ id: Number(m.id), receivedAt: (m.answered_at ?? m.received_at).toISOString(), from: m.from_address ?? '', text: m.text ?? '' })),
            ignored: mine.filter((m) => m.kind === 'auto-reply' || m.kind === 'bounce').map((m) => ({ id: Number(m.id), receivedAt: m.received_at.toISOString(), from: m.from_address ?? '', kind: m.kind as 'auto-reply' | 'bounce' })),
          };
        }),
        unmatched: unmatched.rows.map((m) => ({ id: Number(m.id), receivedAt: m.received_at.toISOString(), from: m.from_address, subject: m.subject ?? '' })),
      };
    },

    async latest(scheduleIds) {
      const row = (await pool.query(Q.LATEST_ROUND, [scheduleIds ?? null])).rows[0];
      return row ? reader.round(row.schedule_id, row.occurrence) : null;
    },

    async answer(id) {
      const m = (await pool.query(Q.ANSWER_BY_ID, [id])).rows[0];
      return m ? { ...answerOf(m), headEmail: m.head_email } : null;
    },

    async lateAnswers(from, to) {
      const rows = (await pool.query(Q.LATE_ANSWERS_BETWEEN, [from, to])).rows;
      return rows.map((m) => ({ ...answerOf({ ...m, kind: 'answer', late: true, received_at: m.answered_at }), headEmail: m.head_email, schedule: m.schedule_id, occurrence: (m.occurrence as Date).toISOString() }));
    },
  };
  return reader;
}
