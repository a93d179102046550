import { Interval } from 'luxon';
import { type ActivityCounts, activityIn, byId, catalog, type InputFact, inputItems, list, mostDiscussed, NO_ACTIVITY, offlineNote, type PhaseFact, phaseItems, phases, phasesStartingOrEnding, type ProjectFact, projectTable, type Recipient, recipientProjects, statRows, tileFigures, unanswered, votingKeys, withActivity, defineJobKind } from '../src/kit.ts';

export interface DepartmentData {
  projects: ProjectFact[];
  byProject: Record<string, ActivityCounts>;
  /** Each recipient's projects together (recipientProjects().key): distinct people, counted in SQL. */
  byScope: Record<string, ActivityCounts>;
  mostDiscussed: InputFact[];
  unanswered: InputFact[];
  unansweredCount: Record<string, number>;
  starting: PhaseFact[];
  ending: PhaseFact[];
  /** The month whose phases are listed (the month after the report). */
  upcoming: { start: string; end: string };
}

/** The part of the snapshot one department head's e-mail covers. */
function scoped(data: DepartmentData, r: Recipient) {
  const mine = recipientProjects(r, data.projects);
  return {
    projects: new Map(mine.projects.map((p) => [p.id, p])),
    byProject: mine.counts(data.byProject),
    totals: data.byScope[mine.key] ?? NO_ACTIVITY,
    mostDiscussed: mine.about(data.mostDiscussed),
    unanswered: mine.about(data.unanswered),
    unansweredCount: mine.total(data.unansweredCount),
    starting: mine.about(data.starting),
    ending: mine.about(data.ending),
  };
}

/**
 * Each department head, monthly: one e-mail over all their folders' projects (folder manager
 * on the platform, or `departments:` in the config) so that residents' input reaches the
 * policy agenda: activity, the most discussed inputs, inputs waiting for an answer, and phases
 * starting or ending next month.
 */
const departmentDigest = defineJobKind<DepartmentData>({
  name: 'department-digest',
  description: "last month's input from a department head's folders, what waits for an answer, and next month's phases",
  defaultAudience: [{ platformRole: 'folder-manager' }],
  // Folder managers get the platform's moderator digest; opting out there opts out here.
  consentCampaign: 'EmailCampaigns::Campaigns::ModeratorDigest',
  skipWhenEmpty: false,

  period({ occurrence, timezone }) {
    const month = occurrence.setZone(timezone).startOf('month');
    return Interval.fromDateTimes(month.minus({ months: 1 }), month) as Interval<true>;
  },

  async collect({ platform, period, recipients }) {
    const upcoming = Interval.fromDateTimes(period.end, period.end.plus({ months: 1 })) as Interval<true>;
    const { projects } = await catalog(platform);
    const [activity, discussed, backlog, allPhases] = await Promise.all([
      // The recipients' scopes in the same read as the totals.
      activityIn(platform, period, recipients.map((r) => recipientProjects(r, projects).projects.map((p) => p.id))),
      mostDiscussed(platform, period),
      unanswered(platform, period.end, 5),
      phases(platform),
    ]);
    const { starting, ending } = phasesStartingOrEnding(allPhases, upcoming.start.toISODate()!, upcoming.end.toISODate()!);
    return {
      projects,
      byProject: Object.fromEntries(activity.byProject),
      byScope: activity.byScope,
      mostDiscussed: discussed,
      unanswered: backlog.inputs,
      unansweredCount: backlog.countByProject,
      starting,
      ending,
      upcoming: { start: upcoming.start.toISO()!, end: upcoming.end.toISO()! },
    };
  },

  isEmpty(data, recipient) {
    const s = scoped(data, recipient);
    return s.byProject.size === 0 && s.unansweredCount === 0 && s.starting.length === 0 && s.ending.length === 0;
  },

  view(data, ctx) {
    const t = ctx.t;
    const s = scoped(data, ctx.recipient);
    const month = ctx.format.month(ctx.period.start);
    const totals = s.totals;
    const projects = byId([...s.projects.values()]);
    return {
      subject: t('department-digest.subject', { month, count: totals.inputs + totals.surveyResponses }),
      preheader: t('department-digest.preheader', { inputs: totals.inputs, comments: totals.comments, waiting: s.unansweredCount }),
      scheduleName: t('department-digest.scheduleName'),
      title: t('department-digest.title', { month }),
      intro: t('department-digest.intro', { count: s.projects.size }),
      statRows: statRows(ctx, { ...tileFigures(totals), waiting: s.unansweredCount }, null, ['participants', 'inputs', 'surveyResponses', 'comments', 'reactions', 'waiting', ...votingKeys(totals, null)]),
      statNote: offlineNote(ctx, totals),
      projectTable: projectTable(ctx, t('department-digest.projectsHeading'), withActivity([...s.projects.values()], s.byProject).filter((p) => s.byProject.has(p.id))),
      mostDiscussed: list(ctx, t('common.mostDiscussed'), inputItems(ctx, s.mostDiscussed, projects), { limit: 5 }),
      unanswered: list(ctx, t('common.waitingHeading'), inputItems(ctx, s.unanswered, projects), { limit: 5, total: s.unansweredCount, intro: t('common.waitingIntro') }),
      starting: list(ctx, t('common.phasesStarting', { month: ctx.format.month(ctx.period.end) }), phaseItems(ctx, s.starting, projects, 'start'), { limit: 8 }),
      ending: list(ctx, t('common.phasesEnding', { month: ctx.format.month(ctx.period.end) }), phaseItems(ctx, s.ending, projects, 'end'), { limit: 8 }),
      quiet: s.byProject.size === 0 ? t('department-digest.quiet') : '',
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data, ctx) {
    const s = scoped(data, ctx.recipient);
    return { projects: s.projects.size, totals: s.totals, waiting: s.unansweredCount, starting: s.starting.length, ending: s.ending.length };
  },
});

export default departmentDigest;
