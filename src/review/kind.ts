import { DateTime } from 'luxon';
import type { JobKind, ViewContext } from '../kit/contract.ts';
import { list } from '../kit/blocks.ts';
import type { ReviewData } from './draft.ts';
import type { Decision } from './parse.ts';
import type { ReplyData } from './reply.ts';
import { forceCommand } from './gate.ts';
import { REVIEW_DEADLINE, REVIEW_HELD, type ReviewMeta } from './plan.ts';

/** What the notice of a held send says (a review-held run's meta.held). */
interface HeldData {
  reason: string | null;
  by: string | null;
  schedule: string;
  occurrence: string;
  timezone: string;
  /** The command that sends it anyway (see forceCommand); absent in notices recorded before it was kept. */
  command?: string;
}

/** To the reviewers and the superadmin: the send was held, why, and the command that sends it anyway. */
function heldView(data: HeldData, ctx: ViewContext) {
  const t = ctx.t;
  const date = ctx.format.date(DateTime.fromISO(data.occurrence));
  const command = data.command ?? forceCommand({ schedule: data.schedule, occurrence: data.occurrence, timezone: data.timezone, variant: 'default' });
  return {
    subject: t('review.held.subject', { schedule: data.schedule, date }),
    preheader: t('review.held.title'),
    scheduleName: t('review.scheduleName'),
    title: t('review.held.title'),
    intro: data.reason ? t('review.held.intro', { schedule: data.schedule, date, by: data.by ?? '', reason: data.reason }) : t('review.held.introDefault', { schedule: data.schedule, date }),
    decideBy: t('review.held.force', { command }),
    cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
  };
}

/** At the deadline, with no decision: which default applies. */
function deadlineView(data: ReviewMeta, ctx: ViewContext) {
  const t = ctx.t;
  const vars = { deadline: ctx.format.date(DateTime.fromISO(data.deadline)), date: ctx.format.date(DateTime.fromISO(data.send.at)) };
  return {
    subject: t(`review.deadline.${data.default}.subject`, vars),
    preheader: t(`review.deadline.${data.default}.intro`, vars),
    scheduleName: t('review.scheduleName'),
    title: t(`review.deadline.${data.default}.subject`, vars),
    intro: t(`review.deadline.${data.default}.intro`, vars),
    cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
  };
}

/** A decision in the reviewer's words: "send as drafted, leaving out 3 and 5, with a note", "hold: …". */
export function describeDecision(ctx: ViewContext, d: Decision): string {
  if (d.action === 'hold') return ctx.t('review.decision.hold', { reason: d.reason });
  const parts = [d.leaveOut.length ? ctx.t('review.decision.leaveOut', { numbers: d.leaveOut.join(', ') }) : '', d.note ? ctx.t('review.decision.note', { note: d.note.replace(/\s+/g, ' ') }) : ''].filter(Boolean);
  return [ctx.t('review.decision.send'), ...parts].join('; ');
}

/** The answer to a reviewer's reply: their decision recorded, one taken before, too late, or please rephrase. */
function replyView(data: ReplyData, ctx: ViewContext) {
  const t = ctx.t;
  const deadline = ctx.format.date(DateTime.fromISO(data.deadline));
  const decision = data.decision ? describeDecision(ctx, data.decision) : '';
  const left = data.decision?.action === 'send' ? data.decision.leaveOut : [];
  return {
    subject: t(`review.reply.${data.outcome}.subject`),
    preheader: t(`review.reply.${data.outcome}.title`),
    scheduleName: t('review.scheduleName'),
    title: t(`review.reply.${data.outcome}.title`),
    intro: t(`review.reply.${data.outcome}.intro`, { decision, by: data.by ?? '', deadline, default: t(`review.default.${data.default}`), problem: data.problem ? t(`review.problem.${data.problem}`) : '' }),
    items: list(ctx, t('review.reply.leftOut'), left.map((n) => ({ title: `${n}. ${data.items[n - 1] ? itemTitle(ctx, data.items[n - 1].title as ReviewData['items'][number]['title']) : ''}`, url: '', meta: '' })), { limit: 500 }),
    steps: data.outcome === 'unclear' ? steps(ctx, data.items.length > 0) : null,
    cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
  };
}

