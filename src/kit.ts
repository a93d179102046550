/*
 * Everything a job kind needs from Crier, in one module: the job-kind contract with typed
 * options, the platform's read API (facts, activity, the role directory, its own named SQL),
 * the e-mail blocks and the formatter, and the config and time helpers for its options.
 * Job kinds import this and nothing else from src/ (README, "Adding a job kind").
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { namedQueries } from './platform/sql-file.ts';

export { defineJobKind } from './kit/contract.ts';
export type { CollectContext, JobKind, JobKindDefinition, Options, PeriodContext, PlanContext, PlannedRun, Recipient, ReviewItem, ViewContext } from './kit/contract.ts';
export * from './kit/blocks.ts';

export type { Platform, PlatformInfo } from './platform/platform.ts';
export { platformTimestamp } from './platform/timestamp.ts';
export type { Multiloc, RecipientScope } from './platform/types.ts';
export { activityByScope, activityIn, activityTotals, NO_ACTIVITY, scopeKey, trendAndTotals, withActivity, type ActivityCounts, type Totals } from './platform/activity.ts';
export { catalog, eventsBetween, mostDiscussed, monthlyActivity, newInputs, phases, phasesStartingOrEnding, unanswered, type EventFact, type FolderFact, type InputFact, type MonthFact, type PhaseFact, type ProjectFact } from './platform/facts.ts';
export { managedFolders, moderatedProjects, readDirectory, type Directory, type RoleHolder } from './platform/directory.ts';

export type { Formatter } from './render/format.ts';
export type { Round, RoundAnswer, RoundHead, RoundReader } from './kit/rounds.ts';
export { isoDuration, localDateTime } from './config/schema.ts';
export { parseLocalDateTime } from './schedule/occurrences.ts';
export { wallTimeToInstant } from './schedule/wallclock.ts';

/**
 * The named queries of the queries.sql beside a job kind's module (`-- name: x` before each):
 * `const sql = queriesNextTo(import.meta.url)`, then `platform.query(sql.x, [...])`.
 */
export function queriesNextTo(moduleUrl: string): Record<string, string> {
  return namedQueries(path.join(path.dirname(fileURLToPath(moduleUrl)), 'queries.sql'));
}
