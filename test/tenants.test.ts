import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTenantDir, loadTenantFile, type TenantConfig } from '../src/config/tenants.ts';
import { pgConfig } from '../src/db.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier } from './helpers/cli.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { unsubscribeUrl } from '../src/delivery/unsubscribe.ts';
import { startHttpServer } from '../src/http/server.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { dropRedisPrefix, PG_URL, REDIS_URL, uniqueName } from './helpers/services.ts';

/*
 * Many tenants, one deployment (`crier start --configs DIR`): a defaults.yaml and one file per
 * tenant, each tenant with its own platform schema, ledger schema, sender and suppressions, one
 * broken tenant refused with its file and line while the others run.
 */

const BIN = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
const name = uniqueName('mt');
const hosts = { gent: `${name.replace('_', '-')}-gent.crier.local`, leuven: `${name.replace('_', '-')}-leuven.crier.local` };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A configs folder: defaults.yaml with the shared keys, then the tenants' files. */
function writeDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crier-tenants-'));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

const tenantFile = (host: string, from: string, mayor: string) =>
  stringify({
    platform: { tenant: host, demo: true },
    mail: { from },
    audiences: { council: [{ name: 'Mayor', email: mayor, locale: 'nl-BE' }] },
    // One quarter's update, on a date already past: the workers' tick (on the real clock, looking
    // back catchUp, two days) never makes it due, whatever the date the suite runs on; only the
    // superadmin's `crier run` below does. (A quarterly cron would come due at start for two days
    // after each quarter's first Monday, and send a second e-mail.)
    schedules: { 'council-quarterly': { job: 'council-update', audience: 'council', dates: ['2026-10-05 09:00'], timezone: 'Europe/Brussels' } },
  });

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let port: number;
let dir: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  port = await freePort();
  const defaults = stringify({
    platform: { kind: 'govocal', database: PG_URL, launch: '2025-08-04' },
    crier: { database: PG_URL, schema: name, redis: REDIS_URL, prefix: name, retry: { attempts: 3, backoff: 'PT0.2S' } },
    mail: { from: 'Crier <crier@example.org>', transport: 'smtp', smtp: smtp.url },
    http: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}`, secrets: ['a shared link secret for tests 0123'] },
  });
  dir = writeDir({
    'defaults.yaml': `# shared by every tenant\n${defaults}`,
    'gent.yaml': tenantFile(hosts.gent, 'Participatie Gent <participatie@gent.example>', 'mayor@gent.example'),
    'leuven.yaml': tenantFile(hosts.leuven, 'Leuven Beslist Mee <mee@leuven.example>', 'mayor@leuven.example'),
    // A typo in the job kind: this tenant is refused, the others run.
    'broken.yaml': 'platform:\n  tenant: broken.crier.local\nschedules:\n  weekly:\n    job: council-updat\n    cron: "0 9 * * 1"\n',
  });
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  for (const schema of [`${name}_gent`, `${name}_leuven`, hosts.gent.replace(/[.-]/g, '_'), hosts.leuven.replace(/[.-]/g, '_')]) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.end();
  await dropRedisPrefix(name);
});

