/*
 * `npm run drill` (`-- --long` for the long drills): fault drills against private services this
 * script starts itself — its own Redis and its own Postgres cluster on spare ports, and an SMTP
 * sink (smtp-server) that answers slowly so that faults land mid-send. Each drill sends one run
 * to N recipients while something goes wrong, lets Crier recover, then counts every message at
 * the sink against the ledger and prints one JSON line:
 *   {"drill","recipients","sent","unknown","duplicates","lost","faults","seconds"}
 * A lost e-mail is a recipient who has nothing at the sink and whom the ledger does not flag;
 * a duplicate one with two. Unknown deliveries (handed to the server, no answer before the
 * fault) are allowed, at most one per connection per fault: flagged for a person, at the sink
 * or not (`unknownNotAtSink`: a crash between recording the hand-over and the dot leaving, the
 * over-approximation RELIABILITY.md names). RELIABILITY.md keeps the table.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { stringify } from 'yaml';
import { createDemoTenant } from '../src/demo/demo-tenant.ts';

const LONG = process.argv.includes('--long');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/crier.js');
const CONNECTIONS = 5;
const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups.reverse()) f();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** A private Redis on a spare port, nothing kept on disk (as the machine's). */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.add(redis);
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
      return redis;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('private Redis did not start');
}

/** A private Postgres cluster (initdb as the postgres user, since root may not run it) on a spare port. */
async function startPostgres(): Promise<{ url: string; restart(): void }> {
  const bin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | tail -n 1']).toString().trim();
  const dir = mkdtempSync(path.join(tmpdir(), 'crier-drill-pg-'));
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asPostgres = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  execFileSync('mkdir', ['-p', data]);
  chownSync(data, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  asPostgres([`${bin}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres']);
  // The socket and the log live in the data folder, the one place the postgres user may write.
  const ctl = (action: string) => asPostgres([`${bin}/pg_ctl`, '-D', data, '-o', `-p ${port} -k ${data} -c listen_addresses=127.0.0.1`, '-w', '-l', path.join(data, 'server.log'), action]);
  ctl('start');
  cleanups.push(() => {
    try {
      ctl('stop');
    } catch {
      /* already down */
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, restart: () => ctl('restart') };
}

/** The sink: every message it gets, by recipient; it answers each after `delayMs`. */
async function startSink(delayMs: number) {
  const got = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) got.set(r.address, (got.get(r.address) ?? 0) + 1);
        setTimeout(() => callback(), delayMs);
      });
    },
  });
  // A Crier process killed mid-session resets its connection: that is the drill, not a sink failure
  // (unhandled, smtp-server's 'error' event would end this process).
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, got, close: () => server.close() };
}

interface Env {
  pgUrl: string;
  redisPort: number;
  tenant: string;
}

function writeConfig(env: Env, name: string, smtp: string, recipients: number, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crier-drill-'));
  const file = path.join(dir, 'crier.yaml');
  const people = Array.from({ length: recipients }, (_, i) => ({ name: `Resident ${i}`, email: `r${i}@drill.example`, locale: 'nl-BE' }));
  writeFileSync(
    file,
    stringify({
      platform: { kind: 'govocal', database: env.pgUrl, tenant: env.tenant },
      crier: { database: env.pgUrl, schema: name, redis: `redis://127.0.0.1:${env.redisPort}`, prefix: name, concurrency: CONNECTIONS, lease: 'PT3S', shutdownTimeout: 'PT3S', retry: { attempts: 10, backoff: 'PT0.5S' }, ...extra },
      mail: { from: 'Drill <drill@example.org>', transport: 'smtp', smtp, pool: { maxConnections: CONNECTIONS } },
      audiences: { all: people },
      schedules: { drill: { job: 'council-update', audience: ['all'], dates: ['2027-01-04 09:00'], timezone: 'Europe/Brussels' } },
    }),
  );
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return file;
}

const crier = (args: string[], file: string) => {
  const child = spawn(process.execPath, [BIN, ...args, '--config', file], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'fatal' } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};
// A child killed by a signal has no exit code, only a signal code: either means it is gone.
const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', r)));

