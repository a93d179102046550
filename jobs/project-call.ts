import { DateTime, Duration, Interval } from 'luxon';
import { z } from 'zod';
import { catalog, clip, defineJobKind, inRecipientScope, isoDuration, list, projectUrl, title, type FolderFact, type PlannedRun, type ProjectFact, type RecipientScope, type Round, type ViewContext } from '../src/kit.ts';

/** A head's answers as the overview and a reminder need them. */
interface HeadFact {
  email: string;
  name: string;
  scope: RecipientScope;
  call: { deliveryId: number; messageId: string | null; status: string };
  status: 'answered' | 'late' | 'missing';
  /** The latest verified answer. */
  answer: { receivedAt: string; late: boolean; text: string; items: { title: string; description: string }[] } | null;
  unverified: { receivedAt: string; from: string; text: string }[];
}

export interface ProjectCallData {
  variant: string;
  /** When answers are due (ISO instant). */
  deadline: string;
  folders: FolderFact[];
  projects: ProjectFact[];
  /** The round so far (reminders, the overview): who was asked and what came back. */
  heads: HeadFact[];
  unmatched: { receivedAt: string; from: string | null; subject: string }[];
  /** The acknowledgement: the answer as Crier understood it. */
  answer: { receivedAt: string; late: boolean; items: { title: string; description: string }[] } | null;
  /** The acknowledgement: the head's conversation it answers in (so "reply again" reaches Crier). */
  thread?: { deliveryId: number; messageId: string | null } | null;
}

/** The schedule keys this job kind adds (validated with the config, defaults applied). */
const options = {
  /** How long after the call answers are due (default P21D); the overview goes out then. */
  deadline: isoDuration.default('P21D'),
  /** Reminders after the call, in order, to heads with no verified answer yet (default P10D, P18D). */
  reminders: z.array(isoDuration).default(['P10D', 'P18D']),
  /** Audience ids that get the overview at the deadline (default none: no overview). */
  overview: z.array(z.string().min(1)).default([]),
};

const isReminder = (variant: string) => variant.startsWith('reminder-');

/** The head of a round a recipient is, by address. */
const headOf = (data: ProjectCallData, r: { email: string }) => data.heads.find((h) => h.email === r.email.toLowerCase());

function headFacts(round: Round | null): { heads: HeadFact[]; unmatched: ProjectCallData['unmatched'] } {
  if (!round) return { heads: [], unmatched: [] };
  return {
    heads: round.heads.map((h) => {
      const latest = h.answers[h.answers.length - 1];
      return {
        email: h.email,
        name: h.name,
        scope: h.scope,
        call: { deliveryId: h.call.deliveryId, messageId: h.call.messageId, status: h.call.status },
        status: h.status,
        answer: latest ? { receivedAt: latest.receivedAt, late: latest.late, text: latest.text, items: latest.items } : null,
        unverified: h.unverified.map((u) => ({ receivedAt: u.receivedAt, from: u.from, text: u.text })),
      };
    }),
    unmatched: round.unmatched.map((u) => ({ receivedAt: u.receivedAt, from: u.from, subject: u.subject })),
  };
}

/** A head's department: the folders their call covered, by name; else their name. */
function department(ctx: ViewContext, data: ProjectCallData, h: { name: string; email: string; scope: RecipientScope }): string {
  const names = data.folders.filter((f) => h.scope.folders?.includes(f.id)).map((f) => title(ctx, f.title, 40));
  return names.length ? names.join(', ') : clip(h.name, 60) || h.email;
}

/**
 * The steering committee's question to every department head, four times a year: "what is
 * your department working on that residents could help shape?". They answer by replying
 * (config `inbound:` reads the replies). Each occurrence is a round: the call, reminders to the
 * heads who have not answered (in the call's thread), and at the deadline an overview of every
 * answer for the steering committee. Each verified answer is acknowledged, listing its items.
 */
