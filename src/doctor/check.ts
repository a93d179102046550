import type { Crier } from '../deployment/deployment.ts';
import type { TimedQuery } from '../platform/advice.ts';

/*
 * What a check of `crier doctor` is and what it reports: the checks of src/doctor/ and the
 * command (src/cli/doctor.ts) share these.
 */

export type Status = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** The check's id: config, ledger, redis, platform, smtp, dkim, mail, summary, indexes. */
  check: string;
  status: Status;
  /** What the line is about (a schedule, the tenant). */
  subject: string;
  /** One sentence. */
  message: string;
  /** Further lines: what to do. */
  details?: string[];
  /** Figures for --json. */
  data?: Record<string, unknown>;
}

export interface DoctorContext {
  crier: Crier;
  /** A summary slower than this is reported (default 1000 ms). */
  slowMs: number;
  /** What the checks found so far (a later check can depend on an earlier one). */
  results: CheckResult[];
  /** Shared between checks: the summaries' timings. */
  state: { summaries?: SummaryTiming[] };
}

export interface DoctorCheck {
  id: string;
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

/** One schedule's summary, timed. */
export interface SummaryTiming {
  schedule: string;
  job: string;
  variant: string;
  occurrence: string;
  ms: number;
  queries: TimedQuery[];
  error?: string;
}

