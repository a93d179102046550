/*
 * End to end, N recipients (default 10,000) of the council update, from `crier run` to the
 * last message accepted by a local SMTP sink, against the ceiling: a bare nodemailer pool
 * sending the same prepared message through as many connections to the same sink, in the
 * same run. Then the scaling curve: 1, 2 and 4 `crier start` worker processes on one Redis,
 * the run started by `crier run`.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import type { Bench } from './section.ts';
import { cleanSlate, ensureBuild, PG_URL, person, ROOT, spawnCrier, startSink, writeBenchConfig, type Sink } from './lib/harness.ts';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { ensureDemoTenant } from '../src/cli/demo.ts';
import { prepareRun } from '../src/delivery/prepare.ts';
import { composeMessage } from '../src/delivery/compose.ts';
import { createLogger } from '../src/log.ts';

const N = Number(process.env.BENCH_SEND_RECIPIENTS ?? 10_000);
const CONNECTIONS = 5;
const WORKERS = (process.env.BENCH_SEND_WORKERS ?? '1,2,4').split(',').filter(Boolean).map(Number);
const NAME = 'crier_bench_send';

/** The message Crier renders for the first recipient, as nodemailer takes it. */
async function preparedMessage(configFile: string): Promise<string> {
  const jobs = await loadJobKinds();
  const config = loadConfig(configFile, { jobs });
  const crier = new Crier(config, jobs, { logger: createLogger() });
  try {
    await ensureDemoTenant(crier);
    const book = await crier.schedules();
    const schedule = book.get('council-bench');
    const now = DateTime.now();
    const planned = book.pickRun(schedule, undefined, undefined, now);
    const { period, data } = await prepareRun(crier, schedule, planned);
    const { message } = await composeMessage(crier, { schedule, data, period, recipient: person(0), run: planned, runId: 1, deliveryId: 1, fileStem: 'bench' });
    const { fileStem: _f, messageId: _m, envelope: _e, icalEvent: _i, ...plain } = message;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'crier-bench-msg-')), 'message.json');
    writeFileSync(file, JSON.stringify(plain));
    return file;
  } finally {
    await crier.close();
  }
}

/** Messages per second, and CPU milliseconds per message of the sending process. */
interface Rate {
  rate: number;
  cpuPerMessage: number;
}

