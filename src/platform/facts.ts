import type { DateTime, Interval } from 'luxon';
import type { Multiloc } from './types.ts';
import type { Platform } from './platform.ts';
import { platformTimestamp } from './timestamp.ts';
import { EVENTS_BETWEEN, FOLDERS, MONTHLY_ACTIVITY, MOST_DISCUSSED, NEW_INPUTS, PHASES, PROJECT_INDEX, UNANSWERED } from './queries.ts';

/*
 * Platform facts the job kinds share, each from one named query, shaped as JSON for a run's
 * snapshot (instants as ISO strings, texts still multilingual).
 */

export interface InputFact {
  id: string;
  projectId: string;
  slug: string | null;
  title: Multiloc;
  publishedAt?: string;
  comments: number;
}

export interface PhaseFact {
  id: string;
  projectId: string;
  title: Multiloc;
  method: string;
  /** Local dates YYYY-MM-DD; end null = open-ended. */
  start: string | null;
  end: string | null;
}

export interface EventFact {
  id: string;
  projectId: string | null;
  title: Multiloc;
  location: Multiloc;
  address: string | null;
  onlineLink: string | null;
  start: string;
  end: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function phases(platform: Platform): Promise<PhaseFact[]> {
  const rows = await platform.query<{ id: string; project_id: string; title_multiloc: Multiloc; participation_method: string; start_at: string | null; end_at: string | null }>(PHASES);
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, title: r.title_multiloc, method: r.participation_method, start: r.start_at, end: r.end_at }));
}

/** Phases that start, or end, on a local day in [from, to) (dates as YYYY-MM-DD). */
export function phasesStartingOrEnding(all: PhaseFact[], from: string, to: string): { starting: PhaseFact[]; ending: PhaseFact[] } {
  const within = (d: string | null) => d !== null && d >= from && d < to;
  return { starting: all.filter((p) => within(p.start)), ending: all.filter((p) => within(p.end)) };
}

export async function eventsBetween(platform: Platform, period: Interval<true>): Promise<EventFact[]> {
  const rows = await platform.query<{ id: string; project_id: string | null; title_multiloc: Multiloc; location_multiloc: Multiloc; address_1: string | null; online_link: string | null; start_at: Date; end_at: Date | null }>(EVENTS_BETWEEN, [
    platformTimestamp(period.start),
    platformTimestamp(period.end),
  ]);
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, title: r.title_multiloc, location: r.location_multiloc, address: r.address_1, onlineLink: r.online_link, start: iso(r.start_at)!, end: iso(r.end_at) }));
}

/** The most discussed inputs of the period, at most `perProject` per project. */
export async function mostDiscussed(platform: Platform, period: Interval<true>, perProject = 5): Promise<InputFact[]> {
  const rows = await platform.query<{ id: string; project_id: string; slug: string | null; title_multiloc: Multiloc; comments: number }>(MOST_DISCUSSED, [platformTimestamp(period.start), platformTimestamp(period.end), perProject]);
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, slug: r.slug, title: r.title_multiloc, comments: r.comments }));
}

/** The moderation backlog as of `at`: per project the `perProject` oldest unanswered inputs and the count. */
export async function unanswered(platform: Platform, at: DateTime, perProject = 10): Promise<{ inputs: InputFact[]; countByProject: Record<string, number> }> {
  const rows = await platform.query<{ id: string; project_id: string; slug: string | null; title_multiloc: Multiloc; published_at: Date; comments_count: number; in_project: number }>(UNANSWERED, [platformTimestamp(at), perProject]);
  const countByProject: Record<string, number> = {};
  for (const r of rows) countByProject[r.project_id] = r.in_project;
  return { inputs: rows.map((r) => ({ id: r.id, projectId: r.project_id, slug: r.slug, title: r.title_multiloc, publishedAt: iso(r.published_at)!, comments: r.comments_count })), countByProject };
}

export async function newInputs(platform: Platform, period: Interval<true>, perProject = 10): Promise<InputFact[]> {
  const rows = await platform.query<{ id: string; project_id: string; slug: string | null; title_multiloc: Multiloc; published_at: Date; comments_count: number }>(NEW_INPUTS, [platformTimestamp(period.start), platformTimestamp(period.end), perProject]);
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, slug: r.slug, title: r.title_multiloc, publishedAt: iso(r.published_at)!, comments: r.comments_count }));
}

/** A project as the e-mails name and link it. */
export interface ProjectFact {
  id: string;
  slug: string | null;
  title: Multiloc;
  status: 'draft' | 'published' | 'archived' | null;
  folderId: string | null;
  folderTitle: Multiloc;
  /** When it first went public (ISO), if it did. */
  firstPublishedAt: string | null;
  /** Kept out of every public listing by the platform (the community monitor): never listed in an e-mail. */
  hidden: boolean;
  /** False: reachable by link only, so not promoted. */
  listed: boolean;
  /** public, or groups / admins: who may see it (only public projects are promoted). */
  visibleTo: string;
}

export interface FolderFact {
  id: string;
  slug: string | null;
  title: Multiloc;
}

/** Every project with its folder, and every folder, in the platform's order. */
export async function catalog(platform: Platform): Promise<{ projects: ProjectFact[]; folders: FolderFact[] }> {
  const [projects, folders] = await Promise.all([
    platform.query<{ id: string; slug: string | null; title_multiloc: Multiloc; publication_status: ProjectFact['status']; folder_id: string | null; first_published_at: Date | null; hidden: boolean; listed: boolean; visible_to: string }>(PROJECT_INDEX),
    platform.query<{ id: string; slug: string | null; title_multiloc: Multiloc }>(FOLDERS),
  ]);
  const folderTitle = new Map(folders.map((f) => [f.id, f.title_multiloc]));
  return {
    projects: projects.map((p) => ({
      id: p.id,
      slug: p.slug,
      title: p.title_multiloc,
      status: p.publication_status,
      folderId: p.folder_id,
      folderTitle: p.folder_id ? (folderTitle.get(p.folder_id) ?? null) : null,
      firstPublishedAt: iso(p.first_published_at),
      hidden: p.hidden,
      listed: p.listed,
      visibleTo: p.visible_to,
    })),
    folders: folders.map((f) => ({ id: f.id, slug: f.slug, title: f.title_multiloc })),
  };
}

/** One local calendar month of activity, for trend charts. */
export interface MonthFact {
  /** YYYY-MM, local. */
  month: string;
  participants: number;
  inputs: number;
}

/** Activity per local month over `period` (month-aligned in `zone`), months without any included. */
export async function monthlyActivity(platform: Platform, period: Interval<true>, zone: string): Promise<MonthFact[]> {
  const rows = await platform.query<{ part: 'month'; month: string; participants: number; inputs: number }>(MONTHLY_ACTIVITY, [platformTimestamp(period.start), platformTimestamp(period.end), zone, null, null]);
  return everyMonth(rows, period, zone);
}

/** MONTHLY_ACTIVITY's month rows as MonthFacts, every month of `period` in `zone` (0 where it has none). */
export function everyMonth(rows: { part: string; month: string | null; participants: number; inputs: number }[], period: Interval<true>, zone: string): MonthFact[] {
  const found = new Map(rows.filter((r) => r.part === 'month').map((r) => [r.month, r]));
  const out: MonthFact[] = [];
  for (let m = period.start.setZone(zone).startOf('month'); m < period.end; m = m.plus({ months: 1 })) {
    const key = m.toFormat('yyyy-MM');
    out.push({ month: key, participants: found.get(key)?.participants ?? 0, inputs: found.get(key)?.inputs ?? 0 });
  }
  return out;
}
