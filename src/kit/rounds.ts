import type { RecipientScope } from '../platform/types.ts';

/*
 * What job kinds read of the project-call rounds (Crier's own tables, filled by the inbound
 * channels in src/inbound/): the heads asked, what they answered, and how to read them.
 */

/** An item of an answer: a project a department is working on. */
export interface AnswerItem {
  title: string;
  description: string;
}

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
