import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { engineOf, transportOf } from '../src/cli/context.ts';
import { hashPassword } from '../src/http/admin/passwords.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { CrierQueues, startWorkers, type Workers } from '../src/queue/queues.ts';
import type { Transport } from '../src/delivery/transport.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { openProfile } from './helpers/browser.ts';
import { adminClient } from './helpers/admin-client.ts';

/*
 * The web endpoint of `crier start` as an operator and their monitoring meet it: /healthz,
 * /readyz and /metrics over plain HTTP, and the dashboard at /admin, logged in through its
 * form, in Chromium and by plain HTTP. Real Postgres, Redis and an SMTP server (in process);
 * a run is sent by the real `crier run`, one of its sends refused with a hostile SMTP reply,
 * and one recipient's name is markup: the dashboard shows both as text.
 */
const name = uniqueName('crier_admin');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const PASSWORD = 'correct horse battery staple';
const FILE_PASSWORD = 'another long passphrase';
const HOSTILE_NAME = '<img src=x onerror=alert(1)>Eve';
const HOSTILE_REPLY = '5.7.1 <script>alert("smtp")</script> refused by policy';
// The clock of this process's Crier (its tick and the dashboard), whatever the date the suite
// runs on: both council dates ahead, so the tick makes nothing due and the schedules page lists them.
const NOW = new Date('2026-12-01T09:00:00Z');

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let dir: string;
let configFile: string;
let crier: Crier;
let queues: CrierQueues;
let transport: Transport;
let workers: Workers;
let server: HttpServer;
let runId: number;
let browser: Awaited<ReturnType<typeof openProfile>> | undefined;

beforeAll(async () => {
  tenant = await createTenant(host);
  smtp = await startSmtpServer();
  dir = mkdtempSync(path.join(tmpdir(), 'crier-admin-'));
  // A second user from a users file, as `crier hash-password --user NAME` writes its lines.
  writeFileSync(path.join(dir, 'admins.txt'), `# dashboard users\nfile-user:${await hashPassword(FILE_PASSWORD)}\n`);
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      council: [
        { name: 'Mathias De Clercq', email: 'burgemeester@example.org', locale: 'nl-BE' },
        { name: 'Claire Dubois', email: 'claire@example.org', locale: 'fr-BE' },
        { name: HOSTILE_NAME, email: 'eve@example.org', locale: 'en' },
      ],
    },
    schedules: {
      'council-a': { job: 'council-update', audience: 'council', dates: ['2027-01-04 09:00', '2027-04-05 09:00'], timezone: zone },
    },
    // No unsubscribe secrets: the server runs for health, metrics and the dashboard alone.
    extra: {
      http: {
        port: 0,
        admin: {
          users: { ops: await hashPassword(PASSWORD), ratelimited: await hashPassword(PASSWORD), browser: await hashPassword(PASSWORD) },
          usersFile: path.join(dir, 'admins.txt'),
          sessionSecrets: ['a-session-secret-for-the-test-0123456789'],
        },
      },
    },
  });
  const jobs = await loadJobKinds();
  // The refused send below is logged as an error, as it should be; not into the test's output.
  crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }), now: () => NOW });
  await crier.ledger.migrate();
  queues = new CrierQueues(crier.config.crier, crier.ledger, crier.log);
  await queues.scheduleTick();
  transport = transportOf(crier);
  // This process is a worker too, as under `crier start`: the tick, and what the buttons queue.
  workers = startWorkers(engineOf(crier, transport), queues);
  server = await startHttpServer(crier, { host: '127.0.0.1', port: 0, queues });

  // A run sent by the real `crier run`, one send refused for good with a reply full of markup.
  smtp.failNext(550, HOSTILE_REPLY);
  const res = await cli(['run', 'council-a', '--at', '2027-01-04T09:00', '--wait', '--json', '--config', configFile]);
  expect(res.code, res.stderr).toBe(0);
  runId = JSON.parse(res.stdout).run.id;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await workers?.close(10_000);
  await queues?.close();
  await transport?.close();
  await crier?.close();
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
  rmSync(dir, { recursive: true, force: true });
});

const url = (p: string) => server.url + p;
const deliveries = async () => crier.ledger.deliveries(runId);
const failedOne = async () => (await deliveries()).find((d) => d.status === 'failed' || d.smtp_reply);

/** A browser-like client of plain HTTP (test/helpers/admin-client.ts). */
const client = () => adminClient(server.url);

/** One session of `ops` for the tests that only need to be logged in (logins are rate-limited). */
let opsClient: ReturnType<typeof client> | undefined;
async function ops() {
  if (!opsClient) {
    opsClient = client();
    expect((await opsClient.login('ops', PASSWORD)).status).toBe(303);
  }
  return opsClient;
}

