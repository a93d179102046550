import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConfig } from '../src/db.ts';
import { hashPassword } from '../src/http/admin/passwords.ts';
import { dropRedisPrefix, PG_URL, REDIS_URL, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';
import { openProfile } from './helpers/browser.ts';
import { adminClient } from './helpers/admin-client.ts';

/*
 * The web endpoint of `crier start --configs DIR` as an IT department running many tenants in
 * one container meets it: /readyz names the tenant whose platform schema is missing, and is
 * ready once it is there; the dashboard lists every tenant (a refused one with its error), and
 * each tenant's pages and buttons act on that tenant only: a run of one is not found at
 * another's address. The real command, Postgres, Redis and Chromium.
 */

const BIN = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
const name = uniqueName('mtadm');
const hostOf = (id: string) => `${name.replace(/_/g, '-')}-${id}.crier.test`;
const PASSWORD = 'correct horse battery staple';
const zone = 'Europe/Brussels';

let platforms: Awaited<ReturnType<typeof createTenant>>[] = [];
let dir: string;
let outbox: string;
let base: string;
let child: ChildProcess | undefined;
let exited: Promise<number | null>;
let stderr = '';
let ledger: pg.Client;
let browser: Awaited<ReturnType<typeof openProfile>> | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const tenantFile = (id: string, mayor: string, extra: Record<string, unknown> = {}) =>
  stringify({
    platform: { tenant: hostOf(id) },
    mail: { from: `Participatie ${id} <participatie@${id}.example>` },
    audiences: { council: [{ name: `Mayor of ${id}`, email: mayor, locale: 'nl-BE' }] },
    schedules: { council: { job: 'council-update', audience: 'council', dates: ['2027-01-04 09:00', '2027-04-05 09:00'], timezone: zone } },
    ...extra,
  });

beforeAll(async () => {
  // Gent is named by its platform, Leuven by its config; Ghost's platform schema is made later.
  platforms = [await createTenant(hostOf('gent'), { organization_name: { en: 'City of Ghent', 'nl-BE': 'Stad Gent' } }), await createTenant(hostOf('leuven'))];
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'crier-tenants-admin-'));
  outbox = path.join(dir, 'outbox');
  const defaults = stringify({
    platform: { kind: 'govocal', database: PG_URL, launch: '2025-08-04' },
    crier: { database: PG_URL, schema: name, redis: REDIS_URL, prefix: name, retry: { attempts: 3, backoff: 'PT0.2S' } },
    mail: { from: 'Crier <crier@example.org>', transport: 'outbox', outbox },
    http: { host: '127.0.0.1', port, admin: { users: { ops: await hashPassword(PASSWORD), browser: await hashPassword(PASSWORD) }, sessionSecrets: ['a-session-secret-for-the-test-0123456789'] } },
  });
  writeFileSync(path.join(dir, 'defaults.yaml'), defaults);
  writeFileSync(path.join(dir, 'gent.yaml'), tenantFile('gent', 'mayor@gent.example'));
  writeFileSync(path.join(dir, 'leuven.yaml'), tenantFile('leuven', 'mayor@leuven.example', { organization: { name: 'Leuven Beslist Mee' } }));
  writeFileSync(path.join(dir, 'ghost.yaml'), tenantFile('ghost', 'mayor@ghost.example'));
  // A typo in the job kind: refused at start, listed with its error.
  writeFileSync(path.join(dir, 'broken.yaml'), 'platform:\n  tenant: broken.crier.test\nschedules:\n  weekly:\n    job: council-updat\n    cron: "0 9 * * 1"\n');

  ledger = new pg.Client(pgConfig(PG_URL));
  await ledger.connect();
  child = spawn(process.execPath, [BIN, 'start', '--configs', dir], { env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  exited = new Promise((resolve) => child!.on('exit', (code) => resolve(code)));
  // expect.poll is for tests only.
  for (let waited = 0; !/"msg":"crier started"/.test(stderr); waited += 100) {
    if (waited > 30_000 || child.exitCode !== null) throw new Error(`crier start did not start:\n${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const started = /"msg":"crier started"/.test(stderr);
    child.kill('SIGTERM');
    // Stopped once started, it records what is left and exits 0.
    if (started) expect(await exited, stderr.slice(-2000)).toBe(0);
  }
  for (const id of ['gent', 'leuven', 'ghost']) await ledger?.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(`${name}_${id}`)} CASCADE`);
  await ledger?.end();
  for (const p of platforms) await p.drop();
  await dropRedisPrefix(name);
  rmSync(dir, { recursive: true, force: true });
});

/** A run's status in a tenant's own ledger. */
const runStatus = async (tenant: string, id: number) => (await ledger.query(`SELECT status FROM ${pg.escapeIdentifier(`${name}_${tenant}`)}.runs WHERE id = $1`, [id])).rows[0]?.status as string | undefined;

/** A browser-like client of plain HTTP (test/helpers/admin-client.ts). */
const client = () => adminClient(base);

/** One session of `ops` for the tests over plain HTTP (logins are rate-limited). */
let opsClient: ReturnType<typeof client> | undefined;
async function ops() {
  if (!opsClient) {
    opsClient = client();
    expect((await opsClient.login('ops', PASSWORD)).status).toBe(303);
  }
  return opsClient;
}

interface Ready {
  ok: boolean;
  checks: { ledger: { ok: boolean }; redis: { ok: boolean }; tick: { ok: boolean }; platform: { ok: boolean; error?: string; tenants: number; failed: { tenant: string; error: string }[] } };
}
const readyz = async () => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Ready };
};

