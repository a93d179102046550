/*
 * Many tenants: the minute tick of one deployment serving BENCH_TENANTS tenants (default 500)
 * with 8 schedules each, as `crier start --configs DIR` runs it (tickTenants: every tenant's
 * occurrences checked in its own ledger schema, its open work queued), against the tick of one
 * tenant measured in the same run. Target: 500 tenants × 8 schedules ticked within a second.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pLimit from 'p-limit';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadTenantDir } from '../src/config/tenants.ts';
import { pgConfig, SharedPools } from '../src/db.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { CrierQueues, TENANTS_AT_ONCE, tickTenants, type TenantWork } from '../src/queue/queues.ts';
import { engineOf, processWorker, transportOf } from '../src/cli/context.ts';
import type { Bench } from './section.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = 'crier_bench_tenants';
const TARGET_MS = 1000;

/** Eight schedules of the cadence table's kinds, none due at the minute measured. */
const SCHEDULES = {
  'council-quarterly': { job: 'council-update', audience: 'council', cron: '0 9 * 1,4,7,10 1#1' },
  'department-digest': { job: 'department-digest', audience: 'council', cron: '0 9 * * 1' },
  'moderators-weekly': { job: 'moderator-digest', audience: 'council', cron: '0 8 * * 2' },
  'comms-monthly': { job: 'communication-brief', audience: 'council', cron: '0 9 1 * *' },
  'project-call': { job: 'project-call', audience: 'council', cron: '0 9 * 1,4,7,10 2#1' },
  'steering': { job: 'steering-meeting', audience: 'council', cron: '0 14 * 3,6,9,12 4#2' },
  'launch': { job: 'launch-check-in', audience: 'council', cron: '0 10 1 1,7 *' },
  'survey': { job: 'survey-reminder', audience: 'council', cron: '0 9 * * 3' },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function dropSchemas(): Promise<void> {
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${PREFIX}%`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${pg.escapeIdentifier(nspname)} CASCADE`);
  } finally {
    await client.end();
  }
}

export default (async () => {
  const count = Number(process.env.BENCH_TENANTS ?? 500);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crier-bench-tenants-'));
  const zone = 'Europe/Brussels';
  writeFileSync(
    path.join(dir, 'defaults.yaml'),
    stringify({
      platform: { kind: 'govocal', database: PG_URL, launch: '2025-08-04' },
      crier: { database: PG_URL, schema: PREFIX, redis: REDIS_URL, prefix: PREFIX },
      mail: { from: 'Crier <crier@example.org>', transport: 'outbox', outbox: path.join(dir, 'outbox') },
    }),
  );
  for (let i = 1; i <= count; i++) {
    const id = `t${String(i).padStart(3, '0')}`;
    const schedules = Object.fromEntries(Object.entries(SCHEDULES).map(([k, s]) => [k, { ...s, timezone: zone }]));
    writeFileSync(path.join(dir, `${id}.yaml`), stringify({ platform: { tenant: `${id}.bench.local` }, audiences: { council: [{ name: 'Mayor', email: `mayor@${id}.example` }] }, schedules }));
  }
  await dropSchemas();
  const jobs = await loadJobKinds();
  const t0 = performance.now();
  const tenants = loadTenantDir(dir, { jobs });
  const loadMs = performance.now() - t0;
  const refused = tenants.filter((t) => t.error);
  if (refused.length) throw new Error(`bench tenants refused: ${refused[0].error!.message}`);
  const pools = new SharedPools();
  const log = pino({ level: 'warn' });
  const cruise = tenants.map((t) => new Crier(t.config!, jobs, { pools, logger: log }));
  const queues = CrierQueues.open({ ...cruise[0].config, tenant: undefined }, cruise[0].ledger, log);
  const worker = processWorker(cruise[0]);
  const all: TenantWork[] = cruise.map((c) => ({ engine: { ...engineOf(c, transportOf(c), worker) }, queues: queues.forTenant(c.config.tenant!, c.ledger) }));
  try {
    const m0 = performance.now();
    const migrations = pLimit(4);
    await Promise.all(cruise.map((c) => migrations(() => c.ledger.migrate())));
    const migrateMs = performance.now() - m0;
    // Every tick at the same minute (a Tuesday in November, 11:30, when none of the schedules fires).
    const at = new Date('2026-11-24T10:30:00Z');
    for (const w of all) w.engine.now = () => at;
    const timeTick = async (tenants: TenantWork[], opts: { minute?: number; sweepAll?: boolean }) => {
      const s = performance.now();
      await tickTenants(tenants, opts);
      return performance.now() - s;
    };
    const first = await timeTick(all, { sweepAll: true });
    const many: number[] = [];
    const one: number[] = [];
    // Five successive minutes: each sweeps a fifth of the tenants' ledgers, as crier start does.
    for (let minute = 0; minute < 5; minute++) {
      one.push(await timeTick(all.slice(0, 1), { sweepAll: true }));
      many.push(await timeTick(all, { minute }));
    }
    const steady = median(many);
    const single = median(one);
    const markdown = [
      `${count} tenants from a configs folder (defaults.yaml and one file each), ${Object.keys(SCHEDULES).length} schedules each (${count * Object.keys(SCHEDULES).length} in all), each tenant its own ledger schema on one shared pool; the tick as \`crier start --configs\` runs it (every tenant's occurrences checked in its ledger, ${TENANTS_AT_ONCE} tenants at a time, and a fifth of them swept for open work each minute), at minutes when none fires. Median of 5 successive minutes, alternating with one tenant's tick (which sweeps every minute).`,
      '',
      '| what | time |',
      '|---|---|',
      `| reading and checking the ${count + 1} files | ${loadMs.toFixed(0)} ms |`,
      `| migrating the ${count} ledgers (first start) | ${(migrateMs / 1000).toFixed(1)} s |`,
      `| first tick (each schedule's state recorded) | ${first.toFixed(0)} ms |`,
      `| **tick, ${count} tenants** | **${steady.toFixed(0)} ms** (${(steady / count).toFixed(2)} ms a tenant) |`,
      `| tick, one tenant | ${single.toFixed(1)} ms |`,
      '',
      `${count} tenants tick in ${(steady / single).toFixed(0)}× one tenant's time (sequentially it would be ${count}×).`,
    ].join('\n');
    return { title: 'Many tenants: the tick', markdown, verdict: `${count} tenants × 8 schedules ticked in ${steady.toFixed(0)} ms: ${steady < TARGET_MS ? 'met' : 'not met'} (< ${TARGET_MS} ms)` };
  } finally {
    await queues.close();
    await Promise.allSettled(cruise.map((c) => c.close()));
    await pools.close();
    await dropSchemas();
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}) satisfies Bench;
