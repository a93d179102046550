import { DateTime } from 'luxon';
import { ConfigError, formatIssue } from '../config/errors.ts';
import type { CrierConfig } from '../config/load.ts';
import { Crier } from '../deployment/deployment.ts';
import { dkimCheck, mailCheck, smtpCheck } from '../doctor/mail.ts';
import { ledgerCheck, platformCheck, redisCheck } from '../doctor/services.ts';
import { loadJobKinds } from '../job-registry.ts';
import type { Schedule, ScheduleBook } from '../deployment/schedules.ts';
import { prepareRun, type PrepareDeps } from '../delivery/prepare.ts';
import type { PlannedRun } from '../kit/contract.ts';
import { adviseIndexes, type IndexAdvice, type TimedQuery } from '../platform/advice.ts';
import type { Platform } from '../platform/platform.ts';
import * as queries from '../platform/queries.ts';
import { fixedOccurrences, previousOccurrence } from '../schedule/occurrences.ts';
import { runsOfOccurrence } from '../schedule/plan.ts';
import { configPath, readConfig, type GlobalOptions } from './context.ts';
import type { CheckResult, DoctorCheck, DoctorContext, SummaryTiming } from '../doctor/check.ts';

/*
 * `crier doctor`: a list of checks, each reporting ok, warn or fail in plain words, about a
 * deployment as it runs here: the config; each service reached (the ledger, Redis, the
 * platform, proved read-only); the SMTP relay's session and login; what can be said of the
 * addresses and the DKIM key without DNS; how long each schedule's summary takes on the
 * platform and, where one is slow, which index would help and how much it would save. It
 * only reads the platform (the summaries and EXPLAIN ANALYZE of their queries, on the
 * read-only connection), sends nothing and says what to fix.
 */

export interface DoctorOptions extends GlobalOptions {
  /** Milliseconds above which a summary is slow (default 1000). */
  slow?: string;
  /** Milliseconds the ledger's or the platform's Postgres may take to accept a connection (default 10000). */
  connectTimeout?: string;
}

