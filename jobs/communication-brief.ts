import { DateTime, Interval } from 'luxon';
import { type ActivityCounts, activityIn, byId, catalog, type EventFact, eventItems, eventsBetween, type InputFact, inputItems, list, mostDiscussed, type PhaseFact, phaseItems, phases, phasesStartingOrEnding, type ProjectFact, projectUrl, title, withActivity, defineJobKind } from '../src/kit.ts';

export interface CommunicationData {
  starting: PhaseFact[];
  ending: PhaseFact[];
  events: EventFact[];
  busiest: (ProjectFact & ActivityCounts)[];
  mostDiscussed: InputFact[];
  projects: ProjectFact[];
  /** First day of the month to promote. */
  coming: { start: string };
}

/**
 * The communication team, monthly: what to promote in the coming month (phases opening or
 * closing, events) and last month's highlights (busiest projects, most discussed inputs), each
 * with its link. This job kind is one file, one template and its catalogue entries; it adds
 * nothing to src/ (see README, "Adding a job kind").
 */
const communicationBrief = defineJobKind<CommunicationData>({
  name: 'communication-brief',
  description: "next month's phases and events to promote, and the past month's highlights, for the communication team",

  // Highlights: the month up to the brief. To promote: the calendar month after the brief's,
  // so a brief late in November prepares December.
  period({ occurrence, timezone }) {
    const at = occurrence.setZone(timezone);
    return Interval.fromDateTimes(at.minus({ months: 1 }), at) as Interval<true>;
  },

  async collect({ platform, period }) {
    const next = period.end.startOf('month').plus({ months: 1 });
    const coming = Interval.fromDateTimes(next, next.plus({ months: 1 })) as Interval<true>;
    const [activity, { projects }, discussed, allPhases, events] = await Promise.all([activityIn(platform, period), catalog(platform), mostDiscussed(platform, period), phases(platform), eventsBetween(platform, coming)]);
    // Only what every resident can find: published, listed, public projects the platform does not hide.
    const visible = projects.filter((p) => p.status === 'published' && !p.hidden && p.listed && p.visibleTo === 'public');
    const open = new Set(visible.map((p) => p.id));
    const { starting, ending } = phasesStartingOrEnding(allPhases.filter((p) => open.has(p.projectId)), coming.start.toISODate()!, coming.end.toISODate()!);
    return {
      starting,
      ending,
      events: events.filter((e) => !e.projectId || open.has(e.projectId)),
      busiest: withActivity(visible, activity.byProject).filter((p) => p.participants > 0).slice(0, 5),
      mostDiscussed: discussed.filter((i) => open.has(i.projectId)).slice(0, 5),
      projects: visible,
      coming: { start: coming.start.toISO()! },
    };
  },

  view(data, ctx) {
    const t = ctx.t;
    const projects = byId(data.projects);
    const coming = ctx.format.month(DateTime.fromISO(data.coming.start));
    return {
      subject: t('communication-brief.subject', { month: coming, count: data.starting.length + data.events.length }),
      preheader: t('communication-brief.preheader', { phases: data.starting.length, events: data.events.length }),
      scheduleName: t('communication-brief.scheduleName'),
      title: t('communication-brief.title', { month: coming }),
      intro: t('communication-brief.intro', { platform: ctx.platformName }),
      starting: list(ctx, t('communication-brief.starting', { month: coming }), phaseItems(ctx, data.starting, projects, 'start'), { limit: 10, empty: t('communication-brief.nothingStarting') }),
      events: list(ctx, t('communication-brief.events', { month: coming }), eventItems(ctx, data.events, projects), { limit: 10 }),
      ending: list(ctx, t('communication-brief.ending', { month: coming }), phaseItems(ctx, data.ending, projects, 'end'), { limit: 10 }),
      busiest: list(ctx, t('communication-brief.busiest', { period: ctx.format.period(ctx.period) }), data.busiest.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: t('communication-brief.busiestMeta', { participants: p.participants, inputs: p.inputs + p.surveyResponses }) })), { limit: 5 }),
      mostDiscussed: list(ctx, t('common.mostDiscussed'), inputItems(ctx, data.mostDiscussed, projects), { limit: 5 }),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
  },

  summary(data) {
    return { starting: data.starting.length, ending: data.ending.length, events: data.events.length, busiest: data.busiest.map((p) => p.id), mostDiscussed: data.mostDiscussed.map((i) => i.id) };
  },
});

export default communicationBrief;