describe('health and metrics', () => {
  it('/healthz answers while the process lives', async () => {
    const res = await fetch(url('/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('/readyz: ledger, Redis and the platform answer and the tick ran within two minutes', async () => {
    // The tick job this process works fires at once when scheduled: wait for it to be recorded.
    await expect.poll(async () => (await (await fetch(url('/readyz'))).json()).checks.tick.ok, { timeout: 20_000 }).toBe(true);
    const res = await fetch(url('/readyz'));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ ok: true, checks: { ledger: { ok: true }, redis: { ok: true }, platform: { ok: true }, tick: { ok: true } } });
    expect(Date.now() - Date.parse(body.checks.tick.lastAt)).toBeLessThan(120_000);
  });

  it('/readyz is 503 and names what is wrong when the platform does not answer', async () => {
    const broken = writeTestConfig({ tenant: 'no-such-tenant.crier.test', name, schedules: {}, extra: { http: { port: 0 } } });
    const jobs = await loadJobKinds();
    const other = new Crier(loadConfig(broken, { jobs }), jobs);
    const otherServer = await startHttpServer(other, { host: '127.0.0.1', port: 0, queues });
    try {
      const res = await fetch(`${otherServer.url}/readyz`);
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.ok).toBe(false);
      expect(body.checks.platform).toMatchObject({ ok: false, error: expect.stringContaining('no-such-tenant') });
      expect(body.checks.ledger.ok).toBe(true);
      // Without http.secrets nor http.admin there is no unsubscribe endpoint and no dashboard.
      expect((await fetch(`${otherServer.url}/admin/login`)).status).toBe(404);
    } finally {
      await otherServer.close();
      await other.close();
    }
  });

  it('/metrics: runs and deliveries by schedule, job kind and status, queue depth, tick lag, inbound messages by kind', async () => {
    await crier.ledger.pool.query(`INSERT INTO inbound_messages (dedupe_key, channel, raw, kind, processed_at) VALUES ('a', 'file', '\\x00', 'auto-reply', now()), ('b', 'file', '\\x00', 'auto-reply', now()), ('c', 'file', '\\x00', NULL, NULL)`);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const counts = await crier.ledger.deliveryCounts(runId);
    expect(counts).toMatchObject({ sent: 2, failed: 1 });
    expect(text).toContain('crier_runs{schedule="council-a",job="council-update",status="done"} 1');
    expect(text).toContain('crier_deliveries{schedule="council-a",job="council-update",status="sent"} 2');
    expect(text).toContain('crier_deliveries{schedule="council-a",job="council-update",status="failed"} 1');
    expect(text).toContain('crier_inbound_messages{kind="auto-reply"} 2');
    expect(text).toContain('crier_inbound_messages{kind="unprocessed"} 1');
    for (const queue of ['tick', 'runs', 'deliveries']) expect(text).toMatch(new RegExp(`crier_queue_jobs\\{queue="${queue}",state="waiting"\\} \\d+`));
    const lag = Number(/^crier_tick_lag_seconds (\S+)$/m.exec(text)?.[1]);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(120);
    expect(text).toContain('# TYPE crier_send_duration_seconds histogram');
  });
});