describe('tenant configs', () => {
  it('merges each tenant over the defaults: its own ledger schema, sender and unsubscribe path; a broken one refused with its file and line', async () => {
    const tenants = loadTenantDir(dir, { jobs: await loadJobKinds() });
    const byId = Object.fromEntries(tenants.map((t) => [t.id, t])) as Record<string, TenantConfig>;
    expect(Object.keys(byId).sort()).toEqual(['broken', 'gent', 'leuven']);
    expect(byId.gent.config!.crier.schema).toBe(`${name}_gent`);
    expect(byId.gent.config!.crier.redis).toBe(REDIS_URL);
    expect(byId.gent.config!.mail).toMatchObject({ from: 'Participatie Gent <participatie@gent.example>', smtp: smtp.url });
    expect(byId.leuven.config!.http!.publicUrl).toBe(`http://127.0.0.1:${port}/t/leuven`);
    expect(byId.broken.error!.issues).toEqual([expect.objectContaining({ file: expect.stringMatching(/broken\.yaml$/), line: 5, column: 10, path: 'schedules.weekly.job', message: expect.stringContaining("'council-updat' is not a job kind") })]);
  });

  it("names the defaults file and line for a shared value's mistake, and refuses a shared key in a tenant's file", async () => {
    const bad = writeDir({
      'defaults.yaml': 'platform:\n  kind: govocal\n  database: postgres://x/y\ncrier:\n  database: postgres://x/y\n  redis: redis://x\n  concurency: 5\nmail:\n  from: a <a@b.example>\nschedules: {}\n',
      'gent.yaml': 'platform:\n  tenant: gent.example\ncrier:\n  schema: crier_stad_gent\n  redis: redis://elsewhere\n',
      'leuven.yaml': 'platform:\n  tenant: leuven.example\n',
    });
    const tenants = loadTenantDir(bad, { jobs: await loadJobKinds() });
    const gent = tenants.find((t) => t.id === 'gent')!;
    // Its own schema is its own to choose; Redis is the deployment's.
    expect(gent.error!.issues).toEqual([expect.objectContaining({ file: expect.stringMatching(/gent\.yaml$/), line: 5, path: 'crier.redis', message: expect.stringContaining('set it in the defaults') })]);
    const leuven = tenants.find((t) => t.id === 'leuven')!;
    expect(leuven.error!.issues).toEqual([expect.objectContaining({ file: expect.stringMatching(/defaults\.yaml$/), line: 7, column: 3, path: 'crier.concurency', message: expect.stringContaining("unknown key 'concurency'") })]);
  });

  it('refuses a tenant naming another’s ledger schema, naming the other, which keeps running', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'crier-tenants-same-')), 'crier.yaml');
    writeFileSync(file, `platform:\n  kind: govocal\n  database: ${PG_URL}\ncrier:\n  database: ${PG_URL}\n  redis: ${REDIS_URL}\nmail:\n  from: Crier <crier@example.org>\nschedules: {}\ntenants:\n  gent:\n    platform: { tenant: gent.example }\n  leuven:\n    platform: { tenant: leuven.example }\n    crier: { schema: crier_gent }\n  brugge:\n    platform: { tenant: brugge.example }\n`);
    const tenants = loadTenantFile(file, { jobs: await loadJobKinds() })!;
    expect(tenants.map((t) => [t.id, t.config?.crier.schema ?? null])).toEqual([['gent', 'crier_gent'], ['leuven', null], ['brugge', 'crier_brugge']]);
    expect(tenants[1].error!.issues).toEqual([expect.objectContaining({ path: 'crier.schema', message: expect.stringMatching(/^the ledger schema 'crier_gent' is also gent's \(.*crier\.yaml\): each tenant needs its own/) })]);
  });

  it('loads the shipped example, config/many: two tenants, each its own ledger schema and sender', async () => {
    const tenants = loadTenantDir(path.resolve('config/many'), { jobs: await loadJobKinds(), env: {} });
    expect(tenants.map((t) => [t.id, t.error?.message ?? null, t.config?.crier.schema, t.config?.mail.from])).toEqual([
      ['gent', null, 'crier_gent', 'Participatie Gent <participatie@gent.crier.local>'],
      ['leuven', null, 'crier_leuven', 'Leuven Beslist Mee <mee@leuven.crier.local>'],
    ]);
  });

  it('reads the same from one file with tenants:', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'crier-tenants-file-')), 'crier.yaml');
    writeFileSync(file, `platform:\n  kind: govocal\n  database: ${PG_URL}\ncrier:\n  database: ${PG_URL}\n  redis: ${REDIS_URL}\nmail:\n  from: Crier <crier@example.org>\nschedules: {}\ntenants:\n  gent:\n    platform: { tenant: gent.example }\n  leuven:\n    platform: { tenant: leuven.example }\n    schedules:\n      weekly: { job: council-update, crom: "0 9 * * 1" }\n`);
    const tenants = loadTenantFile(file, { jobs: await loadJobKinds() })!;
    expect(tenants.map((t) => [t.id, t.config?.crier.schema ?? null])).toEqual([['gent', 'crier_gent'], ['leuven', null]]);
    expect(tenants[1].error!.issues).toEqual([expect.objectContaining({ line: 16, path: 'schedules.weekly.crom' })]);
  });

  it('`crier check --configs DIR` checks every tenant and exits 2 naming the refused one', async () => {
    const out = await crier(['check', '--configs', dir, '--json']);
    expect(out.code, out.stderr).toBe(2);
    const report = JSON.parse(out.stdout) as { ok: boolean; tenants: { tenant: string; ok: boolean; schedules?: { id: string }[]; errors?: { line: number }[] }[] };
    expect(report.ok).toBe(false);
    expect(report.tenants.map((t) => [t.tenant, t.ok])).toEqual([['broken', false], ['gent', true], ['leuven', true]]);
    expect(report.tenants[1].schedules!.map((s) => s.id)).toEqual(['council-quarterly']);
  }, 120_000);
});

