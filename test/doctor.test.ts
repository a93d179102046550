import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConfig } from '../src/db.ts';
import { createDemoTenant } from '../src/demo/demo-tenant.ts';
import { rangeBounds, rangeColumns } from '../src/platform/advice.ts';
import { crier } from './helpers/cli.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';

/*
 * `crier doctor` on the demo tenant with the shipped config: every schedule's summary is run
 * read-only and timed, and where one is slow, the index that would help is named with what it
 * would save. Timings are not asserted (they are the machine's); what doctor says is.
 */
const name = uniqueName('doctor');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let config: string;
let schema: string;

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
    expect(out.checks[0]).toMatchObject({ check: 'platform', status: 'ok', subject: host, data: { schema } });
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

  it('reads which columns a plan filters by range, and the bounds', () => {
    expect(rangeBounds("((created_at >= '2026-07-01 00:00:00'::timestamp without time zone) AND (created_at < '2026-10-01 00:00:00'::timestamp without time zone))", 'created_at')).toEqual(['2026-07-01 00:00:00', '2026-10-01 00:00:00']);
    expect(rangeBounds("((published_at < '2026-10-01 00:00:00'::timestamp without time zone) AND ((publication_status)::text = 'published'::text))", 'published_at')).toEqual([null, '2026-10-01 00:00:00']);
    expect(rangeColumns("((created_at >= '2026-07-01 00:00:00'::timestamp without time zone) AND (created_at < '2026-10-01 00:00:00'::timestamp without time zone))")).toEqual(['created_at']);
    expect(rangeColumns("(((publication_status)::text = 'published'::text) AND (published_at >= $1) AND (r.published_at < $2))")).toEqual(['published_at']);
  });
});
