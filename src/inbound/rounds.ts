import type pg from 'pg';
import type { RecipientScope } from '../platform/types.ts';
import type { AnswerItem } from './parse.ts';
import * as Q from './queries.ts';

/** An answer to a project call, as the head (or a deputy) wrote it. */
export interface RoundAnswer {
  id: number;
  /** When it was written (ISO). */
  receivedAt: string;
  from: string;
  verified: boolean;
  late: boolean;
  text: string;
  items: AnswerItem[];
}

/** A department head asked in a round, and what came back from them. */
export interface RoundHead {
  email: string;
  name: string;
  locale: string;
  /** Their department: the folders and projects their call covered. */
  scope: RecipientScope;
  /** The call they were sent: the thread reminders continue. */
  call: { deliveryId: number; messageId: string | null; status: string };
  /** answered: a verified answer by the deadline; late: only after it; missing: none. */
  status: 'answered' | 'late' | 'missing';
  /** Verified answers, oldest first (the latest counts). */
  answers: RoundAnswer[];
  /** Replies that matched this head but came from another address. */
  unverified: { id: number; receivedAt: string; from: string; text: string }[];
  /** Auto-replies and bounces about this head's call. */
  ignored: { id: number; receivedAt: string; from: string; kind: 'auto-reply' | 'bounce' }[];
}

/** One project-call round: one occurrence of the schedule, its heads and their answers. */
export interface Round {
  schedule: string;
  /** The call's occurrence (ISO). */
  occurrence: string;
  /** When answers were due (ISO). */
  deadline: string;
  heads: RoundHead[];
  /** Replies matched to nothing since the call (no token, no thread). */
  unmatched: { id: number; receivedAt: string; from: string | null; subject: string }[];
}

/** What job kinds and commands read of the rounds: Crier's own tables, not the platform. */
export interface RoundReader {
  /** The round of (schedule, occurrence), or null when its call has not been fanned out. */
  round(scheduleId: string, occurrence: Date): Promise<Round | null>;
  /** The latest round that went out, of these schedules (default: any). */
  latest(scheduleIds?: string[]): Promise<Round | null>;
  /** One answer (for its acknowledgement). */
  answer(id: number): Promise<(RoundAnswer & { headEmail: string }) | null>;
  /** Verified answers received after their round's deadline, in [from, to): for the steering agenda. */
  lateAnswers(from: Date, to: Date): Promise<(RoundAnswer & { headEmail: string; schedule: string; occurrence: string })[]>;
}

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
