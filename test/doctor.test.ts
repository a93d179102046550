import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConfig } from '../src/db.ts';
import { createDemoTenant } from '../src/demo/demo-tenant.ts';
import { rangeBounds, rangeColumns } from '../src/platform/advice.ts';
import { crier } from './helpers/cli.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';

/*
 * `crier doctor` on the demo tenant with the shipped config: the config, each service reached
 * (the platform proved read-only by a write it refuses), the SMTP relay's login through a real
 * SMTP server, the DKIM domain against From; every schedule's summary is run read-only and
 * timed, and where one is slow, the index that would help is named with what it would save.
 * Timings are not asserted (they are the machine's); what doctor says is.
 */
const name = uniqueName('doctor');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let config: string;
let schema: string;
/** A role that may only read the tenant, made for the test. */
const reader = `${name}_reader`;

beforeAll(async () => {
  ({ schema } = await createDemoTenant({ databaseUrl: PG_URL, host, launch: '2025-08-04' }));
  // The shipped config, on this tenant, with a ledger schema of its own.
  const doc = parseDocument(readFileSync('config/crier.yaml', 'utf8'));
  doc.setIn(['platform', 'tenant'], host);
  doc.setIn(['platform', 'database'], PG_URL);
  doc.setIn(['platform', 'demo'], false);
  doc.setIn(['crier', 'database'], PG_URL);
  doc.setIn(['crier', 'schema'], name);
  doc.setIn(['crier', 'prefix'], name);
  config = path.join(mkdtempSync(path.join(tmpdir(), 'crier-doctor-')), 'crier.yaml');
  writeFileSync(config, doc.toString());
});

afterAll(async () => {
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
  await client.query('DELETE FROM public.tenants WHERE host = $1', [host]);
  const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [reader]);
  if (role.rowCount) {
    await client.query(`DROP OWNED BY ${pg.escapeIdentifier(reader)}`);
    await client.query(`DROP ROLE ${pg.escapeIdentifier(reader)}`);
  }
  await client.end();
});

interface Result {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  subject: string;
  message: string;
  details?: string[];
  data?: Record<string, unknown>;
}

