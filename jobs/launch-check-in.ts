import { Interval } from 'luxon';
import { z } from 'zod';
import { activityIn, activityTotals, catalog, escapeHtml, type FolderFact, list, managedFolders, moderatedProjects, offlineNote, type ProjectFact, projectUrl, readDirectory, statRows, tileFigures, title, type Totals, votingKeys, defineJobKind } from '../src/kit.ts';

export interface LaunchCheckInData {
  /** Days from launch to this check-in. */
  days: number;
  totals: Totals;
  /** The same, counted from launch to the previous check-in (null at the first). */
  previous: Totals | null;
  previousAt: string | null;
  published: ProjectFact[];
  /** Published projects no active account moderates. */
  unmoderated: ProjectFact[];
  /** Folders without an active folder manager. */
  unmanagedFolders: FolderFact[];
  /** What Crier cannot read from the database, as the superadmin ticked it in the config. */
  manual: { widget: boolean; communicationPlan: boolean };
}

/** The schedule keys this job kind adds (validated with the config, defaults applied). */
const options = {
  /** The platform widget or a button is on the organisation's homepage (Crier cannot see it). */
  widget: z.boolean().default(false),
  /** The platform is in the communication plan and content calendar. */
  communicationPlan: z.boolean().default(false),
};

/**
 * The superadmin and core team, at launch + 1 week, 1 month, 3 months, 6 months: adoption since
 * launch against the previous check-in, and what a good launch has. People with `copy: it`
 * (the IT department or website manager) also get the embed snippet and the platform URL.
 */
const launchCheckIn = defineJobKind<LaunchCheckInData, typeof options>({
  name: 'launch-check-in',
  description: 'adoption since launch against the previous check-in, and a launch checklist, for the superadmin and core team',
  options,
  defaultAudience: [{ platformRole: 'admin' }],

  period({ occurrence, launch }) {
    if (!launch) throw new Error('launch-check-in needs platform.launch');
    return Interval.fromDateTimes(launch, occurrence) as Interval<true>;
  },

  async collect({ platform, period, previous, launch, options, occurrence }) {
    const earlier = previous && launch && previous > launch ? (Interval.fromDateTimes(launch, previous) as Interval<true>) : null;
    const [now, then, { projects, folders }, directory] = await Promise.all([
      activityIn(platform, period),
      earlier ? activityTotals(platform, earlier) : null,
      catalog(platform),
      readDirectory(platform, occurrence.toJSDate()),
    ]);
    // A folder manager moderates every project of the folder, as on the platform.
    const moderated = new Set(directory.roleHolders.flatMap((u) => moderatedProjects(directory, u)));
    const managed = new Set(directory.roleHolders.flatMap(managedFolders));
    const published = projects.filter((p) => p.status === 'published' && !p.hidden);
    const publishedFolders = new Set(directory.folders.filter((f) => f.publication_status !== 'draft').map((f) => f.id));
    return {
      days: Math.round(period.toDuration('days').days),
      totals: now.totals,
      previous: then,
      previousAt: earlier ? earlier.end.toISO() : null,
      published,
      unmoderated: published.filter((p) => !moderated.has(p.id)),
      unmanagedFolders: folders.filter((f) => publishedFolders.has(f.id) && !managed.has(f.id)),
      manual: { widget: options.widget, communicationPlan: options.communicationPlan },
    };
  },

  view(data, ctx) {
    const t = ctx.t;
    const mark = (ok: boolean) => (ok ? '✔' : '✘');
    const checklist = [
      { ok: data.published.length > 0, title: t('launch-check-in.check.published', { count: data.published.length }) },
      { ok: data.unmoderated.length === 0, title: data.unmoderated.length ? t('launch-check-in.check.unmoderated', { count: data.unmoderated.length }) : t('launch-check-in.check.moderated') },
      { ok: data.unmanagedFolders.length === 0, title: data.unmanagedFolders.length ? t('launch-check-in.check.unmanagedFolders', { count: data.unmanagedFolders.length }) : t('launch-check-in.check.managedFolders') },
      { ok: data.manual.widget, title: t(data.manual.widget ? 'launch-check-in.check.widget' : 'launch-check-in.check.noWidget') },
      { ok: data.manual.communicationPlan, title: t(data.manual.communicationPlan ? 'launch-check-in.check.communicationPlan' : 'launch-check-in.check.noCommunicationPlan') },
    ];
    const it = ctx.recipient.variant === 'it';
    return {
      subject: t('launch-check-in.subject', { days: data.days, platform: ctx.platformName }),
      preheader: t('launch-check-in.preheader', { count: data.totals.participants, users: data.totals.newUsers, done: checklist.filter((c) => c.ok).length, all: checklist.length }),
      scheduleName: t('launch-check-in.scheduleName'),
      title: t('launch-check-in.title', { days: data.days }),
      intro: data.previousAt ? t('launch-check-in.introSince', { since: ctx.format.date(data.previousAt) }) : t('launch-check-in.introFirst'),
      statRows: statRows(ctx, tileFigures(data.totals), data.previous && tileFigures(data.previous), ['newUsers', 'participants', 'inputs', 'comments', 'surveyResponses', ...votingKeys(data.totals, data.previous)]),
      statNote: offlineNote(ctx, data.totals),
      checklist: list(ctx, t('launch-check-in.checklistHeading'), checklist.map((c) => ({ title: `${mark(c.ok)} ${c.title}`, url: '', meta: '' })), { limit: 10 }),
      unmoderated: list(ctx, t('launch-check-in.unmoderatedHeading'), data.unmoderated.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: p.folderTitle ? title(ctx, p.folderTitle, 40) : '' })), { limit: 8 }),
      it: it ? { heading: t('launch-check-in.it.heading'), intro: t('launch-check-in.it.intro'), url: ctx.platformUrl, snippet: `<iframe src="${ctx.platformUrl}/widgets/projects" title="${escapeHtml(ctx.platformName)}" width="100%" height="480" style="border:0"></iframe>` } : null,
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data) {
    return { days: data.days, totals: data.totals, previous: data.previous, published: data.published.length, unmoderated: data.unmoderated.map((p) => p.id), unmanagedFolders: data.unmanagedFolders.map((f) => f.id), manual: data.manual };
  },
});

export default launchCheckIn;
