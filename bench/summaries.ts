/*
 * `npm run bench summaries`: how long each job kind's summary takes on a big tenant (1,002,556
 * inputs, 3,003,523 comments, 5,010,147 reactions: bench/big-tenant.ts makes it when its
 * database lacks it), with only the indexes the real platform has. A summary is what
 * `crier preview` and a run do before rendering: prepareRun (the audience, then the job kind's
 * platform reads). Target: under 1 s for every job kind.
 */
import os from 'node:os';
import { DateTime } from 'luxon';
import pg from 'pg';
import { pgConfig } from '../src/db.ts';
import { adviseIndexes, identifier, type IndexAdvice, type TimedQuery } from '../src/platform/advice.ts';
import { Platform, tenantSchema } from '../src/platform/platform.ts';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { createLogger } from '../src/log.ts';
import { summarySends, timeSummary } from '../src/cli/doctor.ts';
import { BIG_TENANT_DATABASE, BIG_TENANT_HOST, ensureBigTenant } from './big-tenant.ts';
import type { Bench } from './section.ts';

const RUNS = Number(process.env.BENCH_SUMMARY_RUNS ?? 5);
const BIG_TENANT_SCHEMA = tenantSchema(BIG_TENANT_HOST);
const TARGET_MS = 1000;

/**
 * Measured with this file's method on 2026-11-27, before the platform queries were rewritten:
 * the code of commit 844b119 (its src/ and jobs/ as they were, with only this bench added), on
 * the same tenant (generator version 2), this 2-core machine, median of 3 after a warm-up.
 * Kept to quote before and after side by side.
 */
const BEFORE: { date: string; note: string; ms: Record<string, number> } = {
  date: '2026-11-27',
  note: "measured on 2026-11-27 with this same method and tenant, running the code of commit 844b119 (before the platform queries were rewritten), median of 3 after a warm-up; the machine's load average was 6 to 7 (other work).",
  ms: {
    'council-update': 49_863,
    'launch-check-in': 5_316,
    'steering-meeting': 19_790,
    'project-call': 198,
    'department-digest': 21_431,
    'moderator-digest': 16_685,
    'survey-reminder': 866,
    'communication-brief': 14_329,
    'launch-check-in (launch 2026-05-27)': 22_902,
  },
};

interface Row {
  job: string;
  schedule: string;
  variant: string;
  occurrence: string;
  period: string;
  runs: number[];
  /** The platform queries of the last run, for doctor's advice. */
  queries: TimedQuery[];
}