describe('crier doctor', () => {
  it('times every schedule’s summary on the platform, read-only, and says no index is needed', async () => {
    const text = await crier(['doctor', '--config', config]);
    console.log(text.stdout); // what a superadmin sees
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^ok    platform ${host.replace(/\./g, '\\.')}: read, read-only, in schema ${schema} \\(PostgreSQL \\d+`, 'm'));
    expect(text.stdout).toMatch(/^(ok|warn)  +summary  council-quarterly: council-update of \d{4}-\d\d-\d\d \d\d:\d\d: [\d.]+ m?s/m);
    expect(text.stdout).toMatch(/^(ok|warn)  +summary  steering-committee: steering-meeting, (invitation|agenda) of /m);

    // A generous threshold: every summary is fast enough, whatever the machine is doing.
    const res = await crier(['doctor', '--json', '--slow', '600000', '--config', config]);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.check).filter((c, i, all) => all.indexOf(c) === i)).toEqual(['config', 'ledger', 'redis', 'platform', 'smtp', 'dkim', 'mail', 'summary', 'indexes']);
    expect(out.checks[0]).toMatchObject({ check: 'config', status: 'ok', subject: config, message: 'valid: 9 schedules (9 enabled); writes e-mail to ./outbox (outbox: nothing is sent)' });
    expect(out.checks.find((c) => c.check === 'ledger')).toMatchObject({ status: 'ok', subject: 'postgres://127.0.0.1:5432/postgres' });
    // The platform connection refused a write: read-only is proved, not read from a setting.
    expect(out.checks.find((c) => c.check === 'platform')).toMatchObject({ status: 'ok', subject: host, data: { schema, transactionReadOnly: 'on', writeRefused: { code: '25006' } } });
    expect(out.checks.find((c) => c.check === 'smtp')).toMatchObject({ status: 'ok', subject: 'outbox' });
    const summaries = out.checks.filter((c) => c.check === 'summary');
    // Every schedule of the shipped config, each timed.
    expect(summaries.map((c) => c.subject)).toEqual(['council-quarterly', 'launch-check-ins', 'steering-committee', 'project-call', 'department-monthly', 'moderators-weekly', 'surveys-closing', 'communication-monthly', 'council-demo']);
    for (const s of summaries) {
      expect(s.status).toBe('ok');
      for (const send of (s.data as { sends: { ms: number; error?: string }[] }).sends) expect(send).toMatchObject({ ms: expect.any(Number) });
    }
    expect(out.checks.at(-1)).toEqual({ check: 'indexes', status: 'ok', subject: 'platform indexes', message: 'no index is needed: every summary took 600.0 s or less' });
  });

  it('names the index a slow summary needs, with what it would save and how that is estimated', async () => {
    // Every summary counts as slow: doctor explains their slowest queries on the platform.
    const res = await crier(['doctor', '--json', '--slow', '0', '--config', config]);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
    expect(out.checks.filter((c) => c.check === 'summary').every((c) => c.status === 'warn')).toBe(true);
    const advice = out.checks.filter((c) => c.check === 'indexes');
    // The platform has no index on reactions.created_at: a period's reactions are found by reading them all.
    const reactions = advice.find((a) => a.subject === 'reactions.created_at');
    expect(reactions, JSON.stringify(advice, null, 2)).toBeDefined();
    expect(reactions!.status).toBe('warn');
    expect(reactions!.message).toMatch(/^an index on reactions\.created_at would save up to [\d.]+ m?s each time .*ACTIVITY.* reads reactions, in council-quarterly, /);
    // The tenant schema of a host with a '-' is quoted.
    expect(reactions!.details![0]).toBe(`CREATE INDEX CONCURRENTLY index_reactions_on_created_at ON "${schema}".reactions (created_at);`);
    expect(reactions!.details![1]).toMatch(/^How this is estimated: EXPLAIN ANALYZE shows .*ACTIVITY.* reading all [\d,]+ rows of reactions to keep [\d,]+ by created_at; that read, timed alone, takes [\d.]+ m?s\. With the index only the rows kept are read, so the saving is at most that time\.$/);
    // Columns that have an index are never named (comments.created_at has one).
    expect(advice.map((a) => a.subject)).not.toContain('comments.created_at');
  });

  it('reports a refused config as a failing check with the file, line and message, and exit 2', async () => {
    const broken = variant({}, (text) => text.replace('"0 9 * 1,4,7,10 1#1"', '"0 9 * 1,4,7,10 1#6"'));
    const res = await crier(['doctor', '--json', '--config', broken]);
    expect(res.code, res.stderr).toBe(2);
    const out = JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
    expect(out.ok).toBe(false);
    expect(out.checks).toHaveLength(1);
    expect(out.checks[0]).toMatchObject({ check: 'config', status: 'fail', message: expect.stringMatching(/^refused: one problem; fix it in the file/) });
    expect(out.checks[0].details![0]).toMatch(/crier\.yaml: line \d+, column \d+, schedules\.council-quarterly\.cron(\[0\])?: '1#6': there is no '6' occurrence/);
    const text = await crier(['doctor', '--config', broken]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^fail  config   .*crier\.yaml: refused: one problem/m);
    expect(text.stderr).toBe('');
  });

  it('opens an SMTP session with the login and sends nothing; a wrong password is a failure in plain words', async () => {
    const relay = await authRelay();
    try {
      const good = await doctorJson({ 'mail.transport': 'smtp', 'mail.smtp': `smtp://crier:right-password@127.0.0.1:${relay.port}?tlsRejectUnauthorized=false` });
      const ok = good.checks.find((c) => c.check === 'smtp')!;
      expect(ok, JSON.stringify(good.checks, null, 2)).toMatchObject({ status: 'ok', subject: `smtp://crier:***@127.0.0.1:${relay.port}?tlsRejectUnauthorized=false`, message: 'EHLO, STARTTLS, AUTH as crier, QUIT: accepted; nothing sent', data: { tls: true, auth: 'crier' } });

      const bad = await doctorJson({ 'mail.transport': 'smtp', 'mail.smtp': `smtp://crier:wrong-password@127.0.0.1:${relay.port}?tlsRejectUnauthorized=false` });
      expect(bad.ok).toBe(false);
      const fail = bad.checks.find((c) => c.check === 'smtp')!;
      expect(fail.status).toBe('fail');
      expect(fail.message).toMatch(new RegExp(`^the SMTP server at smtp://crier:\\*\\*\\*@127\\.0\\.0\\.1:${relay.port}\\S* refused the login of crier \\(535 .*\\); check the user and password in mail\\.smtp`));
      expect(JSON.stringify(bad)).not.toContain('wrong-password');

      // Both logins reached the server, over TLS; no message was ever begun.
      expect(relay.logins).toEqual([
        { user: 'crier', accepted: true, tls: true },
        { user: 'crier', accepted: false, tls: true },
      ]);
      expect(relay.mailFrom).toBe(0);
      expect(relay.data).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('names both domains when DKIM signs for another domain than From', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const out = await doctorJson({ 'mail.dkim': { domain: 'mailer.example.net', selector: 'crier1', privateKey: key } });
    const dkim = out.checks.filter((c) => c.check === 'dkim');
    expect(dkim).toHaveLength(1);
    expect(dkim[0]).toMatchObject({ status: 'fail', subject: 'd=mailer.example.net; s=crier1', data: { from: 'demo.crier.local', dkim: 'mailer.example.net' } });
    expect(dkim[0].message).toBe('mail.dkim.domain is mailer.example.net but mail.from (participatie@demo.crier.local) is at demo.crier.local: receivers judge DMARC by the From domain, and a signature for mailer.example.net does not count for it');
    expect(dkim[0].details![0]).toMatch(/^Sign for demo\.crier\.local \(mail\.dkim\.domain: demo\.crier\.local, its public key at crier1\._domainkey\.demo\.crier\.local\)/);

    const aligned = await doctorJson({ 'mail.dkim': { domain: 'demo.crier.local', selector: 'crier1', privateKey: key } });
    expect(aligned.checks.find((c) => c.check === 'dkim')).toMatchObject({ status: 'ok', message: 'signs for demo.crier.local, the domain of mail.from (participatie@demo.crier.local)' });
  });

  it('names an unreachable Redis by its URL, the password masked', async () => {
    const res = await crier(['doctor', '--json', '--config', variant({ 'crier.redis': 'redis://:s3cret-redis-pass@127.0.0.1:1/0' })]);
    expect(res.code, res.stderr).toBe(1);
    const out = JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
    const redis = out.checks.find((c) => c.check === 'redis')!;
    expect(redis).toMatchObject({ status: 'fail', subject: 'redis://:***@127.0.0.1:1/0' });
    expect(redis.message).toMatch(/^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0: nothing listens there \(ECONNREFUSED: .*\); check that it runs and that crier\.redis is right$/);
    expect(res.stdout + res.stderr).not.toContain('s3cret-redis-pass');
    // The other checks still ran.
    expect(out.checks.find((c) => c.check === 'platform')?.status).toBe('ok');
  });

  it('gives up on a platform host that accepts connections and never answers, saying so, and goes on', async () => {
    // A black hole: the TCP handshake succeeds, then not a byte comes back (a firewall or a dead proxy).
    const hole = createServer(() => undefined);
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const port = (hole.address() as AddressInfo).port;
    try {
      const res = await crier(['doctor', '--json', '--connect-timeout', '1500', '--config', variant({ 'platform.database': `postgres://crier:s3cret-pg-pass@127.0.0.1:${port}/platform` })]);
      expect(res.code, res.stderr).toBe(1);
      const out = JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
      const platform = out.checks.find((c) => c.check === 'platform')!;
      expect(platform).toMatchObject({ status: 'fail' });
      expect(platform.message).toMatch(new RegExp(`^cannot reach the platform database at postgres://crier:\\*\\*\\*@127\\.0\\.0\\.1:${port}/platform: no answer in time: a firewall dropping packets, or a wrong host or port \\(.*\\); check that it runs and that platform\\.database is right$`));
      expect(res.stdout + res.stderr).not.toContain('s3cret-pg-pass');
      // The other services were checked all the same (without the timeout, doctor would wait here forever).
      expect(out.checks.find((c) => c.check === 'ledger')?.status).toBe('ok');
      expect(out.checks.find((c) => c.check === 'redis')?.status).not.toBe('fail');
    } finally {
      hole.close();
    }
  });

  it('says the platform role may only read when it has SELECT alone, and warns when it could write', async () => {
    const admin = new pg.Client(pgConfig(PG_URL));
    await admin.connect();
    try {
      const r = pg.escapeIdentifier(reader);
      await admin.query(`CREATE ROLE ${r} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA ${pg.escapeIdentifier(schema)}, public TO ${r}`);
      await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${pg.escapeIdentifier(schema)}, public TO ${r}`);
    } finally {
      await admin.end();
    }
    const url = new URL(PG_URL);
    url.username = reader;
    const out = await doctorJson({ 'platform.database': url.toString() });
    const [session, role] = out.checks.filter((c) => c.check === 'platform');
    expect(session).toMatchObject({ status: 'ok', message: expect.stringMatching(/a write was refused \(25006: cannot execute DELETE in a read-only transaction\) and rolled back$/) });
    expect(role).toMatchObject({ status: 'ok', subject: `role ${reader}`, message: expect.stringMatching(new RegExp(`^${reader} may only read the tenant's \\d+ tables`)) });

    // The test's own connection is a superuser's: read-only only by Crier's session.
    const su = await doctorJson({});
    expect(su.checks.filter((c) => c.check === 'platform')[1]).toMatchObject({ status: 'warn', message: expect.stringMatching(/is a superuser: only Crier's read-only sessions keep it from changing the platform$/) });
  });

  it('reads which columns a plan filters by range, and the bounds', () => {
    expect(rangeBounds("((created_at >= '2026-07-01 00:00:00'::timestamp without time zone) AND (created_at < '2026-10-01 00:00:00'::timestamp without time zone))", 'created_at')).toEqual(['2026-07-01 00:00:00', '2026-10-01 00:00:00']);
    expect(rangeBounds("((published_at < '2026-10-01 00:00:00'::timestamp without time zone) AND ((publication_status)::text = 'published'::text))", 'published_at')).toEqual([null, '2026-10-01 00:00:00']);
    expect(rangeColumns("((created_at >= '2026-07-01 00:00:00'::timestamp without time zone) AND (created_at < '2026-10-01 00:00:00'::timestamp without time zone))")).toEqual(['created_at']);
    expect(rangeColumns("(((publication_status)::text = 'published'::text) AND (published_at >= $1) AND (r.published_at < $2))")).toEqual(['published_at']);
  });
});

/**
 * The test's config with some keys changed (dotted paths) and every schedule disabled, so the
 * checks before the summaries are what runs; `edit` changes the file's text first.
 */
function variant(changes: Record<string, unknown>, edit = (text: string) => text): string {
  const doc = parseDocument(edit(readFileSync(config, 'utf8')));
  for (const id of Object.keys((doc.toJS() as { schedules: Record<string, unknown> }).schedules)) doc.setIn(['schedules', id, 'enabled'], false);
  for (const [key, value] of Object.entries(changes)) doc.setIn(key.split('.'), value);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'crier-doctor-')), 'crier.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

async function doctorJson(changes: Record<string, unknown>): Promise<{ ok: boolean; checks: Result[] }> {
  const res = await crier(['doctor', '--json', '--config', variant(changes)]);
  expect([0, 1], res.stderr).toContain(res.code);
  return JSON.parse(res.stdout) as { ok: boolean; checks: Result[] };
}

/**
 * A real SMTP relay (smtp-server, in process) that wants a login: crier / right-password, after
 * STARTTLS (its own self-signed certificate). It records every login and counts MAIL FROM and
 * DATA, which doctor must never reach.
 */
async function authRelay() {
  const logins: { user: string; accepted: boolean; tls: boolean }[] = [];
  let mailFrom = 0;
  let data = 0;
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, session, callback) {
      const accepted = auth.username === 'crier' && auth.password === 'right-password';
      logins.push({ user: auth.username ?? '', accepted, tls: session.secure });
      if (accepted) return callback(null, { user: 'crier' });
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(_address, _session, callback) {
      mailFrom++;
      callback();
    },
    onData(stream, _session, callback) {
      data++;
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    logins,
    get mailFrom() {
      return mailFrom;
    },
    get data() {
      return data;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