describe('`crier start --configs DIR`', () => {
  it("runs every good tenant apart: each one's e-mail from its sender, in its ledger; unsubscribe stays in its tenant", async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--configs', dir], { env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const ledger = new pg.Client(pgConfig(PG_URL));
    await ledger.connect();
    try {
      await expect.poll(() => /"msg":"crier started"/.test(stderr), { timeout: 90_000, interval: 250 }).toBe(true);
      // The broken tenant is named with its file and line; the others started.
      expect(stderr).toMatch(/"tenant":"broken".*broken\.yaml: line 5, column 10, schedules\.weekly\.job: 'council-updat' is not a job kind.*"msg":"tenant refused/);
      expect(stderr).toMatch(/"tenants":2,"refused":1/);

      // A superadmin makes each tenant's occurrence due; the running worker sends both.
      for (const tenant of ['gent', 'leuven']) {
        const run = await crier(['run', 'council-quarterly', '--at', '2026-10-05T09:00', '--configs', dir, '--tenant', tenant, '--json']);
        expect(run.code, run.stderr).toBe(0);
      }
      await expect.poll(() => smtp.received.length, { timeout: 90_000, interval: 250 }).toBe(2);
      const to = (who: string) => smtp.received.find((m) => m.envelopeTo.includes(who))!;
      expect(to('mayor@gent.example').parsed.from).toMatchObject({ address: 'participatie@gent.example' });
      expect(to('mayor@leuven.example').parsed.from).toMatchObject({ address: 'mee@leuven.example' });
      // Each tenant's e-mail reads its own platform: the demo tenants are two schemas.
      expect(to('mayor@gent.example').parsed.html).toContain(hosts.gent);
      expect(to('mayor@leuven.example').parsed.html).toContain(hosts.leuven);

      const sent = async (tenant: string) => (await ledger.query(`SELECT email FROM ${pg.escapeIdentifier(`${name}_${tenant}`)}.deliveries WHERE status = 'sent'`)).rows.map((r) => r.email);
      expect(await sent('gent')).toEqual(['mayor@gent.example']);
      expect(await sent('leuven')).toEqual(['mayor@leuven.example']);
      const status = await crier(['status', '--configs', dir, '--tenant', 'gent', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as { deliveries: Record<string, number> }).deliveries.sent).toBe(1);

      // Leuven's one-click link works at Leuven's address only: the secret is shared, the tenant is in the token.
      const link = /<(http:\/\/[^>]+\/t\/leuven\/u\/[^>]+)>/.exec(to('mayor@leuven.example').parsed.headers.find((h) => h.key === 'list-unsubscribe')!.value)![1];
      const atGent = await fetch(link.replace('/t/leuven/', '/t/gent/'), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(atGent.status).toBeGreaterThanOrEqual(400);
      const atLeuven = await fetch(link, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(atLeuven.status).toBe(200);
      const suppressed = async (tenant: string) => (await ledger.query(`SELECT email FROM ${pg.escapeIdentifier(`${name}_${tenant}`)}.suppressions`)).rows.map((r) => r.email);
      expect(await suppressed('leuven')).toEqual(['mayor@leuven.example']);
      expect(await suppressed('gent')).toEqual([]);

      // Monitoring sees each tenant.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/crier_deliveries\{tenant="gent",schedule="council-quarterly",job="council-update",status="sent"\} 1/);
      expect(metrics).toMatch(/crier_deliveries\{tenant="leuven",schedule="council-quarterly",job="council-update",status="sent"\} 1/);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await ledger.end();
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
  }, 240_000);
});

describe('one tenant of many served alone (`crier start --configs DIR --tenant leuven`)', () => {
  it('answers its unsubscribe links where they point, under /t/leuven/', async () => {
    const jobs = await loadJobKinds();
    const leuven = loadTenantDir(dir, { jobs }).find((t) => t.id === 'leuven')!.config!;
    const deployment = new Crier(leuven, jobs);
    const server = await startHttpServer(deployment, { host: '127.0.0.1', port: 0 });
    try {
      const link = unsubscribeUrl(leuven.http!.publicUrl!, leuven.http!.secrets!, { email: 'mayor@leuven.example', schedule: 'council-quarterly', job: 'council-update', locale: 'nl-BE', tenant: 'leuven' });
      const local = link.replace(`http://127.0.0.1:${port}`, server.url);
      expect(local).toContain('/t/leuven/u/');
      expect((await fetch(local, { headers: { accept: 'text/html' } })).status).toBe(200);
      expect((await fetch(local.replace('/t/leuven/', '/'), { headers: { accept: 'text/html' } })).status).toBe(404);
    } finally {
      await server.close();
      await deployment.close();
    }
  }, 60_000);
});
