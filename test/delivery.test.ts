import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { startWorkers } from '../src/queue/queues.ts';
import { openEngine } from './helpers/worker.ts';
import { tick } from '../src/queue/tick.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * Delivery end to end on real services: the platform schema in Postgres, the ledger in
 * Postgres, BullMQ on Redis and an SMTP server (smtp-server) that records what it accepts.
 */
const name = uniqueName('crier_dlv');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

const COUNCIL = ['burgemeester@example.org', 'claire@example.org', 'anna@example.org'];

beforeAll(async () => {
  tenant = await createTenant(host);
  const user = await tenant.user({ first_name: 'Eva' });
  const project = await tenant.project({ 'nl-BE': 'Speelpleinen <script>alert("x")</script>', 'fr-BE': 'Plaines de jeux' }, 'published');
  await tenant.idea({ project_id: project, author_id: user, published_at: '2026-11-02 10:00:00', title_multiloc: { 'nl-BE': 'Meer groen' } });
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    schedules: {
      'council-quarterly': { job: 'council-update', audience: ['council', 'steering'], cron: '0 9 * 1,4,7,10 1#1', timezone: 'Europe/Brussels' },
      'council-twice': { job: 'council-update', audience: 'council', dates: ['2027-02-01 09:00'], timezone: 'Europe/Brussels' },
      'council-workers': { job: 'council-update', audience: 'council', dates: ['2027-03-01 09:00'], timezone: 'Europe/Brussels' },
      'council-retry': { job: 'council-update', audience: 'steering', dates: ['2027-03-02 09:00'], timezone: 'Europe/Brussels' },
      'council-permanent': { job: 'council-update', audience: 'steering', dates: ['2027-03-03 09:00'], timezone: 'Europe/Brussels' },
      'council-late': { job: 'council-update', audience: 'steering', dates: ['2027-05-01 09:00', '2027-05-03 09:00'], timezone: 'Europe/Brussels', catchUp: 'P2D' },
    },
  });
});

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

const receivedFor = (schedule: string) => smtp.received.filter((m) => m.parsed.headers.find((h) => h.key === 'x-crier-schedule')?.value === schedule);

async function openCrier(now?: Date): Promise<Crier> {
  const jobs = await loadJobKinds();
  const crier = new Crier(loadConfig(configFile, { jobs }), jobs, now ? { now: () => now } : {});
  await crier.ledger.migrate();
  return crier;
}

