import { DateTime } from 'luxon';
import type { Recipient, ViewContext } from './contract.ts';
import { scopeKey, type ActivityCounts } from '../platform/activity.ts';
import type { EventFact, InputFact, PhaseFact, ProjectFact } from '../platform/facts.ts';
import type { Multiloc } from '../platform/types.ts';

/*
 * The view side of the recurring blocks of every e-mail (email-templates/partials/): job kinds
 * build these, the partials lay them out. Platform text is truncated here and escaped by
 * Handlebars when filled.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };

/**
 * Text escaped for HTML exactly as Handlebars escapes `{{value}}`, for the rare view value that
 * is itself markup (an embed snippet); a kind need not load Handlebars for it.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]);
}

/** A stat tile: the figure, its label and its change against the previous period. */
export interface StatTile {
  value: string;
  label: string;
  change: string;
}

/** Stat tiles, three to a row (what fits a phone at 375 px). `budget` is money, in the platform's currency. */
export function statRows<K extends string>(ctx: ViewContext, current: Record<K, number>, previous: Record<K, number> | null, keys: K[]): StatTile[][] {
  const tiles = keys.map((k) => {
    const change = previous ? ctx.format.change(current[k], previous[k]) : null;
    return {
      value: k === 'budget' ? ctx.format.money(current[k], ctx.currency, { compact: true }) : ctx.format.number(current[k]),
      label: ctx.t(`common.${k}`),
      change: change ? ctx.t('common.changeVsPrevious', { change }) : previous && current[k] > 0 ? ctx.t('common.newThisPeriod') : '',
    };
  });
  const rows: StatTile[][] = [];
  for (let i = 0; i < tiles.length; i += 3) rows.push(tiles.slice(i, i + 3));
  return rows;
}

/**
 * The voting tiles a summary needs: voters and ballots when anyone voted, votes (multiple and
 * single voting) and the budget allocated (budgeting) each only when there were any, in this
 * period or the one compared with. Votes and money are never one figure.
 */
export function votingKeys(current: ActivityCounts, previous: ActivityCounts | null): ('voters' | 'ballots' | 'votes' | 'budget')[] {
  const any = (k: keyof ActivityCounts) => current[k] > 0 || (previous?.[k] ?? 0) > 0;
  return [
    ...(any('ballots') || any('offlineVoters') ? (['voters', 'ballots'] as const) : []),
    ...(any('votes') ? (['votes'] as const) : []),
    ...(any('budget') ? (['budget'] as const) : []),
  ];
}

/** Figures for tiles: voters include those an admin entered by hand, as the platform shows them. */
export function tileFigures<T extends ActivityCounts>(c: T): T {
  return { ...c, voters: c.voters + c.offlineVoters };
}

/** The line under the tiles saying how much of the voting was entered by hand (offline), or ''. */
export function offlineNote(ctx: ViewContext, c: ActivityCounts): string {
  const parts = [
    c.offlineVotes ? ctx.t('common.offline.votes', { count: c.offlineVotes }) : '',
    c.offlineVoters ? ctx.t('common.offline.voters', { count: c.offlineVoters }) : '',
    c.offlineBudget ? ctx.t('common.offline.budget', { amount: ctx.format.money(c.offlineBudget, ctx.currency) }) : '',
  ].filter(Boolean);
  return parts.length ? ctx.t('common.offline.note', { parts: parts.join(', ') }) : '';
}

/**
 * Any outside text (platform data, a reply's items) for one line of an e-mail: whitespace
 * collapsed, at most `max` characters. Platform texts and replies can be megabytes, and a cut
 * never leaves half of a surrogate pair (an emoji), which would not encode as UTF-8.
 */
export function clip(text: string | null | undefined, max = 120): string {
  const raw = text ?? '';
  const collapse = (t: string) => t.replace(/\s+/g, ' ').trim();
  // Only the start is shown: collapsing all of a 1 MB text took 130 ms, for every title of
  // every recipient. The whole text is read only when its start is nearly all whitespace.
  const head = raw.length > max * 8 ? raw.slice(0, max * 8) : raw;
  let s = collapse(head);
  if (head !== raw && s.length <= max) s = collapse(raw);
  if (s.length <= max) return s;
  return `${s.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '').trimEnd()}…`;
}

/** A platform text for a heading or a list: never empty, at most `max` characters. */
export function title(ctx: ViewContext, m: Multiloc, max = 120): string {
  return clip(ctx.text(m), max) || ctx.t('common.untitled');
}

export const projectUrl = (ctx: ViewContext, p: { slug: string | null }) => (p.slug ? `${ctx.platformUrl}/projects/${encodeURIComponent(p.slug)}` : ctx.platformUrl);
export const inputUrl = (ctx: ViewContext, i: { slug: string | null }) => (i.slug ? `${ctx.platformUrl}/ideas/${encodeURIComponent(i.slug)}` : ctx.platformUrl);

/** A list block (partials/list.mjml): at most `limit` items, then "and N more" with a link. */
export interface ListBlock {
  heading: string;
  intro?: string;
  items: { title: string; url: string; meta: string }[];
  more: string;
  moreUrl: string;
  /** Shown instead of the list when it is empty (no block at all when this is empty too). */
  empty: string;
}

export function list(ctx: ViewContext, heading: string, items: ListBlock['items'], opts: { limit?: number; total?: number; empty?: string; intro?: string; moreUrl?: string } = {}): ListBlock {
  const limit = opts.limit ?? 5;
  const total = opts.total ?? items.length;
  return {
    heading,
    intro: opts.intro,
    items: items.slice(0, limit),
    more: total > Math.min(limit, items.length) ? ctx.t('common.andMoreItems', { count: total - Math.min(limit, items.length) }) : '',
    moreUrl: opts.moreUrl ?? ctx.platformUrl,
    empty: opts.empty ?? '',
  };
}

