/*
 * What the send and memory benchmarks share: the SMTP sink process, a bench config on the demo
 * tenant with an audience of N generated people, Crier spawned as a user runs it (the bin, as a
 * whole process, its peak RSS recorded), and a clean ledger schema and Redis prefix.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { build, distIsCurrent } from '../../bin/build.js';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TENANT = 'bench.crier.local';
const LOCALES = ['nl-BE', 'nl-BE', 'nl-BE', 'fr-BE', 'en'];

export interface Sink {
  port: number;
  /** Resolves with the moment (Date.now()) the n-th message since the last reset was accepted. */
  expect(n: number): Promise<{ at: number; distinct: boolean; recipients: number }>;
  reset(): void;
  close(): void;
}

export async function startSink(): Promise<Sink> {
  const child = fork(path.join(ROOT, 'bench/lib/sink.ts'), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    port,
    expect(n) {
      return new Promise((resolve) => {
        const on = (m: { done?: number; at: number; distinct: boolean; recipients: number }) => {
          if (m.done === undefined) return;
          child.off('message', on);
          resolve(m);
        };
        child.on('message', on);
        child.send({ expect: n });
      });
    },
    reset: () => child.send({ reset: true }),
    close: () => child.kill(),
  };
}

/** The i-th generated recipient: a unique address, a name, one of the demo tenant's locales. */
export function person(i: number) {
  return { name: `Bench Recipient ${i}`, email: `r${i}@bench.example.org`, locale: LOCALES[i % LOCALES.length] };
}

export interface BenchConfigOptions {
  port: number;
  recipients: number;
  /** Ledger schema and Redis prefix of this measurement. */
  name: string;
  /** The audience as a YAML list instead of a CSV file (to compare how long each takes to read). */
  yaml?: boolean;
  /** Deliveries one worker process works at once (crier.concurrency), and its SMTP connections. */
  concurrency?: number;
  connections?: number;
}

/** A config of its own folder: the council update to `recipients` people, sent to the sink. */
export function writeBenchConfig(o: BenchConfigOptions): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crier-bench-'));
  const lines = [
    'platform:',
    '  kind: govocal',
    `  database: ${PG_URL}`,
    `  tenant: ${TENANT}`,
    '  launch: 2025-08-04',
    '  demo: true',
    'crier:',
    `  database: ${PG_URL}`,
    `  schema: ${o.name}`,
    `  redis: ${REDIS_URL}`,
    `  prefix: ${o.name}`,
    `  concurrency: ${o.concurrency ?? 5}`,
    'mail:',
    '  from: "Participatie Bench <participatie@bench.crier.local>"',
    '  transport: smtp',
    `  smtp: smtp://127.0.0.1:${o.port}`,
    `  pool: { maxConnections: ${o.connections ?? 5} }`,
    'audiences:',
    '  everyone:',
    ...(o.yaml ? peopleYaml(o.recipients) : ['    - { csv: people.csv }']),
    'schedules:',
    '  council-bench:',
    '    job: council-update',
    '    audience: [everyone]',
    '    cron: "0 9 * * *"',
    '    catchUp: PT1M                # measured runs are started by crier run --at, never caught up',
    '    timezone: Europe/Brussels',
    '    window: false',
  ];
  const file = path.join(dir, 'crier.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  if (!o.yaml) writeFileSync(path.join(dir, 'people.csv'), peopleCsv(o.recipients));
  return file;
}

function peopleCsv(n: number): string {
  const rows = ['email,name,locale'];
  for (let i = 0; i < n; i++) {
    const p = person(i);
    rows.push(`${p.email},${p.name},${p.locale}`);
  }
  return `${rows.join('\n')}\n`;
}

function peopleYaml(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = person(i);
    out.push(`    - { name: ${p.name}, email: ${p.email}, locale: ${p.locale} }`);
  }
  return out;
}

/** A fresh ledger schema and Redis prefix for one measurement. */
export async function cleanSlate(name: string): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${name}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

/**
 * Crier is measured as production runs it, from the build: dist/ is built first when it is
 * missing or older than the source, and the measured processes run it (CRIER_SOURCE=0), even if
 * a file is saved while the benchmark runs.
 */
export function ensureBuild(): void {
  if (!distIsCurrent()) build();
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves on exit with the exit code, the process's peak RSS in MB and the CPU it used in ms. */
  exited: Promise<{ code: number | null; peakMB: number; cpuMs: number; stderr: string }>;
}

/** `crier ARGS` as a user runs it (bin/crier.js), its peak RSS recorded; `node` flags such as --cpu-prof. */
export function spawnCrier(args: string[], env: Record<string, string> = {}, node: string[] = []): Spawned {
  const rssFile = path.join(mkdtempSync(path.join(tmpdir(), 'crier-rss-')), 'rss');
  const child = spawn(process.execPath, [...node, '--import', path.join(ROOT, 'bench/lib/peak-rss.mjs'), path.join(ROOT, 'bin/crier.js'), ...args], {
    cwd: ROOT,
    // Logging as a deployment logs (info), whatever an earlier section of this run set.
    env: { ...process.env, CRIER_SOURCE: '0', LOG_LEVEL: 'info', BENCH_RSS_FILE: rssFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; peakMB: number; cpuMs: number; stderr: string }>((resolve) =>
    child.on('exit', (code) => {
      let usage = { maxRSS: NaN, cpu: NaN };
      try {
        usage = JSON.parse(readFileSync(rssFile, 'utf8'));
      } catch {
        /* killed before it could write */
      }
      resolve({ code, peakMB: usage.maxRSS / 1024, cpuMs: usage.cpu / 1000, stderr });
    }),
  );
  return { child, exited };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