describe('/readyz of a deployment of many', () => {
  it('names a tenant whose platform schema is missing and stays ready for the others (the tenant runs; the tenant list says so too); the name goes once the schema is there', async () => {
    // A tenant whose platform does not answer at start does not stop the others: it is logged and runs.
    expect(stderr).toMatch(/"tenant":"ghost".*no schema.*"msg":"the tenant's platform does not answer; the tenant runs/);
    // The tick this process works fires once scheduled: wait until it is recorded.
    await expect.poll(async () => (await readyz()).body.checks.tick.ok, { timeout: 20_000, interval: 250 }).toBe(true);
    const down = await readyz();
    expect(down.status).toBe(200);
    expect(down.body.ok).toBe(true);
    expect(down.body.checks).toMatchObject({ ledger: { ok: true }, redis: { ok: true }, tick: { ok: true } });
    expect(down.body.checks.platform).toEqual({
      ok: true,
      error: 'the platform of 1 of 3 tenants does not answer: ghost',
      tenants: 3,
      failed: [{ tenant: 'ghost', error: expect.stringContaining(`no schema '${hostOf('ghost').replace(/\./g, '_')}'`) }],
    });

    // The dashboard's tenant list says the same.
    const c = await ops();
    const list = await (await c.get('/admin')).text();
    expect(list).toMatch(new RegExp(`>ghost</a>.*platform: the platform database has no schema &#39;${hostOf('ghost').replace(/\./g, '_')}&#39;`));

    platforms.push(await createTenant(hostOf('ghost')));
    const up = await readyz();
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body).toMatchObject({ ok: true, checks: { platform: { ok: true, tenants: 3, failed: [] } } });
  });
});

