import { DateTime, Duration, Interval } from 'luxon';
import { byId, catalog, defineJobKind, isoDuration, list, platformTimestamp, projectUrl, queriesNextTo, recipientProjects, title, type Multiloc, type ProjectFact, type Recipient } from '../../src/kit.ts';

const sql = queriesNextTo(import.meta.url);

/** A native survey about to close. */
interface ClosingSurvey {
  phaseId: string;
  projectId: string;
  /** The survey's own title, else the phase's. */
  title: Multiloc;
  /** Local date of its last day. */
  end: string;
  responses: number;
  /** Responses in the week before the reminder. */
  recent: number;
}

export interface SurveyReminderData {
  surveys: ClosingSurvey[];
  projects: ProjectFact[];
}

/** The schedule keys this job kind adds (validated with the config, defaults applied). */
const options = {
  /** Remind about surveys whose last day is within this long after the reminder (default P7D). */
  within: isoDuration.default('P7D'),
};

/** The surveys of the recipient's projects. */
function mine(data: SurveyReminderData, r: Recipient) {
  const scope = recipientProjects(r, data.projects);
  return { surveys: scope.about(data.surveys), projects: byId(scope.projects) };
}

/**
 * Project moderators, weekly: the native surveys of their projects that close soon, with the
 * responses so far and in the past week, so they can chase low response while there is time.
 */
const surveyReminder = defineJobKind<SurveyReminderData, typeof options>({
  name: 'survey-reminder',
  description: 'native surveys closing soon in a moderator’s projects, with their responses so far',
  options,
  defaultAudience: [{ platformRole: 'project-manager' }],
  skipWhenEmpty: true,
  example: { schedule: { cron: '0 9 * * MON' } },

  // The week before the reminder: "recent" responses are counted over it.
  period({ occurrence }) {
    return Interval.fromDateTimes(occurrence.minus({ days: 7 }), occurrence) as Interval<true>;
  },

  async collect({ platform, period, occurrence, timezone, options }) {
    const today = occurrence.setZone(timezone).startOf('day');
    const until = today.plus(Duration.fromISO(options.within)).plus({ days: 1 });
    const [{ projects }, rows] = await Promise.all([
      catalog(platform),
      platform.query<{ id: string; project_id: string; title_multiloc: Multiloc; native_survey_title_multiloc: Multiloc; end_at: string; responses: number; recent: number }>(sql.surveysEnding, [today.toISODate(), until.toISODate(), platformTimestamp(period.start), platformTimestamp(period.end)]),
    ]);
    const surveys = rows.map((r) => ({
      phaseId: r.id,
      projectId: r.project_id,
      // jsonb may hold null (or other non-text) translations: they do not count as a title.
      title: r.native_survey_title_multiloc && Object.values(r.native_survey_title_multiloc).some((t) => typeof t === 'string' && t.trim()) ? r.native_survey_title_multiloc : r.title_multiloc,
      end: r.end_at,
      responses: r.responses,
      recent: r.recent,
    }));
    const involved = new Set(surveys.map((s) => s.projectId));
    return { surveys, projects: projects.filter((p) => involved.has(p.id)) };
  },

  isEmpty(data, recipient) {
    return mine(data, recipient).surveys.length === 0;
  },

  view(data, ctx) {
    const t = ctx.t;
    const { surveys, projects } = mine(data, ctx.recipient);
    const responses = surveys.reduce((n, s) => n + s.responses, 0);
    const first = surveys[0];
    return {
      subject: t('survey-reminder.subject', { count: surveys.length, date: first ? ctx.format.date(DateTime.fromISO(first.end, { zone: ctx.timezone })) : '' }),
      preheader: t('survey-reminder.preheader', { count: responses }),
      scheduleName: t('survey-reminder.scheduleName'),
      title: t('survey-reminder.title', { count: surveys.length }),
      intro: t('survey-reminder.intro'),
      surveys: list(
        ctx,
        t('survey-reminder.heading'),
        surveys.map((s) => {
          const project = projects.get(s.projectId);
          return {
            title: [project ? title(ctx, project.title, 60) : '', title(ctx, s.title, 60)].filter(Boolean).join(': '),
            url: project ? projectUrl(ctx, project) : ctx.platformUrl,
            meta: [t('survey-reminder.responses', { count: s.responses }), t('survey-reminder.recent', { count: s.recent }), t('common.endsOn', { date: ctx.format.date(DateTime.fromISO(s.end, { zone: ctx.timezone })) })].join(' · '),
          };
        }),
        { limit: 10 },
      ),
      tips: t('survey-reminder.tips'),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data, ctx) {
    return { surveys: mine(data, ctx.recipient).surveys.map((s) => ({ phase: s.phaseId, project: s.projectId, end: s.end, responses: s.responses, recent: s.recent })) };
  },
});

export default surveyReminder;
