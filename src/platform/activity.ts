import type { DateTime, Interval } from 'luxon';
import type { Multiloc } from '../render/multiloc.ts';
import type { Platform } from './platform.ts';
import { ACTIVITY_BY_PROJECT, NEW_USERS, PROJECTS } from './queries.ts';

/** The acts counted in an activity summary. */
export interface ActivityCounts {
  inputs: number;
  surveyResponses: number;
  comments: number;
  reactions: number;
  votes: number;
  participants: number;
}

export interface Totals extends ActivityCounts {
  newUsers: number;
}

/** One project's activity in the period, with its texts still multilingual. */
export interface ProjectActivity extends ActivityCounts {
  id: string;
  slug: string | null;
  titleMultiloc: Multiloc;
  status: 'draft' | 'published' | 'archived' | null;
  folderMultiloc: Multiloc;
}

const ZERO: ActivityCounts = { inputs: 0, surveyResponses: 0, comments: 0, reactions: 0, votes: 0, participants: 0 };

/** An instant as the platform stores it: UTC, no zone, millisecond precision. */
export function platformTimestamp(at: DateTime | Date): string {
  return (at instanceof Date ? at : at.toJSDate()).toISOString().slice(0, 23).replace('T', ' ');
}

interface ActivityRow {
  project_id: string | null;
  is_total: boolean;
  inputs: number;
  survey_responses: number;
  comments: number;
  reactions: number;
  votes: number;
  participants: number;
}

/** Totals and per-project counts for a half-open period. */
export async function activityIn(platform: Platform, period: Interval<true>): Promise<{ totals: Totals; byProject: Map<string, ActivityCounts> }> {
  const bounds = [platformTimestamp(period.start), platformTimestamp(period.end)];
  const [rows, users] = await Promise.all([
    platform.query<ActivityRow & Record<string, unknown>>(ACTIVITY_BY_PROJECT, bounds),
    platform.query<{ new_users: number }>(NEW_USERS, bounds),
  ]);
  const byProject = new Map<string, ActivityCounts>();
  let totals: ActivityCounts = ZERO;
  for (const r of rows) {
    const counts: ActivityCounts = {
      inputs: r.inputs,
      surveyResponses: r.survey_responses,
      comments: r.comments,
      reactions: r.reactions,
      votes: r.votes,
      participants: r.participants,
    };
    if (r.is_total) totals = counts;
    else if (r.project_id) byProject.set(r.project_id, counts);
  }
  return { totals: { newUsers: users[0]?.new_users ?? 0, ...totals }, byProject };
}

interface ProjectRow {
  id: string;
  slug: string | null;
  title_multiloc: Multiloc;
  publication_status: ProjectActivity['status'];
  folder_title_multiloc: Multiloc;
}

/**
 * Projects a report lists: every published or archived project and any other with activity in
 * the period, busiest first (participants, then inputs), the platform's order breaking ties.
 */
export async function projectActivity(platform: Platform, byProject: Map<string, ActivityCounts>): Promise<ProjectActivity[]> {
  const rows = await platform.query<ProjectRow & Record<string, unknown>>(PROJECTS);
  const out: ProjectActivity[] = [];
  for (const r of rows) {
    const counts = byProject.get(r.id);
    if (!counts && r.publication_status !== 'published' && r.publication_status !== 'archived') continue;
    out.push({ id: r.id, slug: r.slug, titleMultiloc: r.title_multiloc, status: r.publication_status, folderMultiloc: r.folder_title_multiloc, ...(counts ?? ZERO) });
  }
  const order = new Map(out.map((p, i) => [p.id, i]));
  return out.sort((a, b) => b.participants - a.participants || b.inputs - a.inputs || order.get(a.id)! - order.get(b.id)!);
}