/** The checks after the config's, in order. Each says what it found; one that cannot run says why. */
export const CHECKS: DoctorCheck[] = [
  ledgerCheck,
  redisCheck,
  platformCheck,
  smtpCheck,
  dkimCheck,
  mailCheck,
  {
    id: 'summary',
    async run(ctx) {
      if (ctx.results.some((r) => r.check === 'platform' && r.status === 'fail')) return [{ check: 'summary', status: 'fail', subject: 'every schedule', message: 'not timed: the platform cannot be read (see above)' }];
      if (ctx.results.some((r) => r.check === 'ledger' && r.status === 'fail')) return [{ check: 'summary', status: 'fail', subject: 'every schedule', message: "not timed: a run's summary reads project-call rounds from Crier's ledger, which cannot be used (see above)" }];
      const { crier, slowMs } = ctx;
      // Project-call rounds are read from Crier's own tables, as `crier preview` does.
      await crier.ledger.migrate();
      const book = await crier.schedules();
      const deps: PrepareDeps = { platform: () => crier.platform(), schedules: async () => book, config: crier.config, now: crier.now, rounds: crier.rounds };
      const now = DateTime.fromJSDate(crier.now());
      const out: CheckResult[] = [];
      const timings: SummaryTiming[] = [];
      for (const schedule of book.all.filter((s) => s.enabled)) {
        const sends = summarySends(book, schedule, now);
        if (!sends.length) {
          out.push({ check: 'summary', status: 'ok', subject: schedule.id, message: `${schedule.job}: no occurrence to summarise` });
          continue;
        }
        const timed: SummaryTiming[] = [];
        for (const send of sends) {
          const base = { schedule: schedule.id, job: schedule.job, variant: send.variant, occurrence: send.occurrence.setZone(schedule.timezone).toFormat('yyyy-MM-dd HH:mm') };
          try {
            const t = await timeSummary(deps, schedule, send);
            timed.push({ ...base, ms: t.ms, queries: t.queries });
          } catch (e) {
            timed.push({ ...base, ms: 0, queries: [], error: (e as Error).message });
          }
        }
        timings.push(...timed);
        const failed = timed.find((t) => t.error);
        const slowest = timed.reduce((a, b) => (b.ms > a.ms ? b : a));
        const what = `${schedule.job}${sends.length > 1 ? `, ${slowest.variant}` : ''} of ${slowest.occurrence}`;
        const data = { job: schedule.job, sends: timed.map((t) => ({ variant: t.variant, occurrence: t.occurrence, ms: Math.round(t.ms), error: t.error })) };
        if (failed) out.push({ check: 'summary', status: 'fail', subject: schedule.id, message: `${schedule.job}${sends.length > 1 ? `, ${failed.variant}` : ''}: the summary failed: ${failed.error}`, data });
        else if (slowest.ms > slowMs) out.push({ check: 'summary', status: 'warn', subject: schedule.id, message: `${what}: ${seconds(slowest.ms)}, over ${seconds(slowMs)}`, data });
        else out.push({ check: 'summary', status: 'ok', subject: schedule.id, message: `${what}: ${seconds(slowest.ms)}`, data });
      }
      ctx.state.summaries = timings;
      return out;
    },
  },
  {
    id: 'indexes',
    async run(ctx) {
      const timings = ctx.state.summaries;
      if (!timings) return [];
      const slow = timings.filter((t) => !t.error && t.ms > ctx.slowMs);
      if (!slow.length) return [{ check: 'indexes', status: 'ok', subject: 'platform indexes', message: `no index is needed: every summary took ${seconds(ctx.slowMs)} or less` }];
      const platform = await ctx.crier.platform();
      // The queries that made the slow summaries slow: each slow summary's slowest, and any
      // other that took a quarter of its time or more.
      const worst = new Map<string, TimedQuery>();
      for (const t of slow) {
        const top = Math.max(...t.queries.map((q) => q.ms));
        for (const q of t.queries) if (q.ms >= top / 4 && q.ms >= ctx.slowMs / 10) worst.set(`${q.sql}\u0000${JSON.stringify(q.params)}`, q);
      }
      // An index is named only where it would save a tenth of the threshold or more.
      const advice = (await adviseIndexes(platform, [...worst.values()])).filter((a) => a.scanMs >= ctx.slowMs / 10);
      const names = slow.map((t) => t.schedule).filter((s, i, all) => all.indexOf(s) === i);
      // The slow summaries that ran a query reading the table.
      const readers = (a: IndexAdvice) => names.filter((n) => slow.some((t) => t.schedule === n && t.queries.some((q) => a.queries.includes(q.name))));
      if (!advice.length) {
        return [{ check: 'indexes', status: 'warn', subject: 'platform indexes', message: `no index would help ${names.join(', ')}: their slow queries read no whole table for a small time slice of it`, details: [...worst.values()].map((q) => `${q.name}: ${seconds(q.ms)}`) }];
      }
      return advice.map((a) => ({
        check: 'indexes',
        status: 'warn' as const,
        subject: `${a.table}.${a.column}`,
        message: `an index on ${a.table}.${a.column} would save up to ${seconds(a.scanMs)} each time ${a.queries.join(' or ')} reads ${a.table}, in ${readers(a).join(', ')}`,
        details: [
          a.statement,
          `How this is estimated: EXPLAIN ANALYZE shows ${a.queries.join(', ')} reading all ${a.rowsRead.toLocaleString('en')} rows of ${a.table} to keep ${a.rowsKept.toLocaleString('en')} by ${a.column}; that read, timed alone, takes ${seconds(a.scanMs)}. With the index only the rows kept are read, so the saving is at most that time.`,
        ],
        data: { ...a },
      }));
    },
  },
];

/**
 * `crier doctor`: runs the checks and reports each; exit 1 when one failed, 2 when the config
 * is refused (as every command; then only that is reported, as nothing else can be checked).
 */
