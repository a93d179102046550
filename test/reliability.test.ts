import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, SendError } from '../src/delivery/transport.ts';
import { startWorkers } from '../src/queue/queues.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startHangUpPeer, type HangUp } from './helpers/smtp-peer.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { openEngine } from './helpers/worker.ts';

/*
 * No e-mail lost to a crash: the transport knows where in the SMTP exchange a failure happened;
 * a worker killed with -9 mid-run loses nothing and duplicates nothing (what it had handed to
 * the server is "unknown", the rest is sent by the next process); a Redis that lost its data is
 * rebuilt from the ledger; SIGTERM is bounded and records what is left.
 */
const name = uniqueName('crier_rel');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const BIN = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
const PEOPLE = Array.from({ length: 30 }, (_, i) => ({ name: `Raadslid ${i + 1}`, email: `raadslid${String(i + 1).padStart(2, '0')}@example.org`, locale: 'nl-BE' }));
let tenant: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  tenant = await createTenant(host);
  const user = await tenant.user({ first_name: 'Eva' });
  const project = await tenant.project({ 'nl-BE': 'Speelpleinen' }, 'published');
  await tenant.idea({ project_id: project, author_id: user, published_at: '2026-11-02 10:00:00', title_multiloc: { 'nl-BE': 'Meer groen' } });
});

afterAll(async () => {
  await tenant?.drop();
  await dropRedisPrefix(name);
});

const message = { from: 'Crier <crier@example.org>', to: { name: 'A', address: 'a@example.org' }, subject: 'Test', text: 'Hello', html: '<p>Hello</p>', fileStem: 't' };

describe('the SMTP transport knows where a send failed', () => {
  it.each<[HangUp, { uncertain: boolean; permanent: boolean; stage: string; handed: boolean }]>([
    ['greeting', { uncertain: false, permanent: false, stage: 'connect', handed: false }],
    ['mail', { uncertain: false, permanent: false, stage: 'envelope', handed: false }],
    ['rcpt', { uncertain: false, permanent: false, stage: 'envelope', handed: false }],
    ['body', { uncertain: false, permanent: false, stage: 'data', handed: false }],
    ['dot-451', { uncertain: false, permanent: false, stage: 'dot', handed: true }],
    ['after-dot', { uncertain: true, permanent: false, stage: 'dot', handed: true }],
  ])('a peer that hangs up at %s', async (step, want) => {
    const peer = await startHangUpPeer(step);
    const transport = createTransport({ kind: 'smtp', outbox: '', smtp: peer.url, pool: { maxConnections: 1 } });
    let handedAt = 0;
    try {
      const error = await transport
        .send(message, {
          beforeHandOver: async () => {
            // The ledger's write takes a moment: the final dot must wait for it.
            await new Promise((r) => setTimeout(r, 150));
            handedAt = Date.now();
          },
        })
        .then(() => null, (e: SendError) => e);
      expect(error).toBeInstanceOf(SendError);
      expect({ uncertain: error!.uncertain, permanent: error!.permanent, stage: error!.stage, handed: handedAt > 0 }).toEqual(want);
      const dot = peer.events.find((e) => e.what === 'dot');
      // Only a message whose final dot reached the server can be "unknown", and the dot is sent
      // only once the hand-over is recorded.
      if (dot) expect(dot.at).toBeGreaterThanOrEqual(handedAt);
      else expect(want.uncertain).toBe(false);
    } finally {
      await transport.close();
      await peer.close();
    }
  });
});