async function bare(sink: Sink, messageFile: string): Promise<Rate> {
  sink.reset();
  const child = fork(path.join(ROOT, 'bench/lib/bare-pool.ts'), [messageFile, String(sink.port), String(N), String(CONNECTIONS)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Listening for its last word from the start: a pool done before the sink reports would otherwise say it to no one.
  const used = new Promise<{ cpuMs: number }>((resolve) => child.on('message', (m: { cpuMs?: number }) => m.cpuMs !== undefined && resolve(m as { cpuMs: number })));
  const start = await new Promise<number>((resolve) => child.once('message', (m: { start: number }) => resolve(m.start)));
  const { at } = await sink.expect(N);
  const { cpuMs } = await used;
  return { rate: N / ((at - start) / 1000), cpuPerMessage: cpuMs / N };
}

/** `crier run --wait` in one process: fan-out and every send. */
async function crierOneProcess(sink: Sink, configFile: string, at: string): Promise<Rate & { peakMB: number }> {
  sink.reset();
  const t0 = Date.now();
  // BENCH_NODE_ARGS: node flags for the measured process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes.
  const run = spawnCrier(['run', 'council-bench', '--config', configFile, '--at', at, '--wait', '--timeout', '7200'], {}, (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const done = await Promise.race([sink.expect(N), run.exited.then((e) => Promise.reject(new Error(`crier run exited (${e.code}) before the sink had ${N} messages: ${e.stderr}`)))]);
  const exit = await run.exited;
  if (exit.code !== 0) throw new Error(`crier run --wait exited ${exit.code}: ${exit.stderr}`);
  if (!done.distinct) throw new Error('the sink saw a recipient twice');
  return { rate: N / ((done.at - t0) / 1000), cpuPerMessage: exit.cpuMs / N, peakMB: exit.peakMB };
}

/** K `crier start` workers, then `crier run` (no --wait) starts the run. */
async function crierWorkers(sink: Sink, configFile: string, k: number, at: string): Promise<number> {
  sink.reset();
  const workers = Array.from({ length: k }, () => spawnCrier(['start', '--config', configFile]));
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    for (let i = 0; ; i++) {
      const n = await client.query(`SELECT count(*)::int AS n FROM ${NAME}.workers WHERE stopped_at IS NULL`).then((r) => r.rows[0].n as number, () => 0);
      if (n >= k) break;
      if (i > 600) throw new Error(`only ${n} of ${k} workers registered`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now();
    const run = spawnCrier(['run', 'council-bench', '--config', configFile, '--at', at]);
    const done = await sink.expect(N);
    await run.exited;
    if (!done.distinct) throw new Error(`the sink saw a recipient twice (${k} workers): ${JSON.stringify(done)}`);
    return N / ((done.at - t0) / 1000);
  } finally {
    await client.end();
    for (const w of workers) w.child.kill('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.exited));
    if (process.env.BENCH_DEBUG) for (const e of exits) console.error(e.stderr);
  }
}

export default (async () => {
  ensureBuild();
  const sink = await startSink();
  try {
    await cleanSlate(NAME);
    const configFile = writeBenchConfig({ port: sink.port, recipients: N, name: NAME, connections: CONNECTIONS });
    const messageFile = await preparedMessage(configFile);
    // Side by side: the ceiling, Crier, the ceiling again (the machine's speed drifts).
    const ceiling1 = await bare(sink, messageFile);
    const one = await crierOneProcess(sink, configFile, '2026-01-05T09:00');
    const ceiling2 = await bare(sink, messageFile);
    const ceiling = (ceiling1.rate + ceiling2.rate) / 2;
    const bareCpu = (ceiling1.cpuPerMessage + ceiling2.cpuPerMessage) / 2;
    const curve: Array<[number, number]> = [];
    let day = 6;
    for (const k of WORKERS) curve.push([k, await crierWorkers(sink, configFile, k, `2026-01-${String(day++).padStart(2, '0')}T09:00`)]);
    const ratio = one.rate / ceiling;
    const base = curve[0]?.[1] ?? one.rate;
    const markdown = [
      `${N.toLocaleString('en')} recipients of the council update (14 projects, 4 locales), one SMTP sink process (smtp-server), ${CONNECTIONS} SMTP connections per process, \`crier.concurrency\` 5.`,
      '',
      '| sender | messages/s | of the ceiling | CPU per message |',
      '|---|---:|---:|---:|',
      `| bare nodemailer pool, same prepared message (before and after Crier) | ${ceiling1.rate.toFixed(0)} / ${ceiling2.rate.toFixed(0)} | 1.00 | ${bareCpu.toFixed(1)} ms |`,
      `| \`crier run --wait\`, one process (start-up, fan-out, every send; peak RSS ${one.peakMB.toFixed(0)} MB) | ${one.rate.toFixed(0)} | ${ratio.toFixed(2)} | ${one.cpuPerMessage.toFixed(1)} ms |`,
      ...curve.map(([k, r]) => `| ${k} × \`crier start\` + \`crier run\` | ${r.toFixed(0)} | ${(r / ceiling).toFixed(2)} (×${(r / base).toFixed(2)} of 1 worker) | |`),
    ].join('\n');
    return { title: 'Send path, end to end', markdown, verdict: `one process reaches ${ratio.toFixed(2)} of the bare pool (target ≥ 0.8): ${ratio >= 0.8 ? 'met' : 'not met'}` };
  } finally {
    sink.close();
  }
}) satisfies Bench;