async function waitForRun(crier: Crier, scheduleId: string, occurrence: Date, status: string[] = ['done']) {
  for (let i = 0; i < 300; i++) {
    const run = await crier.ledger.runAt(scheduleId, occurrence);
    if (run && status.includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run of ${scheduleId} did not reach ${status.join('/')}`);
}

describe('delivery on real Redis, Postgres and SMTP', () => {
  it('`crier run --wait` sends one e-mail per recipient, and running the same occurrence again sends nothing new', async () => {
    const first = await cli(['run', 'council-quarterly', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', configFile]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.run).toMatchObject({ schedule: 'council-quarterly', occurrence: '2027-01-04T09:00:00.000+01:00', status: 'done', created: true, origin: 'manual' });
    // burgemeester@EXAMPLE.org in the steering audience is the same person: one e-mail.
    expect(out.deliveries).toMatchObject({ sent: 3, skipped: 0, failed: 0 });
    const got = receivedFor('council-quarterly');
    expect(got.map((m) => m.envelopeTo[0]).sort()).toEqual([...COUNCIL].sort());

    const nl = got.find((m) => m.envelopeTo[0] === 'burgemeester@example.org')!.parsed;
    expect(nl.subject?.replace(/\s/g, ' ')).toBe('Participatie in Q4 2026: 1 deelnemer');
    expect(nl.from?.address).toBe('participatie@example.org');
    expect(nl.messageId).toMatch(/^<crier\.\d+\.\d+@example\.org>$/);
    expect(nl.headers.find((h) => h.key === 'list-unsubscribe')?.value).toBe('<mailto:participatie@example.org?subject=Unsubscribe%20burgemeester%40example.org%20from%20council-quarterly>');
    expect(nl.headers.find((h) => h.key === 'auto-submitted')?.value).toBe('auto-generated');
    expect(nl.html).toContain('lang="nl-BE"');
    expect(nl.html).toContain('Speelpleinen &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(nl.html).not.toContain('<script>alert');
    expect(nl.text).toContain('Beste Mathias De Clercq,');
    const fr = got.find((m) => m.envelopeTo[0] === 'claire@example.org')!.parsed;
    expect(fr.subject?.replace(/\s/g, ' ')).toBe('Participation, T4 2026 : 1 participant');
    expect(fr.html).toContain('Plaines de jeux');

    const again = await cli(['run', 'council-quarterly', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', configFile]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ run: { id: out.run.id, created: false, status: 'done' }, deliveries: { sent: 3 } });
    expect(receivedFor('council-quarterly')).toHaveLength(3);
  });

  it('two `crier run` processes on the same occurrence at once deliver one e-mail per recipient', async () => {
    const args = ['run', 'council-twice', '--at', '2027-02-01T09:00', '--wait', '--json', '--config', configFile];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout).run.id).toBe(JSON.parse(b.stdout).run.id);
    expect([JSON.parse(a.stdout).run.created, JSON.parse(b.stdout).run.created].sort()).toEqual([false, true]);
    expect(receivedFor('council-twice').map((m) => m.envelopeTo[0]).sort()).toEqual([...COUNCIL].sort());
  });

  it('two workers ticking at the same moment create one run and deliver one e-mail per recipient', async () => {
    const due = new Date('2027-03-01T08:00:30Z'); // 30 s after 09:00 Brussels
    const [one, two] = [await openEngine(configFile, due), await openEngine(configFile, due)];
    const queues = [one.queues, two.queues];
    const workers = [startWorkers(one.engine, queues[0], { tick: false }), startWorkers(two.engine, queues[1], { tick: false })];
    try {
      const results = await Promise.all([tick(one.engine), tick(two.engine)]);
      const created = results.flatMap((r) => r.created).filter((r) => r.schedule_id === 'council-workers');
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ status: 'due', origin: 'schedule' });
      await Promise.all([queues[0].enqueueOpenWork(), queues[1].enqueueOpenWork()]);
      await waitForRun(one.crier, 'council-workers', new Date('2027-03-01T08:00:00Z'));
      expect(receivedFor('council-workers').map((m) => m.envelopeTo[0]).sort()).toEqual([...COUNCIL].sort());
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('retries a temporary SMTP failure, recording it, and sends once', async () => {
    smtp.failNext(451, 'greylisted, try again later');
    const res = await cli(['run', 'council-retry', '--at', '2027-03-02T09:00', '--wait', '--json', '--config', configFile]);
    expect(JSON.parse(res.stdout).deliveries).toMatchObject({ sent: 1, failed: 0 });
    expect(receivedFor('council-retry')).toHaveLength(1);
    const crier = await openCrier();
    try {
      const run = (await crier.ledger.runAt('council-retry', new Date('2027-03-02T08:00:00Z')))!;
      const [d] = await crier.ledger.deliveries(run.id);
      expect(d).toMatchObject({ status: 'sent', attempts: 2, email: 'burgemeester@example.org' });
    } finally {
      await crier.close();
    }
  });

  it('keeps a retry waiting its backoff in the ledger: its page queued again meanwhile sends nothing early', async () => {
    // A backoff long enough to see: the first retry comes 2–4 s after the failure.
    const slow = writeTestConfig({ tenant: host, name: `${name}_bk`, smtp: smtp.url, retry: { attempts: 3, backoff: 'PT4S' }, schedules: { 'council-backoff': { job: 'council-update', audience: 'council', dates: ['2027-03-04 09:00'], timezone: 'Europe/Brussels' } } });
    const { crier, engine, queues, close } = await openEngine(slow);
    const workers = startWorkers(engine, queues, { tick: false });
    try {
      smtp.failNext(451, 'greylisted, try again later');
      const res = await cli(['run', 'council-backoff', '--at', '2027-03-04T09:00', '--json', '--config', slow]);
      const runId = JSON.parse(res.stdout).run.id;
      let failedOne: { id: number; retry_at: Date } | undefined;
      for (let i = 0; i < 200 && !failedOne; i++) {
        await new Promise((r) => setTimeout(r, 50));
        failedOne = (await crier.ledger.pool.query(`SELECT id, retry_at FROM deliveries WHERE run_id = $1 AND retry_at IS NOT NULL`, [runId])).rows[0];
      }
      expect(failedOne, 'a delivery waiting for its retry').toBeDefined();
      const failedAt = Date.now();
      // What the tick does every minute (and a Redis rebuilt from the ledger): queue every pending page again.
      while (Date.now() < failedOne!.retry_at.getTime() - 500) {
        await queues.enqueueOpenWork();
        await queues.enqueueRunDeliveries(runId, true);
        await new Promise((r) => setTimeout(r, 200));
      }
      const [row] = (await crier.ledger.pool.query(`SELECT status, attempts, smtp_reply FROM deliveries WHERE id = $1`, [failedOne!.id])).rows;
      expect(row).toMatchObject({ status: 'pending', attempts: 1, smtp_reply: expect.stringMatching(/^451/) });
      expect(failedOne!.retry_at.getTime() - failedAt).toBeGreaterThan(1000);
      await waitForRun(crier, 'council-backoff', new Date('2027-03-04T08:00:00Z'));
      const sent = (await crier.ledger.deliveries(runId)).find((d) => d.id === failedOne!.id)!;
      expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
      expect(sent.sent_at!.getTime()).toBeGreaterThanOrEqual(failedOne!.retry_at.getTime() - 50);
      expect(receivedFor('council-backoff')).toHaveLength(3);
    } finally {
      await workers.close();
      await crier.ledger.pool.query(`DROP SCHEMA IF EXISTS ${name}_bk CASCADE`);
      await close();
      await dropRedisPrefix(`${name}_bk`);
    }
  });

  it('records a permanent SMTP failure as failed, never resends it, and shows it in `crier status`', async () => {
    smtp.failNext(550, '5.1.1 <burgemeester@example.org>: mailbox unavailable'); // the address does not exist
    const res = await cli(['run', 'council-permanent', '--at', '2027-03-03T09:00', '--wait', '--json', '--config', configFile]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ run: { status: 'done' }, deliveries: { sent: 0, failed: 1 } });
    await cli(['run', 'council-permanent', '--at', '2027-03-03T09:00', '--wait', '--json', '--config', configFile]);
    expect(receivedFor('council-permanent')).toHaveLength(0);
    const status = JSON.parse((await cli(['status', '--json', '--config', configFile])).stdout);
    expect(status.problems).toContainEqual(expect.objectContaining({ schedule: 'council-permanent', status: 'failed', attempts: 1, error: expect.stringMatching(/550.*mailbox unavailable/) }));
    // A 550 to the message is a hard bounce: the address is suppressed until a person lifts it.
    const listed = JSON.parse((await cli(['suppressions', '--json', '--config', configFile])).stdout);
    expect(listed.suppressions).toEqual([expect.objectContaining({ email: 'burgemeester@example.org', scope: 'all', reason: 'hard-bounce', detail: expect.stringMatching(/550.*mailbox unavailable/) })]);
    const lifted = await cli(['suppressions', 'remove', 'Burgemeester@example.org', '--json', '--config', configFile]);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(JSON.parse((await cli(['suppressions', '--json', '--config', configFile])).stdout).suppressions).toEqual([]);
  });

  it('sends an occurrence missed while nothing ran late within catchUp and records an older one as missed', async () => {
    // The worker last ticked on 30 April, then was down until 3 May 12:00 Brussels.
    const before = await openEngine(configFile, new Date('2027-04-30T08:00:00Z'));
    await tick(before.engine);
    await before.close();
    const after = await openEngine(configFile, new Date('2027-05-03T10:00:00Z'));
    const queues = after.queues;
    const workers = startWorkers(after.engine, queues, { tick: false });
    try {
      const { created } = await tick(after.engine);
      const late = created.filter((r) => r.schedule_id === 'council-late').map((r) => ({ occurrence: r.occurrence.toISOString(), status: r.status, origin: r.origin }));
      expect(late).toEqual([
        { occurrence: '2027-05-01T07:00:00.000Z', status: 'missed', origin: 'catch-up' }, // 2 days 3 hours late > P2D
        { occurrence: '2027-05-03T07:00:00.000Z', status: 'due', origin: 'catch-up' }, // 3 hours late
      ]);
      await queues.enqueueOpenWork();
      await waitForRun(after.crier, 'council-late', new Date('2027-05-03T07:00:00Z'));
      expect(receivedFor('council-late')).toHaveLength(1);
    } finally {
      await workers.close();
      await after.close();
    }
    const status = JSON.parse((await cli(['status', '--json', '--config', configFile])).stdout);
    expect(status.missed).toContainEqual(expect.objectContaining({ schedule: 'council-late', occurrence: '2027-05-01T07:00:00.000Z', status: 'missed' }));

    // The superadmin decides to send the missed one after all: `crier run` on it sends it, once.
    const revived = await cli(['run', 'council-late', '--at', '2027-05-01T09:00', '--wait', '--json', '--config', configFile]);
    expect(JSON.parse(revived.stdout)).toMatchObject({ run: { status: 'done', created: false }, deliveries: { sent: 1 } });
    expect(receivedFor('council-late')).toHaveLength(2);
  });

  it('when a worker dies holding deliveries: sends again what it never handed over, reports as unknown what it did', async () => {
    const { crier, engine, close } = await openEngine(configFile);
    try {
      const run = await crier.ledger.insertRun({ scheduleId: 'council-twice', key: 'manual-crash-test', occurrence: new Date('2027-06-01T07:00:00Z'), job: 'council-update', timezone: 'Europe/Brussels', origin: 'manual', status: 'due' });
      await crier.ledger.insertDeliveries(run.id, [
        { email: 'anna@example.org', name: 'Anna', locale: 'de-DE', status: 'pending' },
        { email: 'claire@example.org', name: 'Claire', locale: 'fr-BE', status: 'pending' },
      ]);
      const [anna, claire] = await crier.ledger.deliveries(run.id);
      // The worker that then "crashed": it had claimed both, and handed Claire's to the server.
      expect(await crier.ledger.claimDelivery(anna.id, 'dead-worker', 30)).toBeDefined();
      expect(await crier.ledger.claimDelivery(claire.id, 'dead-worker', 30)).toBeDefined();
      expect(await crier.ledger.markHanded(claire.id, 'dead-worker')).toBe(true);
      const { deliver } = await import('../src/delivery/send.ts');
      expect(await deliver(engine, { deliveryId: anna.id, runId: run.id })).toBe('not-claimed'); // held under a live lease
      // Its heartbeat stops: the lease runs out.
      await crier.ledger.pool.query(`UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE claimed_by = 'dead-worker'`);
      const status = JSON.parse((await cli(['status', '--json', '--config', configFile])).stdout);
      expect(status.problems).toContainEqual(expect.objectContaining({ delivery: claire.id, status: 'unknown', hint: expect.stringMatching(/may or may not have it.*crier retry \d+ --unknown/) }));
      // Never handed over: the server cannot have it, so it goes back to be sent (the kill -9
      // drill in reliability.test.ts follows such a row to the SMTP server).
      expect((await crier.ledger.deliveries(run.id)).find((d) => d.id === anna.id)).toMatchObject({ status: 'pending', last_error: expect.stringMatching(/before handing the message to the SMTP server; sent again/) });
      // Another worker takes it; the first one, had it only stalled, can no longer touch it.
      expect(await crier.ledger.claimDelivery(anna.id, 'live-worker', 30)).toBeDefined();
      expect(await crier.ledger.markHanded(anna.id, 'dead-worker')).toBe(false);
      await crier.ledger.markFailed(anna.id, 'a stale worker\'s error', 'dead-worker');
      await crier.ledger.markRetry(anna.id, 'a stale worker\'s error', 'dead-worker', null, 0);
      expect((await crier.ledger.deliveries(run.id)).find((d) => d.id === anna.id)).toMatchObject({ status: 'sending', claimed_by: 'live-worker' });
    } finally {
      await close();
    }
  });
});

describe('an SMTP server that takes the message and hangs up before answering', () => {
  it('records the delivery as unknown, reports it, and never sends it again', async () => {
    const net = await import('node:net');
    let bodies = 0;
    const dropper = net.createServer((sock) => {
      sock.write('220 dropper ESMTP\r\n');
      let inData = false;
      let buf = '';
      sock.on('data', (chunk) => {
        buf += chunk.toString();
        if (inData) {
          if (buf.includes('\r\n.\r\n')) {
            bodies++;
            sock.destroy(); // the body arrived; the answer never leaves
          }
          return;
        }
        const lines = buf.split('\r\n');
        buf = lines.pop()!;
        for (const line of lines) {
          if (/^(EHLO|HELO|MAIL|RCPT|RSET|NOOP)/i.test(line)) sock.write('250 ok\r\n');
          else if (/^DATA/i.test(line)) {
            inData = true;
            sock.write('354 go ahead\r\n');
          } else if (/^QUIT/i.test(line)) sock.end('221 bye\r\n');
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const port = (dropper.address() as import('node:net').AddressInfo).port;
    const dropName = uniqueName('crier_drop');
    const file = writeTestConfig({ tenant: host, name: dropName, smtp: `smtp://127.0.0.1:${port}`, schedules: { dropped: { job: 'council-update', audience: 'steering', dates: ['2027-07-01 09:00'], timezone: 'Europe/Brussels' } } });
    try {
      const first = await cli(['run', 'dropped', '--at', '2027-07-01T09:00', '--wait', '--json', '--config', file]);
      expect(first.code).toBe(1);
      // The run is done, with a problem; `crier run --wait` says so with exit 1.
      expect(JSON.parse(first.stdout)).toMatchObject({ run: { status: 'done' }, deliveries: { sent: 0, failed: 0, pending: 0, sending: 0, unknown: 1 } });
      const again = await cli(['run', 'dropped', '--at', '2027-07-01T09:00', '--wait', '--json', '--config', file]);
      expect(JSON.parse(again.stdout).deliveries).toMatchObject({ unknown: 1 });
      expect(bodies).toBe(1); // not resent
      const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout);
      expect(status.problems).toContainEqual(expect.objectContaining({ schedule: 'dropped', status: 'unknown', error: expect.stringMatching(/no answer after the message was handed over/) }));
    } finally {
      dropper.close();
      await dropRedisPrefix(dropName);
    }
  });
});