export async function doctor(opts: DoctorOptions): Promise<number> {
  const slowMs = opts.slow === undefined ? 1000 : Number(opts.slow);
  if (!Number.isFinite(slowMs) || slowMs < 0) throw new Error(`--slow '${opts.slow}' is not a number of milliseconds`);
  const connectMs = opts.connectTimeout === undefined ? 10_000 : Number(opts.connectTimeout);
  if (!Number.isInteger(connectMs) || connectMs <= 0) throw new Error(`--connect-timeout '${opts.connectTimeout}' is not a number of milliseconds above 0`);
  const results: CheckResult[] = [];
  const report = (found: CheckResult[]) => {
    results.push(...found);
    if (!opts.json) for (const r of found) process.stdout.write(formatResult(r));
  };
  const finish = (code?: number) => {
    const ok = !results.some((r) => r.status === 'fail');
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok, checks: results }, null, 2)}\n`);
    return code ?? (ok ? 0 : 1);
  };
  let config: CrierConfig;
  try {
    config = await readConfig(opts);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    report([configRefused(e, configPath(opts))]);
    return finish(2);
  }
  report([configValid(config)]);
  const crier = new Crier(config, await loadJobKinds(), { connectTimeout: connectMs });
  const ctx: DoctorContext = { crier, slowMs, results, state: {} };
  try {
    for (const check of CHECKS) {
      let found: CheckResult[];
      try {
        found = await check.run(ctx);
      } catch (e) {
        // A check that breaks is a finding too; the others still run.
        found = [{ check: check.id, status: 'fail', subject: 'doctor', message: `the check could not run: ${(e as Error).message}` }];
      }
      report(found);
    }
  } finally {
    await crier.close();
  }
  return finish();
}

function configRefused(e: ConfigError, file: string): CheckResult {
  return {
    check: 'config',
    status: 'fail',
    subject: file,
    message: `refused: ${e.issues.length === 1 ? 'one problem' : `${e.issues.length} problems`}; fix ${e.issues.length === 1 ? 'it' : 'them'} in the file (\`crier check\` says the same), then run crier doctor again`,
    details: e.issues.map(formatIssue),
    data: { errors: e.issues },
  };
}

function configValid(config: CrierConfig): CheckResult {
  const enabled = config.schedules.filter((s) => s.enabled).length;
  const sends = config.mail.transport === 'smtp' ? 'sends through SMTP' : `writes e-mail to ${config.mail.outbox} (outbox: nothing is sent)`;
  return { check: 'config', status: 'ok', subject: config.file, message: `valid: ${config.schedules.length} schedules (${enabled} enabled); ${sends}`, data: { schedules: config.schedules.length, enabled, transport: config.mail.transport } };
}

export function formatResult(r: CheckResult): string {
  const head = `${r.status.padEnd(5)} ${r.check.padEnd(8)} ${r.subject}: ${r.message}\n`;
  return head + (r.details ?? []).map((d) => `${' '.repeat(15)}${d}\n`).join('');
}

const seconds = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/**
 * The sends a schedule's summary is timed on: those of its latest occurrence (its period is
 * complete, as when a run fires; `afterLaunch` and `dates` ones however long ago), else of its
 * next one.
 */
export function summarySends(book: ScheduleBook, schedule: Schedule, now: DateTime): PlannedRun[] {
  const fixed = fixedOccurrences(schedule.triggers).filter((o) => o <= now);
  const latest = [previousOccurrence(schedule.triggers, now), ...fixed].filter((o): o is DateTime => o !== undefined).sort((a, b) => b.toMillis() - a.toMillis())[0];
  const occurrence = latest ?? book.nextRuns(schedule, now, 20)[0]?.occurrence;
  if (!occurrence) return [];
  return runsOfOccurrence(book.job(schedule.job), schedule, occurrence, now);
}

const QUERY_NAMES = new Map(Object.entries(queries).filter(([, v]) => typeof v === 'string').map(([k, v]) => [v as string, k]));

/**
 * One summary as a run prepares it (the audience, then the job kind's platform reads), timed,
 * with every platform query it ran and how long that took.
 */
export async function timeSummary(deps: PrepareDeps, schedule: Schedule, send: PlannedRun): Promise<{ ms: number; queries: TimedQuery[]; period: Awaited<ReturnType<typeof prepareRun>>['period'] }> {
  const platform = await deps.platform();
  const ran: TimedQuery[] = [];
  const recording = new Proxy(platform, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return async (sql: string, params: unknown[] = []) => {
        const t0 = performance.now();
        try {
          return await target.query(sql, params);
        } finally {
          ran.push({ name: QUERY_NAMES.get(sql) ?? `${schedule.job}: ${sql.trim().split('\n')[0].slice(0, 60)}`, sql, params, ms: performance.now() - t0 });
        }
      };
    },
  }) as Platform;
  const t0 = performance.now();
  const { period } = await prepareRun({ ...deps, platform: async () => recording }, schedule, send);
  return { ms: performance.now() - t0, queries: ran, period };
}
