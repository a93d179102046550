import { DateTime } from 'luxon';
import type { JobKind, ViewContext } from '../kit/contract.ts';
import { list } from '../kit/blocks.ts';
import type { ReviewData } from './draft.ts';

/** An item's title in the reviewer's language, on one line. */
function itemTitle(ctx: ViewContext, title: ReviewData['items'][number]['title']): string {
  const text = typeof title === 'string' ? title : ctx.text(title);
  return text.replace(/\s+/g, ' ').trim() || ctx.t('common.untitled');
}

/** The reviewed send's view for this reviewer, in their language: its subject and name. */
function innerView(inner: JobKind, data: ReviewData, ctx: ViewContext): { subject?: string; scheduleName?: string } {
  return inner.view(data.draft, { ...ctx, variant: data.send.variant, meta: data.send.meta }) as { subject?: string; scheduleName?: string };
}

const kinds = new WeakMap<JobKind, JobKind<ReviewData>>();

/**
 * The e-mail of a review round, for the reviewed job kind `inner`: what the send will report
 * (its items numbered), how to decide by replying, and by when. The drafts themselves are
 * attached by compose (src/review/attach.ts). Replies come back to a personal, signed address.
 */
export function reviewKind(inner: JobKind): JobKind {
  let kind = kinds.get(inner);
  if (kind) return kind as JobKind;
  kind = {
    name: 'review',
    description: `the review round before a ${inner.name} send`,
    period: (ctx) => inner.period({ ...ctx, variant: (ctx.meta?.review as { send?: { variant?: string } } | undefined)?.send?.variant ?? 'default' }),
    collect: () => Promise.reject(new Error('a review round is collected by the engine (src/review/draft.ts)')),
    conversation: () => 'new',
    view(data, ctx) {
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
        steps: list(
          ctx,
          t('review.howTo.heading'),
          [
            { title: t('review.howTo.approve'), url: '', meta: t('review.howTo.approveMeta') },
            ...(data.items.length ? [{ title: t('review.howTo.leaveOut'), url: '', meta: t('review.howTo.leaveOutMeta') }] : []),
            { title: t('review.howTo.hold'), url: '', meta: t('review.howTo.holdMeta') },
            { title: t('review.howTo.add'), url: '', meta: t('review.howTo.addMeta') },
          ],
          { limit: 10 },
        ),
        decideBy: t(`review.decideBy.${data.default}`, { deadline }),
        cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
      };
    },
    summary: (data) => ({ send: data.send.key, deadline: data.deadline, default: data.default, items: data.items.length, languages: data.samples.map((s) => s.locale) }),
  } satisfies JobKind<ReviewData>;
  kinds.set(inner, kind);
  return kind as JobKind;
}