const projectCall = defineJobKind<ProjectCallData, typeof options>({
  name: 'project-call',
  description: "the steering committee's quarterly question to department heads, answered by replying; reminders and an overview",
  options,
  audienceOptions: ['overview'],
  defaultAudience: [{ platformRole: 'folder-manager' }],

  plan(occurrences, { options }) {
    const out: PlannedRun[] = [];
    for (const occurrence of occurrences) {
      const at = occurrence.toUTC().toISO()!;
      const deadline = occurrence.plus(Duration.fromISO(options.deadline));
      const meta = { deadline: deadline.toISO()! };
      out.push({ key: `call:${at}`, at: occurrence, variant: 'call', meta, occurrence });
      // A reminder and the overview only follow a call that went out.
      options.reminders.forEach((after, i) => {
        out.push({ key: `reminder-${i + 1}:${at}`, at: occurrence.plus(Duration.fromISO(after)), variant: `reminder-${i + 1}`, meta, occurrence, requires: `call:${at}` });
      });
      if (options.overview.length) out.push({ key: `overview:${at}`, at: deadline, variant: 'overview', meta: { ...meta, audience: options.overview }, occurrence, requires: `call:${at}` });
    }
    return out;
  },

  period({ occurrence }) {
    return Interval.fromDateTimes(occurrence.minus({ months: 3 }), occurrence) as Interval<true>;
  },

  async collect({ platform, occurrence, options, variant = 'call', meta, rounds, scheduleId }) {
    const deadline = typeof meta?.deadline === 'string' ? meta.deadline : occurrence.plus(Duration.fromISO(options.deadline)).toISO()!;
    const { projects, folders } = await catalog(platform);
    const base = { variant, deadline, folders, projects, heads: [], unmatched: [], answer: null };
    if (variant === 'call') return base;
    if (variant === 'ack') {
      const answer = typeof meta?.answer === 'number' ? await rounds.answer(meta.answer) : null;
      const thread = meta?.thread as ProjectCallData['thread'];
      return { ...base, answer: answer ? { receivedAt: answer.receivedAt, late: answer.late, items: answer.items } : null, thread: thread ?? null };
    }
    return { ...base, ...headFacts(await rounds.round(scheduleId, occurrence.toJSDate())) };
  },

  // A reminder goes only to heads who were asked and have no verified answer yet.
  skip(data, recipient) {
    if (!isReminder(data.variant)) return undefined;
    const head = headOf(data, recipient);
    if (!head) return 'was not sent the call of this round';
    if (head.answer) return `answered on ${head.answer.receivedAt.slice(0, 10)}`;
    if (head.call.status === 'bounced') return 'the call bounced: the address does not take mail';
    return undefined;
  },

  conversation(data, ctx) {
    if (data.variant === 'call') return 'new';
    // The acknowledgement answers the head's reply, with the same personal address: a correction reaches Crier.
    if (data.variant === 'ack') return data.thread ?? undefined;
    if (!isReminder(data.variant)) return undefined;
    const head = headOf(data, ctx.recipient);
    return head ? { deliveryId: head.call.deliveryId, messageId: head.call.messageId } : undefined;
  },

  view(data, ctx) {
    const t = ctx.t;
    const deadline = ctx.format.date(DateTime.fromISO(data.deadline));
    const common = { scheduleName: t('project-call.scheduleName'), cta: { label: t('common.openPlatform'), url: ctx.platformUrl } };
    if (data.variant === 'overview') return { ...common, ...overviewView(data, ctx, deadline) };
    if (data.variant === 'ack') return { ...common, ...ackView(data, ctx, deadline) };
    const reminder = isReminder(data.variant);
    const scope = ctx.recipient.scope;
    const folders = data.folders.filter((f) => !scope || scope.folders?.includes(f.id) || data.projects.some((p) => p.folderId === f.id && scope.projects?.includes(p.id)));
    const mine = data.projects.filter((p) => !p.hidden && inRecipientScope(ctx.recipient, p));
    const folderNames = folders.map((f) => title(ctx, f.title, 40));
    const key = reminder ? 'project-call.reminder' : 'project-call';
    return {
      ...common,
      subject: t(`${key}.subject`, { deadline }),
      preheader: t(`${key}.preheader`, { deadline }),
      title: t(`${key}.title`),
      intro: t(`${key}.intro`, { platform: ctx.platformName, deadline }),
      question: t('project-call.question'),
      howTo: t('project-call.howTo', { deadline }),
      projects: list(
        ctx,
        folderNames.length ? t('project-call.projectsHeading', { folders: folderNames.join(', ') }) : t('project-call.projectsHeadingAll'),
        mine.map((p) => ({ title: title(ctx, p.title), url: projectUrl(ctx, p), meta: [p.folderTitle ? title(ctx, p.folderTitle, 40) : '', p.status ? t(`common.status.${p.status}`) : ''].filter(Boolean).join(' · ') })),
        { limit: 15, empty: t('project-call.noProjects') },
      ),
    };
  },

  summary(data, ctx) {
    const deadline = DateTime.fromISO(data.deadline, { zone: ctx.timezone }).toISODate();
    if (data.variant === 'overview') return { deadline, heads: data.heads.map((h) => ({ email: h.email, status: h.status, items: h.answer?.items.length ?? 0 })), unmatched: data.unmatched.length };
    if (data.variant === 'ack') return { answer: data.answer };
    return { deadline, folders: data.folders.filter((f) => !ctx.recipient.scope || ctx.recipient.scope.folders?.includes(f.id)).map((f) => ctx.text(f.title)), projects: data.projects.filter((p) => inRecipientScope(ctx.recipient, p)).map((p) => ctx.text(p.title)) };
  },
});

