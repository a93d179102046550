import { Duration, Interval } from 'luxon';
import { catalog, type FolderFact, inRecipientScope, isoDuration, list, type ProjectFact, projectUrl, title, defineJobKind } from '../src/kit.ts';

export interface ProjectCallData {
  /** Local date answers are due. */
  deadline: string;
  folders: FolderFact[];
  projects: ProjectFact[];
}

/** The schedule keys this job kind adds (validated with the config, defaults applied). */
const options = {
  /** How long after the call answers are due (default P21D). */
  deadline: isoDuration.default('P21D'),
};

/**
 * The steering committee's question to every department head, four times a year: "what is
 * your department working on that residents could help shape?", with the deadline and the
 * projects their folder already has on the platform. They answer by replying to the e-mail.
 */
const projectCall = defineJobKind<ProjectCallData, typeof options>({
  name: 'project-call',
  description: "the steering committee's quarterly question to department heads, answered by replying",
  options,
  defaultAudience: [{ platformRole: 'folder-manager' }],

  period({ occurrence }) {
    return Interval.fromDateTimes(occurrence.minus({ months: 3 }), occurrence) as Interval<true>;
  },

  async collect({ platform, occurrence, options }) {
    const { projects, folders } = await catalog(platform);
    return { deadline: occurrence.plus(Duration.fromISO(options.deadline)).toISODate()!, folders, projects };
  },

  view(data, ctx) {
    const t = ctx.t;
    const deadline = ctx.format.date(data.deadline);
    const scope = ctx.recipient.scope;
    const folders = data.folders.filter((f) => !scope || scope.folders?.includes(f.id) || data.projects.some((p) => p.folderId === f.id && scope.projects?.includes(p.id)));
    const mine = data.projects.filter((p) => inRecipientScope(ctx.recipient, p));
    const folderNames = folders.map((f) => title(ctx, f.title, 40));
    return {
      subject: t('project-call.subject', { deadline }),
      preheader: t('project-call.preheader', { deadline }),
      scheduleName: t('project-call.scheduleName'),
      title: t('project-call.title'),
      intro: t('project-call.intro', { platform: ctx.platformName }),
      question: t('project-call.question'),
      howTo: t('project-call.howTo', { deadline }),
      projects: list(
        ctx,
        folderNames.length ? t('project-call.projectsHeading', { folders: folderNames.join(', ') }) : t('project-call.projectsHeadingAll'),
        mine.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: [p.folderTitle ? title(ctx, p.folderTitle, 40) : '', p.status ? t(`common.status.${p.status}`) : ''].filter(Boolean).join(' · ') })),
        { limit: 15, empty: t('project-call.noProjects') },
      ),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data, ctx) {
    return { deadline: data.deadline, folders: data.folders.filter((f) => !ctx.recipient.scope || ctx.recipient.scope.folders?.includes(f.id)).map((f) => ctx.text(f.title)), projects: data.projects.filter((p) => inRecipientScope(ctx.recipient, p)).map((p) => ctx.text(p.title)) };
  },
});

export default projectCall;
