import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOf, transportOf } from '../src/cli/context.ts';
import { loadConfig } from '../src/config/load.ts';
import { createTransport, SendError } from '../src/delivery/transport.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { DailyCap } from '../src/queue/daily-cap.ts';
import { CrierQueues, startWorkers } from '../src/queue/queues.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { startRelay } from './helpers/relay.ts';
import { dropRedisPrefix, PG_URL, REDIS_URL, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';
import { Redis } from 'ioredis';
import PostalMime from 'postal-mime';

/*
 * Delivery a city's relay trusts, against a real SMTP server (smtp-server) that answers 4xx and
 * 5xx, drops connections, stalls, requires AUTH or offers TLS with a certificate Crier does not
 * trust; Crier's ledger in Postgres and BullMQ in Redis, real worker processes where the issue
 * says "across processes".
 */
const BIN = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
const name = uniqueName('crier_mta');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const people = (...locals: string[]) => locals.map((l) => ({ name: `Person ${l}`, email: `${l}@city.example`, locale: 'en' }));

beforeAll(async () => {
  tenant = await createTenant(host);
  const user = await tenant.user({ first_name: 'Eva' });
  const project = await tenant.project({ en: 'Playgrounds' }, 'published');
  await tenant.idea({ project_id: project, author_id: user, published_at: '2027-02-10 10:00:00', title_multiloc: { en: 'More trees' } });
}, 60_000);

afterAll(async () => {
  await tenant?.drop();
});

/** A Crier of one config, with its log lines kept. */
async function openLogged(file: string) {
  const lines: { msg: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const jobs = await loadJobKinds();
  const crier = new Crier(loadConfig(file, { jobs }), jobs, { logger: pino({ level: 'info' }, sink) });
  await crier.ledger.migrate();
  const transport = transportOf(crier);
  const queues = new CrierQueues(crier.config.crier, crier.ledger, crier.log, Boolean(crier.config.mail.rateLimit));
  const workers = startWorkers(engineOf(crier, transport), queues, { tick: false });
  return {
    crier,
    lines,
    async close() {
      await workers.close(5000);
      await queues.close();
      await transport.close();
      await crier.close();
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byEmail = async (crier: Crier, runId: number) => Object.fromEntries((await crier.ledger.deliveries(runId)).map((d) => [d.email.split('@')[0], d]));

describe('every SMTP outcome in its class', () => {
  const prefix = `${name}_cls`;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let file: string;
  beforeAll(async () => {
    relay = await startRelay();
    relay.misbehave('greylist@city.example', { at: 'rcpt', reply: '451 4.7.1 Greylisted, try again in a minute', times: 1 });
    relay.misbehave('gone@city.example', { at: 'rcpt', reply: '550 5.1.1 <gone@city.example>: Recipient address rejected: User unknown' });
    relay.misbehave('spam@city.example', { at: 'data', reply: '554 5.7.1 Message rejected as spam by content filter' });
    // A relay's own rule, answered at RCPT: about the relay, not the address.
    relay.misbehave('denied@city.example', { at: 'rcpt', reply: '554 5.7.1 <denied@city.example>: Relay access denied' });
    relay.misbehave('drop@city.example', { at: 'rcpt', drop: true, times: 1 });
    relay.misbehave('stall@city.example', { at: 'rcpt', stall: true, times: 1 });
    file = writeTestConfig({
      tenant: host,
      name: prefix,
      smtp: relay.url,
      retry: { attempts: 3, backoff: 'PT0.2S' },
      audiences: { city: people('ok1', 'greylist', 'gone', 'spam', 'denied', 'drop', 'stall', 'ok2') },
      schedules: { classes: { job: 'council-update', audience: 'city', dates: ['2027-03-01 09:00', '2027-03-02 09:00'], timezone: 'Europe/Brussels' } },
      extra: { mail: { from: 'Participatie <participatie@city.example>', transport: 'smtp', smtp: relay.url, pool: { maxConnections: 3, timeout: 'PT1S' } } },
    });
  });
  afterAll(async () => {
    await relay.close();
    await dropRedisPrefix(prefix);
  });

  it('retries what is temporary, fails what is permanent with the server’s words, and suppresses only addresses that do not exist', async () => {
    const res = await cli(['run', 'classes', '--at', '2027-03-01T09:00', '--wait', '--json', '--config', file]);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.deliveries).toMatchObject({ sent: 5, failed: 3, pending: 0, sending: 0, unknown: 0 });
    const crier = new Crier(loadConfig(file, { jobs: await loadJobKinds() }), await loadJobKinds());
    try {
      const d = await byEmail(crier, out.run.id);
      // Temporary: a 451, a connection dropped at RCPT, a server that stalled past the timeout.
      for (const k of ['greylist', 'drop', 'stall']) expect(d[k], k).toMatchObject({ status: 'sent', attempts: 2 });
      expect(d.greylist.smtp_reply).toMatch(/^451 4\.7\.1 Greylisted/);
      for (const k of ['ok1', 'ok2']) expect(d[k]).toMatchObject({ status: 'sent', attempts: 1 });
      // Permanent: failed at once, never retried, the reply kept.
      expect(d.gone).toMatchObject({ status: 'failed', attempts: 1 });
      expect(d.gone.smtp_reply).toMatch(/^550 5\.1\.1 <gone@city\.example>: Recipient address rejected/);
      expect(d.spam).toMatchObject({ status: 'failed', attempts: 1 });
      expect(d.spam.smtp_reply).toMatch(/^554 5\.7\.1 Message rejected as spam/);
      expect(d.denied).toMatchObject({ status: 'failed', attempts: 1 });
      expect(d.denied.smtp_reply).toMatch(/^554 5\.7\.1 <denied@city\.example>: Relay access denied/);
      // A mailbox that does not exist is a hard bounce; a content rejection says nothing about the address.
      expect((await crier.ledger.suppressions()).map((s) => ({ email: s.email, scope: s.scope, reason: s.reason }))).toEqual([{ email: 'gone@city.example', scope: 'all', reason: 'hard-bounce' }]);
    } finally {
      await crier.close();
    }
    for (const k of ['ok1', 'ok2', 'greylist', 'drop', 'stall']) expect(relay.to(`${k}@city.example`), k).toHaveLength(1);
    expect(relay.to('gone@city.example')).toHaveLength(0);
    // What the superadmin sees: the server's own words.
    const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout);
    expect(status.problems).toContainEqual(expect.objectContaining({ email: 'gone@city.example', status: 'failed', reply: expect.stringMatching(/^550 5\.1\.1/) }));
    expect(status.suppressed).toBe(1);
  });

  it('skips the hard-bounced address on the next run, with the reason, until a person lifts it', async () => {
    const res = await cli(['run', 'classes', '--at', '2027-03-02T09:00', '--wait', '--json', '--config', file]);
    const out = JSON.parse(res.stdout);
    expect(out.deliveries).toMatchObject({ sent: 5, skipped: 1, failed: 2 }); // spam@ and denied@ are still refused: not suppressed, tried again
    const crier = new Crier(loadConfig(file, { jobs: await loadJobKinds() }), await loadJobKinds());
    try {
      const d = await byEmail(crier, out.run.id);
      expect(d.gone.status).toBe('skipped');
      expect(d.gone.reason).toMatch(/^address refused by the mail server \(hard bounce\) on \d{4}-\d{2}-\d{2}: 550 5\.1\.1 .*`crier suppressions remove gone@city\.example` lifts it$/);
    } finally {
      await crier.close();
    }
    expect(relay.to('gone@city.example')).toHaveLength(0);
    expect((await cli(['suppressions', '--config', file])).stdout).toMatch(/^gone@city\.example\s+every e-mail\s+hard-bounce on /m);
  });
});

describe('a relay that refuses Crier itself', () => {
  const prefix = `${name}_auth`;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let file: string;
  beforeAll(async () => {
    relay = await startRelay({ auth: { user: 'crier@city.example', pass: 's3cret p@ss' } });
    file = writeTestConfig({
      tenant: host,
      name: prefix,
      smtp: relay.url,
      // The probe comes every backoff: short here.
      retry: { attempts: 2, backoff: 'PT0.4S' },
      audiences: { city: people('a1', 'a2', 'a3', 'a4', 'a5', 'a6') },
      schedules: { weekly: { job: 'council-update', audience: 'city', dates: ['2027-03-08 09:00'], timezone: 'Europe/Brussels' } },
    });
  });
  afterAll(async () => {
    await relay.close();
    await dropRedisPrefix(prefix);
  });

  it('pauses every delivery on a refused login, says so once, burns none, and resumes when a probe gets through', async () => {
    relay.state.refuseLogins = true;
    const worker = await openLogged(file);
    try {
      const res = await cli(['run', 'weekly', '--at', '2027-03-08T09:00', '--json', '--config', file]);
      const runId = JSON.parse(res.stdout).run.id;
      // Long enough for several probes, each refused.
      await until('a few refused logins', async () => relay.logins.refused >= 3);
      await new Promise((r) => setTimeout(r, 600));
      let d = await worker.crier.ledger.deliveries(runId);
      // Nothing sent, nothing failed: each delivery tried waits again, its attempt not counted
      // (one may be a probe under way at this very moment).
      expect(d.filter((x) => x.status !== 'sending').map((x) => `${x.status} ${x.attempts}`)).toEqual(Array(d.filter((x) => x.status !== 'sending').length).fill('pending 0'));
      expect(d.filter((x) => x.status === 'sending').length).toBeLessThanOrEqual(2);
      expect(d.filter((x) => x.last_error).map((x) => x.last_error)).toContainEqual(expect.stringMatching(/^waiting: the SMTP server refused Crier's login \(SMTP 535/));
      // Not burned one by one: far fewer tries than deliveries × attempts.
      const refusedWhilePaused = relay.logins.refused;
      expect(refusedWhilePaused).toBeLessThan(12);
      relay.state.refuseLogins = false;
      await until('the run to finish', async () => (await worker.crier.ledger.run(runId))?.status === 'done');
      d = await worker.crier.ledger.deliveries(runId);
      expect(d.map((x) => `${x.status} ${x.attempts}`)).toEqual(Array(6).fill('sent 1'));
      expect(relay.accepted).toHaveLength(6);
      const said = (re: RegExp) => worker.lines.filter((l) => re.test(l.msg)).length;
      expect(said(/^sending paused: the SMTP server refused Crier's login/)).toBe(1);
      expect(said(/^sending resumed/)).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it('treats a refused sender address (5xx to MAIL FROM, pipelined) as a pause, not as failed deliveries or bad addresses', async () => {
    const strict = await startRelay();
    strict.refuseSender('550 5.7.60 SMTP; Client does not have permissions to send as this sender');
    const transport = createTransport({ kind: 'smtp', outbox: '', smtp: strict.url, pool: { maxConnections: 1, timeout: 'PT5S' } });
    try {
      const error = await transport.send({ from: 'participatie@city.example', to: { name: 'X', address: 'x@city.example' }, subject: 'hi', text: 'hi', fileStem: 'x' }).then(
        () => null,
        (e: SendError) => e,
      );
      expect(error).toMatchObject({ failure: 'paused', hardBounce: false, responseCode: 550 });
      expect(error!.message).toMatch(/^the SMTP server refuses Crier's sender address \(SMTP 550/);
    } finally {
      await transport.close();
      await strict.close();
    }
  });

  it('treats a certificate it cannot trust as a pause, not as a failed delivery', async () => {
    const tls = await startRelay({ starttls: true });
    const transport = createTransport({ kind: 'smtp', outbox: '', smtp: tls.url, pool: { maxConnections: 1, timeout: 'PT5S' } });
    try {
      const error = await transport.send({ from: 'participatie@city.example', to: { name: 'X', address: 'x@city.example' }, subject: 'hi', text: 'hi', fileStem: 'x' }).then(
        () => null,
        (e: SendError) => e,
      );
      expect(error).toBeInstanceOf(SendError);
      expect(error).toMatchObject({ failure: 'paused' });
      expect(error!.message).toMatch(/^TLS with the SMTP server failed \(.*certificate/); // smtp-server's own certificate is self-signed and expired
      expect(tls.accepted).toHaveLength(0);
    } finally {
      await transport.close();
      await tls.close();
    }
  });
});

describe('a run with too many permanent failures', () => {
  const prefix = `${name}_pause`;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let file: string;
  // Sent in address order: p0, p1, then p2 fails, …
  const audience = people('p0', 'p1', 'p2-bad', 'p3', 'p4-bad', 'p5-bad', 'p6', 'p7', 'p8', 'p9');
  beforeAll(async () => {
    relay = await startRelay();
    for (const bad of ['p2-bad', 'p4-bad', 'p5-bad']) relay.misbehave(`${bad}@city.example`, { at: 'data', reply: '554 5.7.1 Sender address rejected: not permitted for this list' });
    file = writeTestConfig({
      tenant: host,
      name: prefix,
      smtp: relay.url,
      audiences: { city: audience },
      schedules: { monthly: { job: 'council-update', audience: 'city', dates: ['2027-03-15 09:00'], timezone: 'Europe/Brussels' } },
      extra: {
        crier: { database: PG_URL, schema: prefix, redis: REDIS_URL, prefix, concurrency: 1, retry: { attempts: 2, backoff: 'PT0.2S' } },
        mail: { from: 'Participatie <participatie@city.example>', transport: 'smtp', smtp: relay.url, pauseAt: { ratio: 0.2, after: 5 } },
        operator: { name: 'Sam Superadmin', email: 'superadmin@city.example', locale: 'nl-BE' },
      },
    });
  });
  afterAll(async () => {
    await relay.close();
    await dropRedisPrefix(prefix);
  });

  it('pauses itself, tells the superadmin once, resumes on `crier resume`, and `crier retry` sends the failed ones', async () => {
    // One worker, one delivery at a time (the run's own): the order of sends is the audience's.
    const res = await cli(['run', 'monthly', '--at', '2027-03-15T09:00', '--wait', '--json', '--config', file]);
    const worker = await openLogged(file);
    try {
      // --wait stops at the pause, and says so with its exit code.
      const out = JSON.parse(res.stdout);
      expect({ code: res.code, status: out.run.status, deliveries: out.deliveries }).toMatchObject({ code: 1, status: 'paused' });
      const runId = out.run.id;
      expect(out.run.status).toBe('paused');
      expect(out.run.error).toMatch(/^paused: 2 of 5 sends failed permanently \(mail\.pauseAt 20%\); crier resume \d+ continues it$/);
      expect(out.deliveries).toMatchObject({ sent: 3, failed: 2, pending: 5 });
      // One e-mail to the superadmin, in their language, with the server's words and what to type.
      const notices = relay.to('superadmin@city.example');
      expect(notices).toHaveLength(1);
      const notice = await PostalMime.parse(notices[0].raw);
      expect(notice.subject).toBe(`Crier heeft run ${runId} (monthly) gepauzeerd: 2 van 5 verzendingen definitief mislukt`);
      expect(notice.text).toContain('- p2-bad@city.example: 554 5.7.1 Sender address rejected: not permitted for this list');
      expect(notice.text).toContain(`  crier resume ${runId}\n`);
      const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout);
      expect(status.paused).toEqual([expect.objectContaining({ run: runId, schedule: 'monthly', resume: `crier resume ${runId}` })]);
      // Nothing moves while paused, even with a worker running.
      await new Promise((r) => setTimeout(r, 800));
      expect((await worker.crier.ledger.deliveryCounts(runId)).pending).toBe(5);

      const resumed = await cli(['resume', String(runId), '--json', '--config', file]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout).requeued).toHaveLength(5);
      await until('the resumed run to finish', async () => (await worker.crier.ledger.run(runId))?.status === 'done');
      // p5 failed after the resume: one of one is not "after at least 5", so no second pause.
      expect(await worker.crier.ledger.deliveryCounts(runId)).toMatchObject({ sent: 7, failed: 3, pending: 0 });
      expect(relay.to('superadmin@city.example')).toHaveLength(1);

      // The sender is allowed now: the failed ones go again (5.7.1 said nothing about the addresses).
      for (const bad of ['p2-bad', 'p4-bad', 'p5-bad']) relay.forgive(`${bad}@city.example`);
      const retried = await cli(['retry', String(runId), '--json', '--config', file]);
      expect(JSON.parse(retried.stdout)).toMatchObject({ run: runId, suppressed: [] });
      expect(JSON.parse(retried.stdout).requeued).toHaveLength(3);
      await until('the retried run to finish', async () => (await worker.crier.ledger.run(runId))?.status === 'done' && (await worker.crier.ledger.deliveryCounts(runId)).sent === 10);
      for (const p of audience) expect(relay.to(p.email), p.email).toHaveLength(1);
      expect(await cli(['resume', String(runId), '--config', file])).toMatchObject({ code: 1, stderr: expect.stringMatching(/run \d+ is done, not paused/) });
    } finally {
      await worker.close();
    }
  });
});

describe('limits that hold across worker processes', () => {
  const prefix = `${name}_lim`;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let file: string;
  const children: ChildProcess[] = [];
  const audience = people(...Array.from({ length: 24 }, (_, i) => `r${String(i).padStart(2, '0')}`));
  beforeAll(async () => {
    relay = await startRelay();
    // Due a minute ago, so each `crier start` finds it at its first tick.
    const due = DateTime.now().setZone('Europe/Brussels').minus({ minutes: 1 }).toFormat('yyyy-MM-dd HH:mm');
    file = writeTestConfig({
      tenant: host,
      name: prefix,
      smtp: relay.url,
      audiences: { city: audience },
      schedules: { now: { job: 'council-update', audience: 'city', dates: [due], timezone: 'Europe/Brussels', catchUp: 'PT1H' } },
      extra: { mail: { from: 'Participatie <participatie@city.example>', transport: 'smtp', smtp: relay.url, rateLimit: { max: 4, per: 'PT1S' }, dailyCap: 15 } },
    });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await relay.close();
    await dropRedisPrefix(prefix);
  });

  it('sends at most mail.rateLimit and mail.dailyCap with three `crier start` processes, and keeps the rest waiting, not failed', async () => {
    for (let i = 0; i < 3; i++) children.push(spawn(process.execPath, [BIN, 'start', '--config', file], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } }));
    await until('the daily cap to be used up', async () => relay.accepted.length >= 15, 40_000);
    // Give the other processes every chance to go over either limit.
    await new Promise((r) => setTimeout(r, 2500));
    expect(relay.accepted).toHaveLength(15);
    const jobs = await loadJobKinds();
    const crier = new Crier(loadConfig(file, { jobs }), jobs);
    try {
      // The limiter governs when deliveries are taken, which the ledger records as they are claimed
      // (when they reach the server also depends on each process's first render, slow on a busy machine).
      const claimed = await crier.ledger.pool.query(`SELECT claimed_at FROM deliveries WHERE status = 'sent' ORDER BY claimed_at`);
      const times = claimed.rows.map((r) => (r.claimed_at as Date).getTime());
      expect(times).toHaveLength(15);
      // 4 a second: 15 deliveries are taken in at least four one-second windows, so the first and the last are over 2 s apart.
      expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(1900);
      // Nine in a row span three windows, wherever the second starts: over a second apart.
      for (let i = 0; i + 8 < times.length; i++) expect(times[i + 8] - times[i]).toBeGreaterThanOrEqual(900);
      const { rows } = await crier.ledger.pool.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`);
      const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      // The rest waits for tomorrow: pending, untried, not failed.
      expect(counts).toEqual({ sent: 15, pending: 9 });
      const untried = await crier.ledger.pool.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending' AND attempts = 0`);
      expect(untried.rows[0].n).toBe(9);
      const alive = await crier.ledger.pool.query(`SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL`);
      expect(alive.rows[0].n).toBe(3);
    } finally {
      await crier.close();
    }
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  });

  it('counts the cap per local day: tomorrow has a fresh allowance', async () => {
    const redis = new Redis(REDIS_URL);
    let clock = new Date('2027-03-15T22:59:00Z'); // 23:59 in Brussels
    const cap = new DailyCap(redis, `${prefix}_day`, 2, () => clock);
    try {
      expect(await cap.take('Europe/Brussels')).toBeNull();
      expect(await cap.take('Europe/Brussels')).toBeNull();
      // Full: wait until local midnight, a minute away.
      expect(await cap.take('Europe/Brussels')).toBe(60_000);
      expect(await cap.used('Europe/Brussels')).toBe(2);
      clock = new Date('2027-03-15T23:00:30Z'); // 00:00:30 the next day in Brussels
      expect(await cap.take('Europe/Brussels')).toBeNull();
      expect(await cap.used('Europe/Brussels')).toBe(1);
    } finally {
      await dropRedisPrefix(`${prefix}_day`);
      redis.disconnect();
    }
  });
});

