import { Interval } from 'luxon';
import type { JobKind, ViewContext } from '../src/job-kind.ts';
import { activityIn, projectActivity, type ProjectActivity, type Totals } from '../src/platform/activity.ts';
import { statRows, projectRows } from '../src/render/blocks.ts';

/** The run's snapshot: the period's activity and the period before it. */
export interface CouncilData {
  period: { start: string; end: string; timezone: string };
  previousPeriod: { start: string; end: string };
  totals: Totals;
  previous: Totals;
  projects: ProjectActivity[];
}

/** Projects shown in the e-mail's table; the rest are counted in "and N more". */
const TABLE_LIMIT = 12;

/**
 * Policy makers: the previous quarter's activity on the platform, with the quarter before it
 * for comparison ("inform the city council at the start and every three months").
 */
const councilUpdate: JobKind<CouncilData> = {
  name: 'council-update',
  description: "the previous quarter's activity for policy makers, compared with the quarter before",

  period({ occurrence, timezone }) {
    const quarter = occurrence.setZone(timezone).startOf('quarter');
    return Interval.fromDateTimes(quarter.minus({ quarters: 1 }), quarter) as Interval<true>;
  },

  async collect({ platform, period, timezone }) {
    const length = period.toDuration(['months']);
    const previousPeriod = Interval.fromDateTimes(period.start.minus(length), period.start) as Interval<true>;
    const [current, before] = await Promise.all([activityIn(platform, period), activityIn(platform, previousPeriod)]);
    return {
      period: { start: period.start.toISO()!, end: period.end.toISO()!, timezone },
      previousPeriod: { start: previousPeriod.start.toISO()!, end: previousPeriod.end.toISO()! },
      totals: current.totals,
      previous: before.totals,
      projects: await projectActivity(platform, current.byProject),
    };
  },

  view(data, ctx) {
    const t = ctx.t;
    const periodLabel = ctx.format.period(ctx.period);
    const totals = data.totals;
    const shown = data.projects.slice(0, TABLE_LIMIT);
    return {
      periodLabel,
      subject: t('council-update.subject', { period: periodLabel, count: totals.participants }),
      preheader: t('council-update.preheader', {
        count: totals.participants,
        inputs: ctx.format.number(totals.inputs),
        comments: ctx.format.number(totals.comments),
        votes: ctx.format.number(totals.votes),
      }),
      scheduleName: t('council-update.scheduleName'),
      intro: t('council-update.intro', { platform: ctx.platformName, period: periodLabel }),
      statRows: statRows(ctx, totals, data.previous, ['participants', 'inputs', 'comments', 'reactions', 'votes', 'surveyResponses', 'newUsers']),
      projects: projectRows(ctx, shown),
      moreProjects: data.projects.length > TABLE_LIMIT ? t('common.andMore', { count: data.projects.length - TABLE_LIMIT }) : '',
    };
  },

  summary(data, ctx) {
    return {
      period: data.period,
      totals: data.totals,
      previous: data.previous,
      projects: data.projects.map((p) => ({
        id: p.id,
        title: ctx.text(p.titleMultiloc),
        status: p.status,
        folder: p.folderMultiloc ? ctx.text(p.folderMultiloc) : null,
        inputs: p.inputs,
        surveyResponses: p.surveyResponses,
        comments: p.comments,
        reactions: p.reactions,
        votes: p.votes,
        participants: p.participants,
      })),
    };
  },
};

export default councilUpdate;
export type { ViewContext };