/** Counts the ledger and the sink after a drill and prints its line. */
async function report(drill: string, env: Env, name: string, sink: Awaited<ReturnType<typeof startSink>>, recipients: number, faults: number, started: number) {
  const client = new pg.Client({ connectionString: env.pgUrl });
  await client.connect();
  const rows = (await client.query(`SELECT status, count(*)::int AS n FROM ${name}.deliveries GROUP BY status`)).rows;
  const flagged = new Set((await client.query(`SELECT email FROM ${name}.deliveries WHERE status = 'unknown'`)).rows.map((r) => r.email as string));
  await client.end();
  const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const line = {
    drill,
    recipients,
    sent: by.sent ?? 0,
    unknown: by.unknown ?? 0,
    open: (by.pending ?? 0) + (by.sending ?? 0),
    duplicates: [...sink.got.values()].filter((n) => n > 1).length,
    lost: Array.from({ length: recipients }, (_, i) => `r${i}@drill.example`).filter((a) => !sink.got.has(a) && !flagged.has(a)).length,
    unknownNotAtSink: [...flagged].filter((a) => !sink.got.has(a)).length,
    faults,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  console.log(JSON.stringify(line));
  return line;
}

/** Waits until the run is done (every delivery sent or unknown), at most `ms`. */
async function settled(env: Env, name: string, ms: number): Promise<void> {
  const client = new pg.Client({ connectionString: env.pgUrl });
  await client.connect();
  try {
    for (const until = Date.now() + ms; Date.now() < until; ) {
      const r = (await client.query(`SELECT count(*)::int AS n FROM ${name}.runs WHERE status = 'done'`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0];
      if (r.n > 0) return;
      await sleep(250);
    }
  } finally {
    await client.end();
  }
}

async function killDrill(env: Env, recipients: number, kills: number) {
  const name = `drill_kill_${Date.now()}`;
  const sink = await startSink(40);
  const file = writeConfig(env, name, sink.url, recipients);
  const started = Date.now();
  for (let k = 0; k < kills; k++) {
    const child = crier(['run', 'drill', '--at', '2027-01-04T09:00', '--wait'], file);
    await sleep(800 + Math.random() * 1500);
    child.kill('SIGKILL');
    await exited(child);
  }
  await exited(crier(['run', 'drill', '--at', '2027-01-04T09:00', '--wait'], file));
  sink.close();
  return report(`kill -9 × ${kills} during the run`, env, name, sink, recipients, kills, started);
}

async function startedWorkers(env: Env, file: string, n: number) {
  const workers = Array.from({ length: n }, () => crier(['start'], file));
  await sleep(2500);
  return workers;
}

/**
 * The shape of every drill but the kill drill: `workers` running `crier start`, a run queued
 * for them, `fault` done to them or their services mid-run, then time to recover, and the count.
 */
async function duringRun(env: Env, o: { label: string; tag: string; recipients: number; workers: number; delayMs: number; fault: (workers: ChildProcess[]) => Promise<void> | void; restart?: boolean }) {
  const name = `drill_${o.tag}_${Date.now()}`;
  const sink = await startSink(o.delayMs);
  const file = writeConfig(env, name, sink.url, o.recipients);
  const started = Date.now();
  let workers = await startedWorkers(env, file, o.workers);
  await exited(crier(['run', 'drill', '--at', '2027-01-04T09:00'], file));
  await sleep(1500);
  await o.fault(workers);
  if (o.restart) {
    await Promise.all(workers.map(exited));
    workers = await startedWorkers(env, file, o.workers);
  }
  await settled(env, name, 180_000);
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map(exited));
  sink.close();
  return report(o.label, env, name, sink, o.recipients, 1, started);
}

const redisDrill = (env: Env, recipients: number, how: 'flush' | 'kill', redis: { proc: ChildProcess }) =>
  duringRun(env, {
    label: how === 'flush' ? 'Redis flushed during the run' : 'Redis killed and restarted empty',
    tag: `redis_${how}`,
    recipients,
    workers: 1,
    delayMs: 40,
    async fault() {
      if (how === 'flush') return void execFileSync('redis-cli', ['-p', String(env.redisPort), 'flushall'], { stdio: 'ignore' });
      redis.proc.kill('SIGKILL');
      await exited(redis.proc);
      redis.proc = await startRedis(env.redisPort); // back, empty
    },
  });

const replicasDrill = (env: Env, recipients: number) =>
  duringRun(env, { label: 'three replicas, one killed with -9', tag: 'replicas', recipients, workers: 3, delayMs: 40, fault: (workers) => void workers[0].kill('SIGKILL') });

// A slow server: SIGTERM finds sends in flight; then a new worker finishes the run.
const sigtermDrill = (env: Env, recipients: number) =>
  duringRun(env, { label: 'SIGTERM with a slow SMTP server, then a restart', tag: 'term', recipients, workers: 1, delayMs: 2000, restart: true, fault: (workers) => void workers[0].kill('SIGTERM') });

const postgresDrill = (env: Env, recipients: number, restart: () => void) =>
  duringRun(env, { label: 'Postgres restarted during the run', tag: 'pg', recipients, workers: 1, delayMs: 40, fault: restart });

const postgres = await startPostgres();
const redisPort = await freePort();
const redis = { proc: await startRedis(redisPort) };
const tenant = 'drill.crier.local';
await createDemoTenant({ databaseUrl: postgres.url, host: tenant, users: 200 });
const env: Env = { pgUrl: postgres.url, redisPort, tenant };
const n = LONG ? 2000 : 150;
const lines = [
  await killDrill(env, n, LONG ? 10 : 2),
  await redisDrill(env, n, 'flush', redis),
  await redisDrill(env, n, 'kill', redis),
  ...(LONG ? [await postgresDrill(env, n, postgres.restart), await replicasDrill(env, n), await sigtermDrill(env, Math.min(n, 200))] : [await sigtermDrill(env, 30)]),
];
const bad = lines.filter((l) => l.duplicates || l.lost || l.open || l.unknown > CONNECTIONS * l.faults);
if (bad.length) console.error(`drills failed: ${bad.map((b) => b.drill).join('; ')}`);
process.exit(bad.length ? 1 : 0);
