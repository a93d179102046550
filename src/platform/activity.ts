import { createHash } from 'node:crypto';
import type { DateTime, Interval } from 'luxon';
import type { Platform } from './platform.ts';
import { platformTimestamp } from './timestamp.ts';
import { ACTIVITY, ACTIVITY_TOTALS, AMOUNT_TOTALS, MONTHLY_ACTIVITY, NEW_USERS } from './queries.ts';
import { everyMonth, type MonthFact, type ProjectFact } from './facts.ts';

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

function add(a: ActivityCounts, b: ActivityCounts): ActivityCounts {
  return Object.fromEntries(Object.keys(NO_ACTIVITY).map((k) => [k, a[k as keyof ActivityCounts] + b[k as keyof ActivityCounts]])) as unknown as ActivityCounts;
}

/**
 * Totals and per-project counts for a half-open period and, given `scopes` (sets of project
 * ids, one per recipient), the counts of each set keyed by scopeKey(): a set's people are
 * distinct across its projects, counted in SQL. One query reads the period for all three.
 */
export async function activityIn(
  platform: Platform,
  period: Interval<true>,
  scopes: Iterable<string>[] = [],
): Promise<{ totals: Totals; byProject: Map<string, ActivityCounts>; byScope: Record<string, ActivityCounts> }> {
  const bounds = [platformTimestamp(period.start), platformTimestamp(period.end)];
  const { keys, projects } = scopeArrays(scopes);
  const [rows, users] = await Promise.all([
    platform.query<CountsRow & { part: 'project' | 'total' | 'scope'; key: string | null }>(ACTIVITY, [...bounds, keys, projects]),
    platform.query<{ new_users: number }>(NEW_USERS, bounds),
  ]);
  // A part's people's figures and its amounts come as two rows: added up.
  const byProject = new Map<string, ActivityCounts>();
  const byScope: Record<string, ActivityCounts> = {};
  let totals: ActivityCounts = NO_ACTIVITY;
  for (const r of rows) {
    if (r.part === 'total') totals = add(totals, counts(r));
    else if (r.part === 'project' && r.key) byProject.set(r.key, add(byProject.get(r.key) ?? NO_ACTIVITY, counts(r)));
    else if (r.part === 'scope' && r.key) byScope[r.key] = add(byScope[r.key] ?? NO_ACTIVITY, counts(r));
  }
  return { totals: { newUsers: users[0]?.new_users ?? 0, ...totals }, byProject, byScope };
}

/**
 * The totals of a period without its per-project figures (what a report compares with): a
 * lighter read, which never needs an input's project.
 */
export async function activityTotals(platform: Platform, period: Interval<true>): Promise<Totals> {
  const bounds = [platformTimestamp(period.start), platformTimestamp(period.end)];
  const [rows, users] = await Promise.all([platform.query<CountsRow>(ACTIVITY_TOTALS, bounds), platform.query<{ new_users: number }>(NEW_USERS, bounds)]);
  return { newUsers: users[0]?.new_users ?? 0, ...rows.map(counts).reduce(add, NO_ACTIVITY) };
}

/**
 * The monthly chart of `trend` (monthlyActivity) and the totals of `compared` (activityTotals),
 * a period a report compares with. When `compared` is whole local months of the chart, its
 * people's figures come from the chart's own read of the platform (its people per month,
 * regrouped), so the platform's largest tables are read once for both; only its amounts and new
 * users are read apart (small, indexed). Otherwise activityTotals reads it.
 */
export async function trendAndTotals(platform: Platform, trend: Interval<true>, zone: string, compared: Interval<true> | null): Promise<{ months: MonthFact[]; compared: Totals | null }> {
  const monthStart = (d: DateTime) => d.setZone(zone).startOf('month').toMillis() === d.toMillis();
  const within = compared && monthStart(compared.start) && monthStart(compared.end) && compared.start >= trend.start && compared.end <= trend.end && compared.start < compared.end;
  const bounds = within ? [platformTimestamp(compared.start), platformTimestamp(compared.end)] : [null, null];
  const [rows, amounts, users, apart] = await Promise.all([
    platform.query<CountsRow & { part: 'month' | 'period'; month: string | null }>(MONTHLY_ACTIVITY, [platformTimestamp(trend.start), platformTimestamp(trend.end), zone, ...bounds]),
    within ? platform.query<CountsRow>(AMOUNT_TOTALS, bounds) : [],
    within ? platform.query<{ new_users: number }>(NEW_USERS, bounds) : [],
    compared && !within ? activityTotals(platform, compared) : null,
  ]);
  const months = everyMonth(rows, trend, zone);
  if (!within) return { months, compared: apart };
  const people = rows.filter((r) => r.part === 'period').map((r) => counts({ ...r, offline_voters: 0, votes: 0, offline_votes: 0, budget: '0', offline_budget: '0' }));
  return { months, compared: { newUsers: users[0]?.new_users ?? 0, ...[...people, ...amounts.map(counts)].reduce(add, NO_ACTIVITY) } };
}

/** A stable key for a set of projects (a recipient's scope), short enough to store per run. */
export function scopeKey(projectIds: Iterable<string>): string {
  return createHash('sha1').update([...projectIds].sort().join(',')).digest('base64url').slice(0, 16);
}

/** Scopes as the parallel arrays ACTIVITY takes (key, project id), each distinct set once; empty sets left out. */
function scopeArrays(scopes: Iterable<string>[]): { keys: string[]; projects: string[] } {
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
  return { keys, projects };
}

/**
 * Activity per set of projects (each recipient's scope), counted in SQL so that people active
 * in two projects of one department count once. Keyed by scopeKey(); an empty set has no row.
 * activityIn(platform, period, scopes) gives these with the totals, in the same query.
 */
export async function activityByScope(platform: Platform, period: Interval<true>, scopes: Iterable<string>[]): Promise<Record<string, ActivityCounts>> {
  const sets = scopes.map((scope) => [...scope]);
  if (!scopeArrays(sets).keys.length) return {};
  return (await activityIn(platform, period, sets)).byScope;
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
