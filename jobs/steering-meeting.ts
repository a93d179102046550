import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { DateTime, Duration, Interval } from 'luxon';
import { z } from 'zod';
import { activityIn, byId, catalog, clip, type InputFact, inputItems, isoDuration, list, localDateTime, offlineNote, parseLocalDateTime, type PlannedRun, type ProjectFact, projectUrl, statRows, tileFigures, title, type Totals, unanswered, votingKeys, wallTimeToInstant, defineJobKind, type Round, type RoundReader } from '../src/kit.ts';

/** The latest round's answers (the latest of each head) and late answers of earlier rounds. */
function projectCallAnswers(round: Round | null, late: Awaited<ReturnType<RoundReader['lateAnswers']>>): NonNullable<SteeringData['agenda']>['projectCallAnswers'] {
  const out: NonNullable<SteeringData['agenda']>['projectCallAnswers'] = [];
  for (const h of round?.heads ?? []) {
    const latest = h.answers[h.answers.length - 1];
    if (latest) out.push({ head: h.name, folders: h.scope.folders ?? [], items: latest.items.map((i) => i.title), late: latest.late, receivedAt: latest.receivedAt });
  }
  for (const a of late) {
    // Already shown: a late answer to the latest round itself.
    if (round && a.schedule === round.schedule && a.occurrence === round.occurrence) continue;
    out.push({ head: a.headEmail, folders: [], items: a.items.map((i) => i.title), late: true, receivedAt: a.receivedAt });
  }
  return out;
}

/** One meeting, as every send about it carries it (PlannedRun.meta). */
interface Meeting {
  /** Stable across moves: the calendar entry's UID. */
  uid: string;
  /** Times the meeting was moved; the calendar SEQUENCE. */
  sequence: number;
  start: string;
  end: string;
  location: string | null;
}

export interface SteeringData {
  meeting: Meeting;
  /** Agenda only: activity since the previous meeting, what waits for a decision, the backlog. */
  agenda: {
    totals: Totals;
    since: string;
    drafts: ProjectFact[];
    backlog: InputFact[];
    backlogCount: number;
    projects: ProjectFact[];
    /**
     * Answers to the latest project call, and late answers to earlier ones received since the
     * previous agenda: per head, their department's folders and the items they named.
     */
    projectCallAnswers: { head: string; folders: string[]; items: string[]; late: boolean; receivedAt: string }[];
  } | null;
}

const localKey = (dt: DateTime, zone: string) => dt.setZone(zone).toFormat('yyyy-MM-dd HH:mm');

/** The schedule keys this job kind adds (validated with the config, defaults applied). */
const options = {
  /** How long before a meeting the invitation goes out (default P14D). */
  invite: isoDuration.default('P14D'),
  /** How long before a meeting the agenda goes out (default P2D). */
  agenda: isoDuration.default('P2D'),
  /** Meeting length, for the calendar entry (default PT2H). */
  duration: isoDuration.default('PT2H'),
  /** Where it is held. */
  location: z.string().min(1).optional(),
  /** Meetings moved: original local time → new local time (or the list of moves, last one current). */
  moved: z.record(localDateTime, z.union([localDateTime, z.array(localDateTime).min(1)])).default({}),
  /** Meetings cancelled, by original local time. */
  cancelled: z.array(localDateTime).default([]),
};

/**
 * The participation steering committee / work group, at least four times a year. Each meeting
 * (from `dates` or a `cron` rule) gets an invitation `invite` before it with a calendar
 * invitation (.ics), and an agenda `agenda` before it. A meeting listed under `moved` keeps its
 * calendar entry (same UID, higher SEQUENCE) and gets a new invitation at once; one listed
 * under `cancelled` gets a METHOD:CANCEL, if an invitation for it was sent.
 */