/** How to decide, as the round's e-mail and a request to rephrase list it. */
function steps(ctx: ViewContext, hasItems: boolean) {
  const t = ctx.t;
  return list(
    ctx,
    t('review.howTo.heading'),
    [
      { title: t('review.howTo.approve'), url: '', meta: t('review.howTo.approveMeta') },
      ...(hasItems ? [{ title: t('review.howTo.leaveOut'), url: '', meta: t('review.howTo.leaveOutMeta') }] : []),
      { title: t('review.howTo.hold'), url: '', meta: t('review.howTo.holdMeta') },
      { title: t('review.howTo.add'), url: '', meta: t('review.howTo.addMeta') },
    ],
    { limit: 10 },
  );
}

/** An item's title in the reviewer's language, on one line. */
function itemTitle(ctx: ViewContext, title: ReviewData['items'][number]['title']): string {
  const text = typeof title === 'string' ? title : ctx.text(title);
  return text.replace(/\s+/g, ' ').trim() || ctx.t('common.untitled');
}

/** The reviewed send's view for this reviewer, in their language: its subject and name. */
function innerView(inner: JobKind, data: ReviewData, ctx: ViewContext): { subject?: string; scheduleName?: string } {
  return inner.view(data.draft, { ...ctx, variant: data.send.variant, meta: data.send.meta }) as { subject?: string; scheduleName?: string };
}

const kinds = new WeakMap<JobKind, JobKind<ReviewData | ReplyData>>();

const isReply = (data: ReviewData | ReplyData): data is ReplyData => 'outcome' in data;

/**
 * The e-mail of a review round, for the reviewed job kind `inner`: what the send will report
 * (its items numbered), how to decide by replying, and by when. The drafts themselves are
 * attached by compose (src/delivery/review-drafts.ts). Replies come back to a personal, signed address.
 */
export function reviewKind(inner: JobKind): JobKind {
  let kind = kinds.get(inner);
  if (kind) return kind as JobKind;
  kind = {
    name: 'review',
    description: `the review round before a ${inner.name} send`,
    period: (ctx) => inner.period({ ...ctx, variant: (ctx.meta?.review as { send?: { variant?: string } } | undefined)?.send?.variant ?? 'default' }),
    collect: () => Promise.reject(new Error('a review round is collected by the engine (src/review/draft.ts)')),
    // The round starts a conversation per reviewer; an answer to their reply continues it (same personal address, same thread).
    conversation: (data, ctx) => (isReply(data) ? ((ctx.meta.thread as { deliveryId: number; messageId: string | null } | undefined) ?? undefined) : 'new'),
    view(data, ctx) {
      if (ctx.variant === REVIEW_HELD) return heldView(data as unknown as HeldData, ctx);
      if (ctx.variant === REVIEW_DEADLINE) return deadlineView(data as unknown as ReviewMeta, ctx);
      if (isReply(data)) return replyView(data, ctx);
      const t = ctx.t;
      const draft = innerView(inner, data, ctx);
      const sendAt = ctx.format.date(DateTime.fromISO(data.send.at));
      const deadline = ctx.format.date(DateTime.fromISO(data.deadline));
      const languages = data.samples.map((s) => s.locale).join(', ');
      return {
        subject: t('review.subject', { subject: draft.subject ?? inner.name }),
        preheader: t('review.preheader', { date: sendAt, deadline }),
        scheduleName: draft.scheduleName ?? inner.name,
        title: t('review.title'),
        intro: t('review.intro', { date: sendAt, languages: languages || '—' }),
        items: list(
          ctx,
          t('review.itemsHeading'),
          data.items.map((item, i) => ({ title: `${i + 1}. ${itemTitle(ctx, item.title)}`, url: '', meta: '' })),
          { limit: 500, empty: t('review.noItems') },
        ),
        steps: steps(ctx, data.items.length > 0),
        decideBy: t(`review.decideBy.${data.default}`, { deadline }),
        cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
      };
    },
    summary: (data) => (isReply(data) ? { outcome: data.outcome, decision: data.decision } : { send: data.send.key, deadline: data.deadline, default: data.default, items: data.items.length, languages: data.samples.map((s) => s.locale) }),
  } satisfies JobKind<ReviewData | ReplyData>;
  kinds.set(inner, kind);
  return kind as JobKind;
}