describe('`crier start` with the outbox transport', () => {
  it('ticks at start, writes the due e-mail into the outbox and stops cleanly on SIGTERM', async () => {
    const startName = uniqueName('crier_start');
    const soon = new Date(Date.now() - 60_000);
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Brussels', dateStyle: 'short', timeStyle: 'short' }).format(soon); // "YYYY-MM-DD HH:mm"
    const file = writeTestConfig({ tenant: host, name: startName, schedules: { 'council-now': { job: 'council-update', audience: 'council', dates: [local], timezone: 'Europe/Brussels' } } });
    const outbox = path.join(path.dirname(file), 'outbox');
    const bin = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'start', '--config', file], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c) => (log += c));
    try {
      for (let i = 0; i < 200 && !(existsSync(outbox) && readdirSync(outbox).filter((f) => f.endsWith('.eml')).length === 3); i++) await new Promise((r) => setTimeout(r, 100));
      const emls = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
      expect(emls).toHaveLength(3);
      expect(readdirSync(outbox).filter((f) => f.endsWith('.html'))).toHaveLength(3);
      const eml = readFileSync(path.join(outbox, emls.find((f) => f.includes('claire'))!), 'utf8');
      expect(eml).toMatch(/^To: Claire Dubois <claire@example.org>$/m);
      expect(eml).toMatch(/^Subject: /m);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(log).toMatch(/crier started/);
    expect(log).toMatch(/stopping/);
    await dropRedisPrefix(startName);
  }, 60_000);
});