const steeringMeeting = defineJobKind<SteeringData, typeof options>({
  name: 'steering-meeting',
  description: 'invitations with a calendar entry, then an agenda with the facts, for the steering committee',
  options,

  plan(occurrences, { scheduleId, timezone, options }) {
    const invite = Duration.fromISO(options.invite);
    const agenda = Duration.fromISO(options.agenda);
    const duration = Duration.fromISO(options.duration);
    const moved = options.moved;
    const cancelled = new Set(options.cancelled.map((c) => localKey(wallTimeToInstant(parseLocalDateTime(c), timezone), timezone)));
    const out: PlannedRun[] = [];
    for (const original of occurrences) {
      const key = localKey(original, timezone);
      const moves = ([] as string[]).concat(Object.entries(moved).find(([k]) => localKey(wallTimeToInstant(parseLocalDateTime(k), timezone), timezone) === key)?.[1] ?? []);
      const start = moves.length ? wallTimeToInstant(parseLocalDateTime(moves[moves.length - 1]), timezone) : original;
      const meeting: Meeting = {
        uid: `${scheduleId}-${original.toUTC().toFormat("yyyyMMdd'T'HHmm'Z'")}`,
        sequence: moves.length,
        start: start.toISO()!,
        end: start.plus(duration).toISO()!,
        location: options.location ?? null,
      };
      const meta = { ...meeting } as unknown as Record<string, unknown>;
      // The first moment an invitation about this meeting could have gone out: a meeting moved
      // (later or earlier) after that is announced at once, and is cancelled only if it was announced.
      const announced = DateTime.min(original, start).minus(invite);
      const lastKnown = DateTime.max(original, start);
      if (cancelled.has(key)) {
        out.push({ key: `cancellation:${meeting.uid}`, at: announced, asapUntil: lastKnown, variant: 'cancellation', meta: { ...meta, sequence: moves.length + 1 }, occurrence: start, requires: `invitation:${meeting.uid}:` });
        continue;
      }
      out.push({ key: `invitation:${meeting.uid}:${meeting.sequence}`, at: meeting.sequence > 0 ? announced : start.minus(invite), asapUntil: start, variant: 'invitation', meta, occurrence: start });
      out.push({ key: `agenda:${meeting.uid}:${start.toUTC().toISO()}`, at: start.minus(agenda), asapUntil: start, variant: 'agenda', meta, occurrence: start });
    }
    return out;
  },

  // From where the previous agenda stopped (its send time) to this agenda's send time.
  period({ occurrence, previous, launch, options }) {
    const lead = Duration.fromISO(options.agenda ?? 'P2D');
    const until = occurrence.minus(lead);
    const since = previous?.minus(lead) ?? (launch && launch < until ? launch : until.minus({ months: 3 }));
    return Interval.fromDateTimes(since < until ? since : until.minus({ months: 3 }), until) as Interval<true>;
  },

  async collect({ platform, period, variant, meta, rounds }) {
    const meeting = meta as unknown as Meeting;
    if (variant !== 'agenda') return { meeting, agenda: null };
    const [activity, { projects }, backlog, round, late] = await Promise.all([activityIn(platform, period), catalog(platform), unanswered(platform, period.end, 10), rounds.latest(), rounds.lateAnswers(period.start.toJSDate(), period.end.toJSDate())]);
    const answers = projectCallAnswers(round, late);
    const oldest = [...backlog.inputs].sort((a, b) => (a.publishedAt ?? '').localeCompare(b.publishedAt ?? '')).slice(0, 10);
    return {
      meeting,
      agenda: {
        totals: activity.totals,
        since: period.start.toISO()!,
        drafts: projects.filter((p) => p.status === 'draft' && !p.hidden),
        backlog: oldest,
        backlogCount: Object.values(backlog.countByProject).reduce((a, b) => a + b, 0),
        projects,
        projectCallAnswers: answers,
      },
    };
  },

  view(data, ctx) {
    const t = ctx.t;
    const m = data.meeting;
    const when = ctx.format.dateTime(m.start);
    const variant = ctx.variant;
    const kind = variant === 'cancellation' ? 'cancellation' : variant === 'agenda' ? 'agenda' : m.sequence > 0 ? 'moved' : 'invitation';
    const base = {
      subject: t(`steering-meeting.${kind}.subject`, { when }),
      preheader: t(`steering-meeting.${kind}.preheader`, { when, location: m.location ?? '' }),
      scheduleName: t('steering-meeting.scheduleName'),
      title: t(`steering-meeting.${kind}.title`, { when }),
      intro: t(`steering-meeting.${kind}.intro`, { when, location: m.location ?? t('steering-meeting.noLocation') }),
      cta: { label: t('common.openPlatform'), url: ctx.platformUrl },
    };
    if (!data.agenda) return base;
    const a = data.agenda;
    const projects = byId(a.projects);
    return {
      ...base,
      statRows: statRows(ctx, tileFigures(a.totals), null, ['participants', 'inputs', 'comments', 'reactions', 'surveyResponses', 'newUsers', ...votingKeys(a.totals, null)]),
      statNote: offlineNote(ctx, a.totals),
      activityHeading: t('steering-meeting.agenda.activity', { since: ctx.format.date(a.since) }),
      answers: list(
        ctx,
        t('steering-meeting.agenda.answers'),
        a.projectCallAnswers.map((x) => {
          const folders = [...new Set(a.projects.filter((p) => p.folderId && x.folders.includes(p.folderId) && p.folderTitle).map((p) => title(ctx, p.folderTitle, 40)))];
          // Items come from a head's e-mail, of any length: one clipped line (hostile-data test).
          return { title: folders.join(', ') || clip(x.head, 80) || t('common.untitled'), url: '', meta: [clip(x.items.join('; '), 300) || t('project-call.overview.nothing'), x.late ? t('project-call.overview.late') : ''].filter(Boolean).join(' · ') };
        }),
        { limit: 20, empty: t('steering-meeting.agenda.noAnswers') },
      ),
      drafts: list(ctx, t('steering-meeting.agenda.drafts'), a.drafts.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: p.folderTitle ? title(ctx, p.folderTitle, 40) : '' })), { limit: 10, empty: t('steering-meeting.agenda.noDrafts') }),
      backlog: list(ctx, t('steering-meeting.agenda.backlog'), inputItems(ctx, a.backlog, projects), { limit: 10, total: a.backlogCount, intro: t('common.waitingIntro'), empty: t('steering-meeting.agenda.noBacklog') }),
    };
  },

  calendar(data, ctx) {
    if (ctx.variant === 'agenda') return undefined;
    const m = data.meeting;
    const cancel = ctx.variant === 'cancellation';
    const cal = ical({ prodId: { company: 'Crier', product: 'steering-meeting', language: 'EN' }, method: cancel ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST });
    cal.createEvent({
      id: `${m.uid}@${ctx.sender.address.split('@')[1] ?? 'crier'}`,
      sequence: m.sequence,
      start: new Date(m.start),
      end: new Date(m.end),
      // In UTC: a TZID would need a VTIMEZONE block that some calendars reject when missing.
      summary: ctx.t('steering-meeting.calendarSummary', { organization: ctx.platformName }),
      location: m.location ?? undefined,
      organizer: { name: ctx.sender.name, email: ctx.sender.address },
      attendees: [{ name: ctx.recipient.name, email: ctx.recipient.email, rsvp: !cancel }],
      status: cancel ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      stamp: new Date(),
    });
    return { method: cancel ? 'CANCEL' : 'REQUEST', content: cal.toString() };
  },

  // A review (by its chair) covers the agenda; the invitation is only a date.
  reviewed: ['agenda'],

  // The agenda's points as it lists them: the departments' answers, then the drafts waiting for a
  // placement. All of them, not only the first the lists show: one left out brings the next into
  // view, and the chair has to have seen it.
  reviewItems(data) {
    if (!data.agenda) return [];
    return [
      ...data.agenda.projectCallAnswers.map((x, i) => ({ id: `answer:${i}`, title: clip(`${x.head}: ${x.items.join('; ')}`, 160) })),
      ...data.agenda.drafts.map((p) => ({ id: `draft:${p.id}`, title: p.title })),
    ];
  },

  // Gone from the agenda's lists: an answer by its place among the answers (as reviewItems numbers it), a draft by its project.
  leaveOut(data, ids) {
    if (!data.agenda) return data;
    const out = new Set(ids);
    return {
      ...data,
      agenda: {
        ...data.agenda,
        projectCallAnswers: data.agenda.projectCallAnswers.filter((_, i) => !out.has(`answer:${i}`)),
        drafts: data.agenda.drafts.filter((p) => !out.has(`draft:${p.id}`)),
      },
    };
  },

  summary(data) {
    return { meeting: data.meeting, agenda: data.agenda ? { totals: data.agenda.totals, since: data.agenda.since, drafts: data.agenda.drafts.length, backlog: data.agenda.backlogCount } : null };
  },
});

export default steeringMeeting;