/**
 * The steering committee's overview at the deadline: every department's answer, who did not
 * answer, what could not be verified or matched. Answers are e-mails, as long and as odd as
 * anyone writes them: every text from one is clipped to a line (hostile-data test).
 */
function overviewView(data: ProjectCallData, ctx: ViewContext, deadline: string) {
  const t = ctx.t;
  const answered = data.heads.filter((h) => h.answer);
  const missing = data.heads.filter((h) => !h.answer);
  const items = answered.flatMap((h) => {
    const when = [clip(h.name, 60), ctx.format.date(h.answer!.receivedAt), h.answer!.late ? t('project-call.overview.late') : ''].filter(Boolean).join(' · ');
    if (!h.answer!.items.length) return [{ title: `${department(ctx, data, h)}: ${t('project-call.overview.nothing')}`, url: '', meta: when }];
    return h.answer!.items.map((i) => ({ title: `${department(ctx, data, h)}: ${clip(i.title) || t('common.untitled')}`, url: '', meta: [clip(i.description, 300), when].filter(Boolean).join(' — ') }));
  });
  const unverified = data.heads.flatMap((h) => h.unverified.map((u) => ({ title: t('project-call.overview.unverifiedFrom', { from: clip(u.from, 80), department: department(ctx, data, h) }), url: '', meta: [ctx.format.date(u.receivedAt), clip(u.text, 160)].filter(Boolean).join(' — ') })));
  return {
    subject: t('project-call.overview.subject', { count: answered.length, total: data.heads.length }),
    preheader: t('project-call.overview.preheader', { count: answered.length, total: data.heads.length, deadline }),
    title: t('project-call.overview.title'),
    intro: t('project-call.overview.intro', { count: answered.length, total: data.heads.length, deadline }),
    answers: list(ctx, t('project-call.overview.answers'), items, { limit: 60, empty: t('project-call.overview.noAnswers') }),
    missing: list(ctx, t('project-call.overview.missing'), missing.map((h) => ({ title: department(ctx, data, h), url: '', meta: `${clip(h.name, 60)} <${h.email}>` })), { limit: 60 }),
    unverified: list(ctx, t('project-call.overview.unverified'), unverified, { limit: 30, intro: t('project-call.overview.unverifiedIntro') }),
    unmatched: list(ctx, t('project-call.overview.unmatched'), data.unmatched.map((u) => ({ title: clip(u.subject) || t('common.untitled'), url: '', meta: [clip(u.from, 80), ctx.format.date(u.receivedAt)].filter(Boolean).join(' · ') })), { limit: 30 }),
  };
}

/** The acknowledgement of one answer, with its items as Crier understood them. */
function ackView(data: ProjectCallData, ctx: ViewContext, deadline: string) {
  const t = ctx.t;
  const items = data.answer?.items ?? [];
  return {
    subject: t('project-call.ack.subject'),
    preheader: t('project-call.ack.preheader', { count: items.length }),
    title: t('project-call.ack.title'),
    intro: [t('project-call.ack.intro', { count: items.length }), data.answer?.late ? t('project-call.ack.late', { deadline }) : ''].filter(Boolean).join(' '),
    // The answer's items, clipped to a line each, as in the overview.
    answers: list(ctx, t('project-call.ack.heading'), items.map((i) => ({ title: clip(i.title) || t('common.untitled'), url: '', meta: clip(i.description, 300) })), { limit: 30, empty: t('project-call.ack.noItems') }),
    howTo: t('project-call.ack.correct'),
  };
}

export default projectCall;
