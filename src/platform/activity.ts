import { createHash } from 'node:crypto';
import type { Interval } from 'luxon';
import { platformTimestamp, type Platform } from './platform.ts';
import { ACTIVITY_BY_PROJECT, ACTIVITY_BY_SCOPE, NEW_USERS } from './queries.ts';
import type { ProjectFact } from './facts.ts';

/**
 * The figures of an activity summary (queries.ts, ACTS, says what each participation method
 * adds to which). Votes and budgets are never added together: a budget ballot allocates money.
 */
export interface ActivityCounts {
  inputs: number;
  /** Native survey, community monitor and poll responses. */
  surveyResponses: number;
  comments: number;
  reactions: number;
  /** Submitted baskets, every voting method. */
  ballots: number;
  /** Distinct residents who submitted a ballot online. */
  voters: number;
  /** Voters an admin entered by hand (phases.manual_voters_amount); not in `voters` nor `participants`. */
  offlineVoters: number;
  /** Votes of multiple and single voting, offline votes included. */
  votes: number;
  /** The offline part of `votes`. */
  offlineVotes: number;
  /** Money allocated in budgeting phases, in the platform's currency, offline ballots included. */
  budget: number;
  /** The offline part of `budget`. */
  offlineBudget: number;
  /** Distinct people who did any of the above (offline voters are not known by name). */
  participants: number;
}

export interface Totals extends ActivityCounts {
  newUsers: number;
}

export const NO_ACTIVITY: ActivityCounts = { inputs: 0, surveyResponses: 0, comments: 0, reactions: 0, ballots: 0, voters: 0, offlineVoters: 0, votes: 0, offlineVotes: 0, budget: 0, offlineBudget: 0, participants: 0 };

type CountsRow = {
  inputs: number;
  survey_responses: number;
  comments: number;
  reactions: number;
  ballots: number;
  voters: number;
  offline_voters: number;
  votes: number;
  offline_votes: number;
  /** bigint: pg returns it as text. */
  budget: string;
  offline_budget: string;
  participants: number;
};

function counts(r: CountsRow): ActivityCounts {
  return {
    inputs: r.inputs,
    surveyResponses: r.survey_responses,
    comments: r.comments,
    reactions: r.reactions,
    ballots: r.ballots,
    voters: r.voters,
    offlineVoters: r.offline_voters,
    votes: r.votes,
    offlineVotes: r.offline_votes,
    budget: Number(r.budget),
    offlineBudget: Number(r.offline_budget),
    participants: r.participants,
  };
}

/** Totals and per-project counts for a half-open period. */
export async function activityIn(platform: Platform, period: Interval<true>): Promise<{ totals: Totals; byProject: Map<string, ActivityCounts> }> {
  const bounds = [platformTimestamp(period.start), platformTimestamp(period.end)];
  const [rows, users] = await Promise.all([
    platform.query<CountsRow & { project_id: string | null; is_total: boolean }>(ACTIVITY_BY_PROJECT, bounds),
    platform.query<{ new_users: number }>(NEW_USERS, bounds),
  ]);
  const byProject = new Map<string, ActivityCounts>();
  let totals: ActivityCounts = NO_ACTIVITY;
  for (const r of rows) {
    if (r.is_total) totals = counts(r);
    else if (r.project_id) byProject.set(r.project_id, counts(r));
  }
  return { totals: { newUsers: users[0]?.new_users ?? 0, ...totals }, byProject };
}

/** A stable key for a set of projects (a recipient's scope), short enough to store per run. */
export function scopeKey(projectIds: Iterable<string>): string {
  return createHash('sha1').update([...projectIds].sort().join(',')).digest('base64url').slice(0, 16);
}

/**
 * Activity per set of projects (each recipient's scope), counted in SQL so that people active
 * in two projects of one department count once. Keyed by scopeKey(); an empty set has no row.
 */
export async function activityByScope(platform: Platform, period: Interval<true>, scopes: Iterable<string>[]): Promise<Record<string, ActivityCounts>> {
  const keys: string[] = [];
  const projects: string[] = [];
  const seen = new Set<string>();
  for (const scope of scopes) {
    const ids = [...new Set(scope)];
    const key = scopeKey(ids);
    if (seen.has(key) || !ids.length) continue;
    seen.add(key);
    for (const id of ids) {
      keys.push(key);
      projects.push(id);
    }
  }
  const out: Record<string, ActivityCounts> = {};
  if (!keys.length) return out;
  const rows = await platform.query<CountsRow & { scope: string }>(ACTIVITY_BY_SCOPE, [platformTimestamp(period.start), platformTimestamp(period.end), keys, projects]);
  for (const r of rows) out[r.scope] = counts(r);
  return out;
}

/**
 * The projects a report lists: every published or archived project and any other with
 * activity in the period, busiest first (participants, then inputs), the platform's order
 * breaking ties. Projects the platform hides from the public (the community monitor) are never
 * listed; their activity stays in the totals.
 */
export function withActivity(projects: ProjectFact[], byProject: Map<string, ActivityCounts>): (ProjectFact & ActivityCounts)[] {
  const out = projects
    .filter((p) => !p.hidden && (byProject.has(p.id) || p.status === 'published' || p.status === 'archived'))
    .map((p, order) => ({ ...p, ...(byProject.get(p.id) ?? NO_ACTIVITY), order }));
  out.sort((a, b) => b.participants - a.participants || b.inputs - a.inputs || a.order - b.order);
  return out.map(({ order: _order, ...rest }) => rest);
}