describe('the dashboard over plain HTTP', () => {
  it('asks for a login: pages redirect to it, anything else is 401', async () => {
    const page = await fetch(url(`/admin/runs/${runId}`), { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent(`/admin/runs/${runId}`)}`);
    expect((await fetch(url('/admin/queues/api/queues'), { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(url(`/admin/runs/${runId}/retry`), { method: 'POST', redirect: 'manual' })).status).toBe(401);
  });

  it('logs in a user of the users file; a wrong password is refused', async () => {
    const c = client();
    expect((await c.login('file-user', 'not the password at all')).status).toBe(401);
    const ok = await c.login('file-user', FILE_PASSWORD);
    expect(ok.status).toBe(303);
    const home = await c.get('/admin');
    expect(home.status).toBe(200);
    const html = await home.text();
    // Each schedule with its next occurrences in local time.
    expect(html).toContain('council-a');
    expect(html).toMatch(/Mon 5 Apr 2027 09:00 Europe\/Brussels/);
  });

  it('refuses a form posted without its CSRF token, and changes nothing', async () => {
    const c = await ops();
    const before = await failedOne();
    expect(before?.status).toBe('failed');
    const res = await c.post(`/admin/runs/${runId}/retry`, {});
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Form expired');
    const forged = await c.post(`/admin/runs/${runId}/retry`, { _csrf: 'forged-token' });
    expect(forged.status).toBe(403);
    expect((await failedOne())?.status).toBe('failed');
  });

  it('limits login attempts per address and user: the sixth in a minute is refused, even with the right password', async () => {
    const c = client();
    for (let i = 0; i < 5; i++) expect((await c.login('ratelimited', `wrong guess ${i}`)).status).toBe(401);
    const limited = await c.login('ratelimited', PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    // Another user from the same address is not locked out.
    expect((await client().login('file-user', FILE_PASSWORD)).status).toBe(303);
  });

  it('shows hostile data as text: a recipient named with markup, an SMTP reply with a script', async () => {
    const c = await ops();
    const html = await (await c.get(`/admin/runs/${runId}`)).text();
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;Eve');
    expect(html).not.toContain('<script>alert("smtp")</script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;smtp&quot;)&lt;/script&gt;');
  });

  it('the retry button does what `crier retry` does: the failed delivery is queued, sent, and the ledger says so', async () => {
    const c = await ops();
    const page = await (await c.get(`/admin/runs/${runId}`)).text();
    const failed = (await failedOne())!;
    const before = smtp.received.filter((m) => m.envelopeTo[0] === failed.email).length;
    const res = await c.post(`/admin/runs/${runId}/retry`, { _csrf: c.token(page) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/runs/${runId}?done=retried&n=1&kept=0`);
    await expect.poll(async () => (await deliveries()).find((d) => d.id === failed.id)?.status, { timeout: 30_000 }).toBe('sent');
    expect(smtp.received.filter((m) => m.envelopeTo[0] === failed.email)).toHaveLength(before + 1);
    expect((await crier.ledger.run(runId))?.status).toBe('done');
    const after = await (await c.get(res.headers.get('location')!)).text();
    expect(after).toContain('1 failed delivery(ies) are queued again.');
    // The send went through this process's worker: /metrics has its latency.
    expect(await (await fetch(url('/metrics'))).text()).toMatch(/^crier_send_duration_seconds_count\{outcome="ok"\} [1-9]/m);
  });

  it('the run button does what `crier run --at` does: one manual run of that occurrence, however often it is pressed', async () => {
    const c = await ops();
    const page = await (await c.get('/admin')).text();
    const press = () => c.post('/admin/schedules/council-a/run', { _csrf: c.token(page), at: '2027-04-05T09:00' });
    const first = await press();
    expect(first.status).toBe(303);
    const location = first.headers.get('location')!;
    expect(location).toMatch(/^\/admin\/runs\/\d+\?done=created$/);
    const id = Number(/runs\/(\d+)/.exec(location)![1]);
    const run = await crier.ledger.run(id);
    expect(run).toMatchObject({ schedule_id: 'council-a', origin: 'manual', occurrence: new Date('2027-04-05T07:00:00Z') });
    const again = await press();
    expect(again.headers.get('location')).toBe(`/admin/runs/${id}?done=exists`);
    await expect.poll(async () => (await crier.ledger.run(id))?.status, { timeout: 30_000 }).toBe('done');
    expect((await crier.ledger.deliveryCounts(id)).sent).toBe(3);
  });

  it("shows a delivery's e-mail exactly as the SMTP server received it", async () => {
    const c = await ops();
    const claire = (await deliveries()).find((d) => d.email === 'claire@example.org')!;
    const received = smtp.received.find((m) => m.envelopeTo[0] === 'claire@example.org')!;
    const res = await c.get(`/admin/runs/${runId}/deliveries/${claire.id}/email.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox;/);
    expect((await res.text()).trim()).toBe(received.parsed.html!.trim());
  });

  it('serves bull-board under the same login, its UI files included', async () => {
    const c = await ops();
    const board = await c.get('/admin/queues/');
    expect(board.status).toBe(200);
    const html = await board.text();
    // Its files are named relative to <base href="/admin/queues/">.
    expect(html).toContain('<base href="/admin/queues/" />');
    const asset = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset, html.slice(0, 2000)).toBeTruthy();
    const script = await c.get(`/admin/queues/${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const api = await c.get('/admin/queues/api/queues');
    expect(api.status).toBe(200);
    expect(((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(['deliveries', 'runs', 'tick']);
  });
});

describe('the dashboard in Chromium', () => {
  it('refuses a wrong password, logs in, opens a run, shows its deliveries and a sent e-mail', async () => {
    browser = await openProfile('admin');
    const context = browser.context;
    const page = context.pages()[0] ?? (await context.newPage());
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    await page.goto(url('/admin/runs'));
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByLabel('User name').fill('browser');
    await page.getByLabel('Password').fill('wrong password, twelve+');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong user name or password.');
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    await page.getByLabel('User name').fill('browser');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/runs');
    await page.getByRole('link', { name: `#${runId}` }).click();
    await page.waitForURL((u) => u.pathname === `/admin/runs/${runId}`);
    const main = page.locator('main');
    await expect.poll(() => main.textContent()).toContain('Mathias De Clercq <burgemeester@example.org>');
    const text = (await main.textContent())!;
    expect(text).toContain('claire@example.org');
    // The hostile name reads as typed, and nothing ran.
    expect(text).toContain(`${HOSTILE_NAME} <eve@example.org>`);
    expect(text).toContain(HOSTILE_REPLY);
    expect(await page.locator('main img').count()).toBe(0);

    const row = page.getByRole('row').filter({ hasText: 'claire@example.org' }).first();
    await row.getByRole('link', { name: 'as sent' }).click();
    await page.waitForURL((u) => /\/deliveries\/\d+$/.test(u.pathname));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail to claire@example.org');
    const subject = smtp.received.find((m) => m.envelopeTo[0] === 'claire@example.org')!.parsed.subject!;
    expect(await main.textContent()).toContain(subject);
    const frame = page.frameLocator('iframe');
    await expect.poll(() => frame.locator('html').getAttribute('lang')).toBe('fr-BE');
    expect(await frame.locator('body').textContent()).toContain('Claire');
    expect(dialogs).toEqual([]);
  }, 120_000);
});