describe('a worker killed with -9 in the middle of a run', () => {
  it('loses nothing and sends nothing twice: the next process sends the rest, what was handed over is unknown', async () => {
    const smtp = await startSmtpServer({ delayMs: 250 }); // a slow server: the kill lands mid-send
    const file = writeTestConfig({
      tenant: host,
      name: `${name}_kill`,
      smtp: smtp.url,
      audiences: { council: PEOPLE },
      schedules: { council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: 'Europe/Brussels' } },
      extra: {},
    });
    const withLease = (await import('node:fs')).readFileSync(file, 'utf8').replace(/^crier:\n/m, 'crier:\n  lease: PT3S\n  concurrency: 5\n');
    (await import('node:fs')).writeFileSync(file, withLease);
    try {
      const child = spawn(process.execPath, [BIN, 'run', 'council', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', file], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } });
      for (let i = 0; i < 300 && smtp.received.length < 8; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const atKill = smtp.received.length;
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(PEOPLE.length);
      // The next process: it waits for the dead worker's leases, then sends what was never handed over.
      const again = await cli(['run', 'council', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', file]);
      const out = JSON.parse(again.stdout);
      expect(out.run.status).toBe('done');
      const perAddress = new Map<string, number>();
      for (const m of smtp.received) perAddress.set(m.envelopeTo[0], (perAddress.get(m.envelopeTo[0]) ?? 0) + 1);
      expect([...perAddress.values()].filter((n) => n > 1)).toEqual([]); // no duplicate
      // Unknown only for what the killed process had handed over, at most one per connection.
      expect(out.deliveries.sent + out.deliveries.unknown).toBe(PEOPLE.length);
      expect(out.deliveries.unknown).toBeLessThanOrEqual(5);
      expect(again.code).toBe(out.deliveries.unknown > 0 ? 1 : 0);
      const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout);
      const unknown = status.problems.filter((p: { status: string }) => p.status === 'unknown');
      expect(unknown).toHaveLength(out.deliveries.unknown);
      // No loss: an address the server never got is one whose delivery is reported unknown (the
      // process died between recording the hand-over and the final dot), never one silently dropped.
      const missing = PEOPLE.map((p) => p.email).filter((e) => !perAddress.has(e));
      expect(missing.filter((e) => !unknown.some((u: { email: string }) => u.email === e))).toEqual([]);
      if (out.deliveries.unknown) {
        expect(unknown[0].hint).toMatch(/crier retry \d+ --unknown/);
        // A person decides they did not arrive: sent again, on purpose, and then every address has it.
        const retried = await cli(['retry', String(out.run.id), '--unknown', '--json', '--config', file]);
        expect(JSON.parse(retried.stdout).requeued).toHaveLength(out.deliveries.unknown);
        const last = await cli(['run', 'council', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', file]);
        expect(JSON.parse(last.stdout).deliveries).toMatchObject({ sent: PEOPLE.length, unknown: 0 });
        for (const m of smtp.received) perAddress.set(m.envelopeTo[0], (perAddress.get(m.envelopeTo[0]) ?? 0) + 1);
      }
      expect(PEOPLE.map((p) => p.email).filter((e) => !perAddress.has(e))).toEqual([]);
    } finally {
      await smtp.close();
      await dropRedisPrefix(`${name}_kill`);
    }
  }, 120_000);
});

describe('Redis that lost its data', () => {
  it('is rebuilt from the ledger by a running worker: the tick and the work that was queued', async () => {
    const smtp = await startSmtpServer();
    const prefix = `${name}_redis`;
    const file = writeTestConfig({ tenant: host, name: prefix, smtp: smtp.url, schedules: { council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: 'Europe/Brussels' } } });
    (await import('node:fs')).writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace(/^crier:\n/m, 'crier:\n  lease: PT1.5S\n'));
    // The worker's clock well before the schedule's date, whatever the date the suite runs on: its
    // tick makes nothing due itself (on the real clock, within two days after 4 January 2027 it
    // would, and the run below would be one it had queued, not one only the ledger knows).
    const { crier, engine, queues, close } = await openEngine(file, new Date('2026-12-01T09:00:00Z'));
    const workers = startWorkers(engine, queues);
    try {
      await queues.scheduleTick();
      expect(await queues.tick.getJobScheduler('tick')).toBeDefined();
      await dropRedisPrefix(prefix); // Redis restarted empty, or flushed
      // A run comes due while the queues are gone: only the ledger knows it.
      const run = await crier.ledger.insertRun({ scheduleId: 'council', key: '2027-01-04T08:00:00.000Z', occurrence: new Date('2027-01-04T08:00:00Z'), job: 'council-update', timezone: 'Europe/Brussels', origin: 'manual', status: 'due' });
      expect(run.created).toBe(true);
      // Both come back: the run (a tick under way at the flush may queue it before the heartbeat
      // notices Redis lost its data) and the tick's own schedule (the heartbeat's rebuild).
      for (let i = 0; i < 100; i++) {
        if ((await crier.ledger.run(run.id))?.status === 'done' && (await queues.tick.getJobScheduler('tick'))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await queues.tick.getJobScheduler('tick')).toBeDefined();
      expect((await crier.ledger.run(run.id))?.status).toBe('done');
      expect(smtp.received.map((m) => m.envelopeTo[0]).sort()).toEqual(['anna@example.org', 'burgemeester@example.org', 'claire@example.org']);
    } finally {
      await workers.close(2000);
      await close();
      await smtp.close();
      await dropRedisPrefix(prefix);
    }
  }, 60_000);
});

describe('SIGTERM with a slow SMTP server', () => {
  it('stops within shutdownTimeout and leaves nothing claimed: each delivery is sent, pending again, or unknown', async () => {
    const smtp = await startSmtpServer({ delayMs: 5000 });
    const prefix = `${name}_term`;
    const file = writeTestConfig({ tenant: host, name: prefix, smtp: smtp.url, audiences: { council: PEOPLE.slice(0, 10) }, schedules: { council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: 'Europe/Brussels' } } });
    (await import('node:fs')).writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace(/^crier:\n/m, 'crier:\n  shutdownTimeout: PT2S\n'));
    let cleanup = () => undefined as unknown;
    try {
      const child = spawn(process.execPath, [BIN, 'start', '--config', file], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } });
      cleanup = () => child.kill('SIGKILL');
      // The worker is up once it has registered; then a run is queued for it (not waited for here).
      const probe = await openEngine(file);
      try {
        for (let i = 0; i < 200; i++) {
          const { rows } = await probe.crier.ledger.pool.query(`SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL`);
          if (rows[0].n > 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect((await cli(['run', 'council', '--at', '2027-01-04T09:00', '--json', '--config', file])).code).toBe(0);
        for (let i = 0; i < 300 && smtp.received.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
        const { rows } = await probe.crier.ledger.pool.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'sending'`);
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await probe.close();
      }
      const stopped = Date.now();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(Date.now() - stopped).toBeLessThan(2000 + 2500);
      const after = await openEngine(file);
      try {
        const { rows } = await after.crier.ledger.pool.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`);
        const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
        expect(by.sending ?? 0).toBe(0);
        expect((by.unknown ?? 0) + (by.pending ?? 0) + (by.sent ?? 0)).toBe(10);
        expect(by.unknown ?? 0).toBeGreaterThan(0); // the server had them and had not answered
      } finally {
        await after.close();
      }
    } finally {
      cleanup(); // a failed assertion must not leave a worker running
      await smtp.close();
      await dropRedisPrefix(prefix);
    }
  }, 60_000);
});
