import { Interval } from 'luxon';
import { type ActivityCounts, activityIn, byId, catalog, type InputFact, inputItems, list, newInputs, NO_ACTIVITY, type PhaseFact, phaseItems, phases, phasesStartingOrEnding, type ProjectFact, projectUrl, type Recipient, recipientProjects, statRows, title, unanswered, defineJobKind } from '../src/kit.ts';

export interface ModeratorData {
  projects: ProjectFact[];
  byProject: Record<string, ActivityCounts>;
  /** Each moderator's projects together (recipientProjects().key), counted in SQL. */
  byScope: Record<string, ActivityCounts>;
  newInputs: InputFact[];
  unanswered: InputFact[];
  unansweredCount: Record<string, number>;
  /** Phases ending within 7 days of the digest. */
  ending: PhaseFact[];
}

function scoped(data: ModeratorData, r: Recipient) {
  const mine = recipientProjects(r, data.projects);
  return {
    projects: mine.projects,
    byProject: mine.counts(data.byProject),
    totals: data.byScope[mine.key] ?? NO_ACTIVITY,
    newInputs: mine.about(data.newInputs),
    unanswered: mine.about(data.unanswered),
    unansweredCount: mine.total(data.unansweredCount),
    ending: mine.about(data.ending),
    drafts: mine.projects.filter((p) => p.status === 'draft' && !p.hidden),
  };
}

/**
 * Every project moderator, internal (a platform account with the role) or external (in the
 * config with `projects:`), weekly, for the projects they moderate: new inputs, inputs without
 * an official answer, phases ending within a week and their draft projects. Nothing to report,
 * no e-mail (recorded as skipped).
 */
const moderatorDigest = defineJobKind<ModeratorData>({
  name: 'moderator-digest',
  description: "the week's new inputs, unanswered inputs, phases ending soon and drafts, per moderator's projects",
  defaultAudience: [{ platformRole: 'project-manager' }],
  consentCampaign: 'EmailCampaigns::Campaigns::ModeratorDigest',
  skipWhenEmpty: true,

  period({ occurrence }) {
    return Interval.fromDateTimes(occurrence.minus({ days: 7 }), occurrence) as Interval<true>;
  },

  async collect({ platform, period, occurrence, timezone, recipients }) {
    const today = occurrence.setZone(timezone).startOf('day');
    const { projects } = await catalog(platform);
    const [activity, fresh, backlog, allPhases] = await Promise.all([
      // The recipients' scopes in the same read as the totals.
      activityIn(platform, period, recipients.map((r) => recipientProjects(r, projects).projects.map((p) => p.id))),
      newInputs(platform, period, 10),
      unanswered(platform, period.end, 5),
      phases(platform),
    ]);
    return {
      projects,
      byProject: Object.fromEntries(activity.byProject),
      byScope: activity.byScope,
      newInputs: fresh,
      unanswered: backlog.inputs,
      unansweredCount: backlog.countByProject,
      ending: phasesStartingOrEnding(allPhases, today.toISODate()!, today.plus({ days: 7 }).toISODate()!).ending,
    };
  },

  isEmpty(data, recipient) {
    const s = scoped(data, recipient);
    return s.newInputs.length === 0 && s.unansweredCount === 0 && s.ending.length === 0 && s.drafts.length === 0;
  },

  view(data, ctx) {
    const t = ctx.t;
    const s = scoped(data, ctx.recipient);
    const projects = byId(s.projects);
    const totals = s.totals;
    return {
      subject: t('moderator-digest.subject', { count: totals.inputs, waiting: s.unansweredCount }),
      preheader: t('moderator-digest.preheader', { inputs: totals.inputs, comments: totals.comments, waiting: s.unansweredCount }),
      scheduleName: t('moderator-digest.scheduleName'),
      title: t('moderator-digest.title', { period: ctx.format.period(ctx.period) }),
      intro: t('moderator-digest.intro', { count: s.projects.length }),
      statRows: statRows(ctx, { ...totals, waiting: s.unansweredCount }, null, ['inputs', 'comments', 'waiting']),
      newInputs: list(ctx, t('moderator-digest.newInputs'), inputItems(ctx, s.newInputs, projects), { limit: 8, total: totals.inputs }),
      unanswered: list(ctx, t('common.waitingHeading'), inputItems(ctx, s.unanswered, projects), { limit: 5, total: s.unansweredCount, intro: t('common.waitingIntro') }),
      ending: list(ctx, t('moderator-digest.ending'), phaseItems(ctx, s.ending, projects, 'end'), { limit: 8 }),
      drafts: list(ctx, t('moderator-digest.drafts'), s.drafts.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: t('common.status.draft') })), { limit: 8 }),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data, ctx) {
    const s = scoped(data, ctx.recipient);
    return { projects: s.projects.map((p) => p.id), newInputs: s.newInputs.length, waiting: s.unansweredCount, ending: s.ending.length, drafts: s.drafts.length };
  },
});

export default moderatorDigest;