export function inputItems(ctx: ViewContext, inputs: InputFact[], projects: Map<string, ProjectFact>) {
  return inputs.map((i) => {
    const project = projects.get(i.projectId);
    const bits = [project ? title(ctx, project.title, 60) : '', ctx.t('common.commentCount', { count: i.comments })];
    if (i.publishedAt) bits.push(ctx.format.date(i.publishedAt));
    return { title: title(ctx, i.title), url: inputUrl(ctx, i), meta: bits.filter(Boolean).join(' · ') };
  });
}

/** Participation methods with their own name in the catalogues; others read "participation". */
const KNOWN_METHODS = new Set(['ideation', 'voting', 'native_survey', 'survey', 'poll', 'information', 'volunteering', 'document_annotation', 'proposals']);

export function phaseItems(ctx: ViewContext, list: PhaseFact[], projects: Map<string, ProjectFact>, when: 'start' | 'end') {
  return list.map((p) => {
    const project = projects.get(p.projectId);
    const day = p[when] ? ctx.format.date(DateTime.fromISO(p[when]!, { zone: ctx.timezone })) : '';
    const projectTitle = project ? title(ctx, project.title, 60) : '';
    const phaseTitle = ctx.text(p.title).trim() ? title(ctx, p.title, 60) : '';
    return {
      title: [projectTitle, phaseTitle].filter(Boolean).join(': ') || ctx.t('common.untitled'),
      url: project ? projectUrl(ctx, project) : ctx.platformUrl,
      meta: [ctx.t(`common.method.${KNOWN_METHODS.has(p.method) ? p.method : 'generic'}`), ctx.t(when === 'start' ? 'common.startsOn' : 'common.endsOn', { date: day })].join(' · '),
    };
  });
}

export function eventItems(ctx: ViewContext, events: EventFact[], projects: Map<string, ProjectFact>) {
  return events.map((e) => {
    const project = e.projectId ? projects.get(e.projectId) : undefined;
    // Locations and addresses are free text, as long as a title (hostile-data test: 1 MB).
    const where = clip(ctx.text(e.location), 120) || clip(e.address, 120) || (e.onlineLink ? ctx.t('common.online') : '');
    return { title: title(ctx, e.title), url: project ? projectUrl(ctx, project) : ctx.platformUrl, meta: [ctx.format.dateTime(e.start), where].filter(Boolean).join(' · ') };
  });
}

/** A project table (partials/project-table.mjml) with a bar scaled to the busiest row. */
export function projectTable(ctx: ViewContext, heading: string, rows: (ProjectFact & ActivityCounts)[], limit = 12) {
  const shown = rows.slice(0, limit);
  const max = Math.max(1, ...shown.map((r) => r.participants));
  return {
    heading,
    rows: shown.map((r) => ({
      title: title(ctx, r.title, 80),
      url: projectUrl(ctx, r),
      meta: [r.folderTitle ? title(ctx, r.folderTitle, 40) : '', r.status ? ctx.t(`common.status.${r.status}`) : ''].filter(Boolean).join(' · '),
      participants: ctx.format.number(r.participants),
      inputs: ctx.format.number(r.inputs + r.surveyResponses),
      comments: ctx.format.number(r.comments),
      bar: Math.round((r.participants / max) * 100),
    })),
    more: rows.length > limit ? ctx.t('common.andMore', { count: rows.length - limit }) : '',
  };
}

/** Projects by id, for lookups while building lists. */
export function byId<T extends { id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [x.id, x]));
}

/** Does a project fall in a recipient's scope? Folders cover their projects; no scope is everything. */
export function inRecipientScope(recipient: Recipient, project: { id: string; folderId: string | null } | undefined): boolean {
  if (!project) return false;
  const scope = recipient.scope;
  if (!scope) return true;
  return (scope.projects?.includes(project.id) ?? false) || (project.folderId !== null && (scope.folders?.includes(project.folderId) ?? false));
}

/** A horizontal bar chart (partials/bar-chart.mjml): table cells, no images, scaled to the largest value. */
export function barChart(ctx: ViewContext, heading: string, rows: { label: string; value: number }[]) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return { heading, rows: rows.map((r) => ({ label: r.label, value: ctx.format.number(r.value), raw: r.value, width: Math.max(1, Math.round((r.value / max) * 100)) })) };
}

/**
 * The projects one recipient's e-mail covers, with filters over a snapshot's per-project facts,
 * so every scoped job kind narrows its data the same way.
 */
export function recipientProjects(recipient: Recipient, projects: ProjectFact[]) {
  const mine = projects.filter((p) => inRecipientScope(recipient, p));
  const ids = new Set(mine.map((p) => p.id));
  return {
    projects: mine,
    /** The key of these projects' figures in activityByScope(). */
    key: scopeKey(ids),
    /** Facts (inputs, phases …) about the recipient's projects. */
    about: <T extends { projectId: string }>(facts: T[]) => facts.filter((f) => ids.has(f.projectId)),
    /** Per-project activity of the recipient's projects. */
    counts: (byProject: Record<string, ActivityCounts>) => new Map(Object.entries(byProject).filter(([id]) => ids.has(id))),
    /** A per-project count summed over the recipient's projects. */
    total: (byProject: Record<string, number>) => Object.entries(byProject).reduce((n, [id, c]) => n + (ids.has(id) ? c : 0), 0),
  };
}
