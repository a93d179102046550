import type { JobKind, ViewContext } from '../kit/contract.ts';
import { hasMessage } from '../render/catalog.ts';
import type { ReviewData } from './draft.ts';
import type { Decision } from './parse.ts';

/**
 * What a review adds to a send's snapshot, beside the job kind's own data: the note to show on
 * top and how many items were left out. Kept in the snapshot under this key, so the e-mail as
 * sent (and the dashboard's copy of it) shows the same.
 */
export const REVIEWED = '_review';

export interface Reviewed {
  note: string | null;
  notListed: number;
}

/**
 * The reviewed send's snapshot with a send decision applied: the round's snapshot (what the
 * reviewers numbered), the items left out removed by the job kind's leaveOut (totals stay:
 * a total is a total), and the note.
 */
export function applyDecision(job: JobKind, round: ReviewData, decision: Extract<Decision, { action: 'send' }>): unknown {
  const ids = decision.leaveOut.map((n) => round.items[n - 1]?.id).filter((id): id is string => Boolean(id));
  const data = ids.length && job.leaveOut ? job.leaveOut(round.draft, ids) : round.draft;
  return { ...(data as object), [REVIEWED]: { note: decision.note, notListed: job.leaveOut ? ids.length : 0 } satisfies Reviewed };
}

/**
 * A note written in several languages, one per line ("nl: …", "fr-BE: …"): the line of the
 * reader's language, else the note as written. A note in one language is shown as written.
 */
export function noteFor(note: string, locale: string): string {
  const lines = note.split('\n').map((l) => l.trim()).filter(Boolean);
  const tagged = lines.map((l) => /^([a-z]{2})(?:-[A-Za-z]{2})?\s*:\s*(.+)$/.exec(l));
  if (!tagged.length || tagged.some((m) => !m)) return note;
  const mine = tagged.find((m) => m![1] === locale.slice(0, 2).toLowerCase());
  return mine ? mine[2] : note;
}

/**
 * The layout's fields for a reviewed send: its note in the reader's language, and "n projects
 * not listed", in the job kind's own words when its catalogue section has them (a steering
 * agenda's points, left out at its chair's request).
 */
export function reviewFields(data: unknown, ctx: Pick<ViewContext, 't' | 'recipient'>, job: string): { reviewNote?: string; notListed?: string } {
  const r = data && typeof data === 'object' ? ((data as Record<string, unknown>)[REVIEWED] as Reviewed | undefined) : undefined;
  if (!r) return {};
  const notListed = hasMessage(`${job}.notListed`) ? `${job}.notListed` : 'review.notListed';
  return {
    ...(r.note ? { reviewNote: noteFor(r.note, ctx.recipient.locale) } : {}),
    ...(r.notListed ? { notListed: ctx.t(notListed, { count: r.notListed }) } : {}),
  };
}
