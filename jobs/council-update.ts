import { Interval } from 'luxon';
import { type ActivityCounts, activityIn, barChart, catalog, list, type MonthFact, offlineNote, type ProjectFact, projectTable, projectUrl, statRows, tileFigures, title, type Totals, trendAndTotals, votingKeys, withActivity, defineJobKind } from '../src/kit.ts';

/** Projects the table lists; the rest are "and n more". */
const PROJECT_TABLE_ROWS = 12;

/** The run's snapshot: the period's activity and the period before it. */
export interface CouncilData {
  period: { start: string; end: string; timezone: string };
  previousPeriod: { start: string; end: string } | null;
  /** The first report after launch: launch to the occurrence, nothing to compare with. */
  sinceLaunch: boolean;
  totals: Totals;
  previous: Totals | null;
  projects: (ProjectFact & ActivityCounts)[];
  /** Participants per month over the year up to the period's end (from launch at most). */
  months: MonthFact[];
  /** Projects that went public in the period. */
  newProjects: ProjectFact[];
  /**
   * Rows of the project table, when a review left some of its projects out: the ones the
   * reviewers numbered and kept, so no project they never saw moves up into the table.
   */
  tableRows?: number;
}

/**
 * Policy makers: "inform the city council at the start and every three months". Reports the
 * previous calendar quarter against the one before it; a quarter that began before launch is
 * counted from launch, and the launch-day report (or any whose quarter ended before launch)
 * covers launch to the occurrence.
 */
const councilUpdate = defineJobKind<CouncilData>({
  name: 'council-update',
  description: "the previous quarter's activity for policy makers, against the quarter before; at launch, launch to date",

  period({ occurrence, timezone, launch }) {
    const quarter = occurrence.setZone(timezone).startOf('quarter');
    const start = quarter.minus({ quarters: 1 });
    if (launch && quarter <= launch) return Interval.fromDateTimes(launch, occurrence) as Interval<true>;
    return Interval.fromDateTimes(launch && start < launch ? launch : start, quarter) as Interval<true>;
  },

  async collect({ platform, period, timezone, launch, occurrence }) {
    const sinceLaunch = launch !== undefined && occurrence.setZone(timezone).startOf('quarter') <= launch;
    // Before launch there is nothing to compare with, so a period that starts at launch has no "previous".
    const quarterBefore = period.start.minus({ quarters: 1 });
    const previousPeriod = launch && period.start <= launch ? null : (Interval.fromDateTimes(launch && quarterBefore < launch ? launch : quarterBefore, period.start) as Interval<true>);
    const yearStart = period.end.minus({ months: 12 }).startOf('month');
    const trend = Interval.fromDateTimes(launch && launch > yearStart ? launch : yearStart, period.end) as Interval<true>;
    // The chart's year holds the quarter before: both come from one read of the platform.
    const [current, { months, compared: before }, { projects }] = await Promise.all([activityIn(platform, period), trendAndTotals(platform, trend, timezone, previousPeriod), catalog(platform)]);
    return {
      period: { start: period.start.toISO()!, end: period.end.toISO()!, timezone },
      previousPeriod: previousPeriod ? { start: previousPeriod.start.toISO()!, end: previousPeriod.end.toISO()! } : null,
      sinceLaunch,
      totals: current.totals,
      previous: before,
      projects: withActivity(projects, current.byProject),
      months,
      newProjects: projects.filter((p) => p.firstPublishedAt && p.status !== 'draft' && !p.hidden && p.firstPublishedAt >= period.start.toUTC().toISO()! && p.firstPublishedAt < period.end.toUTC().toISO()!),
    };
  },

  view(data, ctx) {
    const t = ctx.t;
    const range = ctx.format.period(ctx.period);
    // "Q4 2026" (or "T4 2026" where the language says so) for a whole quarter, else the dates.
    const quarter = ctx.format.quarterOf(ctx.period);
    const periodLabel = quarter ? t('common.quarter', { quarter: quarter.quarter, year: String(quarter.year) }) : range;
    const totals = data.totals;
    const key = data.sinceLaunch ? 'council-update.launch' : 'council-update';
    return {
      subject: t(`${key}.subject`, { period: periodLabel, count: totals.participants, platform: ctx.platformName }),
      preheader: t('council-update.preheader', { count: totals.participants, inputs: totals.inputs, comments: totals.comments, votes: totals.votes }),
      scheduleName: t('council-update.scheduleName'),
      title: t(`${key}.title`, { period: periodLabel }),
      intro: t(`${key}.intro`, { platform: ctx.platformName, period: range }),
      statRows: statRows(ctx, tileFigures(totals), data.previous && tileFigures(data.previous), ['participants', 'inputs', 'comments', 'reactions', 'surveyResponses', 'newUsers', ...votingKeys(totals, data.previous)]),
      statNote: offlineNote(ctx, totals),
      chart: data.months.length > 1 ? barChart(ctx, t('council-update.chartHeading'), data.months.map((m) => ({ label: ctx.format.monthShort(`${m.month}-01`), value: m.participants }))) : null,
      newProjects: list(ctx, t('council-update.newProjects', { count: data.newProjects.length }), data.newProjects.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: [p.folderTitle ? title(ctx, p.folderTitle, 40) : '', p.firstPublishedAt ? ctx.format.date(p.firstPublishedAt) : ''].filter(Boolean).join(' · ') })), { limit: 8 }),
      projectTable: projectTable(ctx, t('council-update.projectsHeading'), data.projects, data.tableRows ?? PROJECT_TABLE_ROWS),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  // What the e-mail names: the projects of its table, then the new projects not among them.
  reviewItems(data) {
    const table = data.projects.slice(0, PROJECT_TABLE_ROWS);
    const named = new Set(table.map((p) => p.id));
    return [...table, ...data.newProjects.filter((p) => !named.has(p.id))].map((p) => ({ id: p.id, title: p.title }));
  },

  // Gone from the table and the new projects; the totals and the chart (of all participants) keep
  // them. The table keeps to the rows the reviewers saw: the next project does not move up.
  leaveOut(data, ids) {
    const out = new Set(ids);
    const rows = (data.tableRows ?? PROJECT_TABLE_ROWS) - data.projects.slice(0, data.tableRows ?? PROJECT_TABLE_ROWS).filter((p) => out.has(p.id)).length;
    return { ...data, projects: data.projects.filter((p) => !out.has(p.id)), newProjects: data.newProjects.filter((p) => !out.has(p.id)), tableRows: rows };
  },

  summary(data, ctx) {
    return {
      period: data.period,
      currency: ctx.currency,
      totals: data.totals,
      previous: data.previous,
      newProjects: data.newProjects.map((p) => p.id),
      projects: data.projects.map((p) => ({
        id: p.id,
        title: ctx.text(p.title),
        status: p.status,
        folder: p.folderTitle ? ctx.text(p.folderTitle) : null,
        inputs: p.inputs,
        surveyResponses: p.surveyResponses,
        comments: p.comments,
        reactions: p.reactions,
        ballots: p.ballots,
        voters: p.voters,
        votes: p.votes,
        budget: p.budget,
        participants: p.participants,
      })),
    };
  },
});

export default councilUpdate;