describe('the dashboard of a deployment of many, over plain HTTP', () => {
  it("each tenant's buttons and pages act on that tenant only: another tenant's run is not found there", async () => {
    const c = await ops();
    const press = async (tenant: string, at: string) => {
      const page = await (await c.get(`/admin/t/${tenant}`)).text();
      const res = await c.post(`/admin/t/${tenant}/schedules/council/run`, { _csrf: c.token(page), at });
      expect(res.status).toBe(303);
      return res.headers.get('location');
    };
    // Gent gets two runs, Leuven one: each ledger numbers its own runs.
    expect(await press('gent', '2027-01-04T09:00')).toBe('/admin/t/gent/runs/1?done=created');
    expect(await press('gent', '2027-04-05T09:00')).toBe('/admin/t/gent/runs/2?done=created');
    expect(await press('leuven', '2027-01-04T09:00')).toBe('/admin/t/leuven/runs/1?done=created');
    // The shared workers send each from its own tenant's ledger.
    for (const [tenant, id] of [['gent', 1], ['gent', 2], ['leuven', 1]] as const) await expect.poll(() => runStatus(tenant, id), { timeout: 20_000, interval: 200 }).toBe('done');

    const gentRun = await c.get('/admin/t/gent/runs/2');
    expect(gentRun.status).toBe(200);
    expect(await gentRun.text()).toContain('mayor@gent.example');
    const leuvenRun = await (await c.get('/admin/t/leuven/runs/1')).text();
    expect(leuvenRun).toContain('mayor@leuven.example');
    expect(leuvenRun).not.toContain('mayor@gent.example');
    // Gent's run 2, its delivery, its e-mail and its button at Leuven's address: not found, nothing done.
    expect((await c.get('/admin/t/leuven/runs/2')).status).toBe(404);
    const gentDelivery = (await ledger.query(`SELECT id FROM ${pg.escapeIdentifier(`${name}_gent`)}.deliveries WHERE run_id = 2`)).rows[0].id as number;
    expect((await c.get(`/admin/t/gent/runs/2/deliveries/${gentDelivery}/email.html`)).status).toBe(200);
    expect((await c.get(`/admin/t/leuven/runs/2/deliveries/${gentDelivery}/email.html`)).status).toBe(404);
    expect((await c.post('/admin/t/leuven/runs/2/retry', { _csrf: c.token(leuvenRun) })).status).toBe(404);
    // A tenant that does not run has no pages; who is not logged in cannot tell which do.
    expect((await c.get('/admin/t/broken/runs')).status).toBe(404);
    const nowhere = await c.get('/admin/t/gent/nowhere');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.text()).toContain('There is no such page.');
    for (const p of ['/admin/t/gent/runs', '/admin/t/nope/runs', '/admin/t/gent/nowhere']) expect((await fetch(base + p, { headers: { accept: 'text/html' }, redirect: 'manual' })).status).toBe(303);
    // The shared queues, once.
    const api = await c.get('/admin/queues/api/queues');
    expect(api.status).toBe(200);
    expect(((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(['deliveries', 'runs', 'tick']);
  });
});

describe('the dashboard of a deployment of many, in Chromium', () => {
  it('logs in once, lists every tenant (the refused one with its error), opens a tenant, its runs and a run; its run is not found at another tenant', async () => {
    browser = await openProfile('tenants-admin');
    const context = browser.context;
    const page = context.pages()[0] ?? (await context.newPage());

    await page.goto(`${base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByLabel('User name').fill('browser');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/admin');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Tenants');

    const row = (id: string) => page.getByRole('row').filter({ has: page.getByRole('cell', { name: id, exact: true }) });
    const rowText = async (id: string) => ((await row(id).textContent()) ?? '').replace(/\s+/g, ' ');
    expect(await page.getByRole('row').count()).toBe(5);
    expect(await rowText('gent')).toMatch(/City of Ghent\s?1\s?running/);
    expect(await rowText('leuven')).toMatch(/Leuven Beslist Mee\s?1\s?running/);
    expect(await rowText('ghost')).toContain('running');
    expect(await rowText('broken')).toMatch(/refused.*broken\.yaml: line 5, column 10, schedules\.weekly\.job: 'council-updat' is not a job kind/);
    expect(await row('broken').getByRole('link').count()).toBe(0);

    await row('gent').getByRole('link', { name: 'gent' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/t/gent');
    // The header names the tenant (with its config's organization.name, as a deployment of one's does).
    expect(await page.locator('header').getByRole('link', { name: 'gent', exact: true }).count()).toBe(1);
    // The commands a tenant's page names are that tenant's.
    expect(await page.locator('main').textContent()).toContain('crier run council --tenant gent');
    await page.locator('header').getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/t/gent/runs');
    await page.getByRole('link', { name: '#2', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/admin/t/gent/runs/2');
    const main = page.locator('main');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Run #2: council');
    expect(await main.textContent()).toContain('Mayor of gent <mayor@gent.example>');

    const elsewhere = await page.goto(`${base}/admin/t/leuven/runs/2`);
    expect(elsewhere?.status()).toBe(404);
    expect(await page.getByRole('alert').textContent()).toBe('There is no such run.');
    await page.getByRole('link', { name: 'Back to the dashboard' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/t/leuven');
  }, 30_000);
});
