import type { DateTime, Interval } from 'luxon';
import type { Platform } from './platform.ts';
import { ACTIVITY_BY_PROJECT, NEW_USERS } from './queries.ts';
import type { ProjectFact } from './facts.ts';

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

/**
 * The projects a report lists: every published or archived project and any other with
 * activity in the period, busiest first (participants, then inputs), the platform's order
 * breaking ties.
 */
export function withActivity(projects: ProjectFact[], byProject: Map<string, ActivityCounts>): (ProjectFact & ActivityCounts)[] {
  const out = projects
    .filter((p) => byProject.has(p.id) || p.status === 'published' || p.status === 'archived')
    .map((p, order) => ({ ...p, ...(byProject.get(p.id) ?? ZERO), order }));
  out.sort((a, b) => b.participants - a.participants || b.inputs - a.inputs || a.order - b.order);
  return out.map(({ order: _order, ...rest }) => rest);
}

/** Sums per-project counts (participants are summed too: an upper bound, not distinct people). */
export function sumCounts(byProject: Map<string, ActivityCounts>): ActivityCounts {
  const total = { ...ZERO };
  for (const c of byProject.values()) for (const k of Object.keys(total) as (keyof ActivityCounts)[]) total[k] += c[k];
  return total;
}