export default (async () => {
  process.env.LOG_LEVEL ??= 'warn';
  const t0 = Date.now();
  const tenant = await ensureBigTenant({ log: (l) => console.log(l) });
  const generation = tenant.generated
    ? `The big tenant was generated in this run, in ${(tenant.seconds / 60).toFixed(1)} minutes (\`bench/big-tenant.ts\`).`
    : `The big tenant was already in \`${new URL(tenant.database).pathname.slice(1)}\` (generator version ${tenant.version}, made in ${(tenant.seconds / 60).toFixed(1)} minutes; this run took ${((Date.now() - t0) / 1000).toFixed(1)} s to find it).`;

  // The shipped config, pointed at the big tenant; its ledger (project-call rounds) in the same database.
  const jobs = await loadJobKinds();
  const shipped = loadConfig('config/crier.yaml', { jobs });
  const config = {
    ...shipped,
    platform: { ...shipped.platform, database: BIG_TENANT_DATABASE, tenant: BIG_TENANT_HOST, launch: tenant.launch, demo: false },
    crier: { ...shipped.crier, database: BIG_TENANT_DATABASE, schema: 'crier_bench' },
  };
  // The tenant's history ends when it was made: occurrences are taken from then, so a tenant
  // made months ago is measured on the same data as a fresh one.
  const now = new Date(tenant.now);
  // The shipped schedules as they are, then the launch check-in again as if the platform had
  // launched six months before: its real occurrences (launch + 1 week … 6 months) read the
  // tenant's first, quiet months; this one reads its six busiest.
  const recentLaunch = DateTime.fromJSDate(now).setZone('Europe/Brussels').minus({ months: 6 }).toISODate()!;
  const passes = [[tenant.launch, null, ''], [recentLaunch, 'launch-check-in', ` (launch ${recentLaunch})`]] as const;

  /** Every job kind's summary, timed: median of RUNS after a warm-up. */
  async function timeAll(): Promise<Row[]> {
    const rows: Row[] = [];
    for (const [launch, only, label] of passes) {
      const crier = new Crier({ ...config, platform: { ...config.platform, launch } }, jobs, { logger: createLogger(), now: () => now });
      try {
        await crier.ledger.migrate();
        const book = await crier.schedules();
        const seen = new Set<string>();
        for (const schedule of book.all) {
          if (seen.has(schedule.job) || !schedule.enabled || (only && schedule.job !== only)) continue;
          seen.add(schedule.job);
          // The latest send (its period complete, as when the run fires); of a meeting, its agenda.
          const sends = summarySends(book, schedule, DateTime.fromJSDate(now));
          const send = sends.find((x) => x.variant === 'agenda') ?? sends[0];
          if (!send) continue;
          const deps = { platform: () => crier.platform(), schedules: async () => book, config: crier.config, now: crier.now, rounds: crier.rounds };
          const first = await timeSummary(deps, schedule, send); // warm-up
          const runs: number[] = [];
          let queries: TimedQuery[] = [];
          for (let i = 0; i < RUNS; i++) {
            const t = await timeSummary(deps, schedule, send);
            runs.push(t.ms);
            queries = t.queries;
          }
          const row = { job: schedule.job + label, schedule: schedule.id, variant: send.variant, occurrence: send.occurrence.setZone(schedule.timezone).toFormat('yyyy-MM-dd HH:mm'), period: `${first.period.start.toFormat('yyyy-MM-dd')} → ${first.period.end.toFormat('yyyy-MM-dd')}`, runs, queries };
          rows.push(row);
          console.log(`${row.job.padEnd(40)} ${median(runs).toFixed(0).padStart(7)} ms  (${runs.map((r) => r.toFixed(0)).join(', ')})`);
        }
      } finally {
        await crier.close();
      }
    }
    return rows;
  }

  const load = () => os.loadavg()[0].toFixed(1);
  const loadBefore = load();
  const rows = await timeAll();
  const loadAfter = load();

  // Where a summary is over 1 s: the indexes doctor names for it, created in the bench's own
  // database (never a platform's), every summary timed again, and the indexes dropped.
  const slowRows = rows.filter((r) => median(r.runs) >= TARGET_MS);
  let advice: IndexAdvice[] = [];
  let withIndexes: Map<string, Row> | null = null;
  if (slowRows.length) {
    const platform = await Platform.connect({ database: BIG_TENANT_DATABASE, tenant: BIG_TENANT_HOST });
    try {
      const worst = slowRows.flatMap((r) => {
        const top = Math.max(...r.queries.map((q) => q.ms));
        return r.queries.filter((q) => q.ms >= top / 4 && q.ms >= TARGET_MS / 10);
      });
      advice = (await adviseIndexes(platform, worst)).filter((a) => a.scanMs >= TARGET_MS / 10);
    } finally {
      await platform.close();
    }
    if (advice.length) {
      const admin = new pg.Client(pgConfig(BIG_TENANT_DATABASE));
      await admin.connect();
      try {
        for (const a of advice) {
          console.log(a.statement);
          await admin.query(a.statement);
          await admin.query(`ANALYZE ${identifier(BIG_TENANT_SCHEMA)}.${identifier(a.table)}`);
        }
        withIndexes = new Map((await timeAll()).map((r) => [r.job, r]));
      } finally {
        for (const a of advice) await admin.query(`DROP INDEX IF EXISTS ${identifier(BIG_TENANT_SCHEMA)}.${identifier(`index_${a.table}_on_${a.column}`)}`);
        await admin.end();
      }
    }
  }

  const fmt = (ms: number | undefined) => (ms === undefined ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  const slowest = rows.reduce((a, b) => (median(b.runs) > median(a.runs) ? b : a), rows[0]);
  const c = tenant.counts;
  const markdown = [
    `Each job kind's summary on a big tenant: ${c.ideas.toLocaleString('en')} inputs, ${c.comments.toLocaleString('en')} comments, ${c.reactions.toLocaleString('en')} reactions, ${c.users.toLocaleString('en')} users, ${c.projects} projects, ${c.baskets.toLocaleString('en')} ballots over six years up to ${tenant.now.slice(0, 10)}, with only the indexes of the platform's structure.sql. ${generation}`,
    '',
    `A summary is \`prepareRun\` (what \`crier preview\` and a run do before rendering: the audience, then the job kind's platform reads) for the shipped config's schedule of that kind, its latest send when the tenant's history ends (its period complete, as when the run fires; of a steering meeting, the agenda), pointed at the big tenant with \`platform.launch\` ${tenant.launch}. Median of ${RUNS} runs after a warm-up, one summary at a time; the platform connection allows 4 queries at once. The machine (${os.cpus().length} cores) is shared with other work: its load average was ${loadBefore} when the timing began and ${loadAfter} when it ended.`,
    '',
    `| job kind | schedule · send | period | before (${BEFORE.date}) | now, median | fastest – slowest |${withIndexes ? " with doctor's indexes |" : ''}`,
    `|---|---|---|--:|--:|--:|${withIndexes ? '--:|' : ''}`,
    ...rows.map((r) => `| \`${r.job}\` | ${r.schedule}${r.variant === 'default' ? '' : ` · ${r.variant}`} (${r.occurrence}) | ${r.period} | ${fmt(BEFORE.ms[r.job])} | **${fmt(median(r.runs))}** | ${fmt(Math.min(...r.runs))} – ${fmt(Math.max(...r.runs))} |${withIndexes ? ` ${fmt(withIndexes.get(r.job) && median(withIndexes.get(r.job)!.runs))} |` : ''}`),
    '',
    `"Before": ${BEFORE.note}`,
    ...(advice.length
      ? [
          '',
          `Over 1 s with the platform's own indexes; \`crier doctor\` names, for those summaries (EXPLAIN ANALYZE of their slowest queries):`,
          '',
          ...advice.map((a) => `- \`${a.statement}\`: up to ${fmt(a.scanMs)} saved (${a.queries.join(', ')} read all ${a.rowsRead.toLocaleString('en')} rows of ${a.table} to keep ${a.rowsKept.toLocaleString('en')})`),
          '',
          `The last column is every summary timed again with those indexes created in the bench's database (and dropped afterwards).`,
        ]
      : []),
  ].join('\n');
  const verdict = !rows.length
    ? 'no summary was timed: not met'
    : slowRows.length
      ? `${slowRows.map((r) => `${r.job} ${fmt(median(r.runs))}`).join(', ')} over 1 s with the platform's own indexes: not met${withIndexes ? `; with doctor's indexes ${[...withIndexes.values()].filter((r) => median(r.runs) >= TARGET_MS).length ? 'still not met' : 'every job kind under 1 s'}` : ''}`
      : `every job kind under 1 s (slowest: ${slowest.job}, ${fmt(median(slowest.runs))}): met`;
  return { title: 'Summaries on a big tenant', markdown, verdict };
}) satisfies Bench;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
