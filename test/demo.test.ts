import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { pgConfig } from '../src/db.ts';
import { createDemoTenant } from '../src/demo/demo-tenant.ts';
import { SCHEMA_FILE } from '../src/demo/tenant-schema.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';

const host = `${uniqueName('demo').replace(/_/g, '-')}.crier.test`;
const now = new Date('2026-11-23T12:00:00Z');
const client = new pg.Client(pgConfig(PG_URL));

afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(host.replace(/\./g, '_'))} CASCADE`);
  await client.query('DELETE FROM public.tenants WHERE host = $1', [host]);
  await client.end();
});

describe('the demo tenant', () => {
  it('is a realistic platform on the real schema, the same every time it is recreated', async () => {
    const started = Date.now();
    const first = await createDemoTenant({ databaseUrl: PG_URL, host, now, launch: '2025-08-04' });
    console.log(`demo tenant created in ${Date.now() - started} ms`, first.counts);
    const second = await createDemoTenant({ databaseUrl: PG_URL, host, now, launch: '2025-08-04' });
    expect(second.counts).toEqual(first.counts);
    await client.connect();
    await client.query(`SET search_path = ${pg.escapeIdentifier(first.schema)}, public`);
    const q = async (sql: string) => (await client.query(sql)).rows;

    // Every table of the reference schema exists in the tenant.
    const expected = [...readFileSync(SCHEMA_FILE, 'utf8').matchAll(/CREATE TABLE (\w+) \(/g)].map((m) => m[1]);
    const tables = (await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [first.schema])).rows.map((r) => r.table_name);
    expect(tables.sort()).toEqual(expected.sort());

    expect((await q(`SELECT DISTINCT publication_status FROM admin_publications WHERE publication_type = 'Project' ORDER BY 1`)).map((r) => r.publication_status)).toEqual(['archived', 'draft', 'published']);
    expect(first.counts.projects).toBeGreaterThanOrEqual(12);
    expect(first.counts.users).toBeGreaterThan(3000);
    expect(first.counts.ideas).toBeGreaterThan(1000);
    const methods = (await q(`SELECT DISTINCT participation_method FROM phases ORDER BY 1`)).map((r) => r.participation_method);
    expect(methods).toEqual(['community_monitor_survey', 'ideation', 'information', 'native_survey', 'poll', 'volunteering', 'voting']);

    const [roles] = await q(`SELECT
      count(*) FILTER (WHERE roles @> '[{"type":"admin"}]') AS admins,
      count(*) FILTER (WHERE roles @> '[{"type":"project_folder_moderator"}]') AS folder_managers,
      count(*) FILTER (WHERE roles @> '[{"type":"project_moderator"}]' AND NOT roles @> '[{"type":"project_folder_moderator"}]') AS project_managers
      FROM users`);
    expect(Number(roles.admins)).toBeGreaterThanOrEqual(2);
    expect(Number(roles.folder_managers)).toBeGreaterThanOrEqual(3);
    expect(Number(roles.project_managers)).toBeGreaterThanOrEqual(3);
    // A folder without a manager, for `departments:` in the config.
    const [unmanaged] = await q(`SELECT count(*)::int AS n FROM project_folders_folders f WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.roles @> jsonb_build_array(jsonb_build_object('type', 'project_folder_moderator', 'project_folder_id', f.id::text)))`);
    expect(unmanaged.n).toBeGreaterThanOrEqual(1);

    const [shape] = await q(`SELECT
      count(*) FILTER (WHERE p.participation_method = 'native_survey') AS survey_responses,
      count(*) FILTER (WHERE i.creation_phase_id IS NULL AND EXISTS (SELECT 1 FROM ideas_phases ip WHERE ip.idea_id = i.id)) AS transitive,
      count(*) FILTER (WHERE i.creation_phase_id IS NULL AND NOT EXISTS (SELECT 1 FROM ideas_phases ip WHERE ip.idea_id = i.id)) AS orphans,
      count(*) FILTER (WHERE i.anonymous AND i.author_id IS NULL AND i.author_hash IS NOT NULL) AS anonymous
      FROM ideas i LEFT JOIN phases p ON p.id = i.creation_phase_id`);
    expect(Number(shape.survey_responses)).toBeGreaterThan(100);
    expect(Number(shape.transitive)).toBeGreaterThan(100);
    expect(Number(shape.orphans)).toBe(0);
    expect(Number(shape.anonymous)).toBeGreaterThan(10);

    // Nothing before launch (2025-08-04 local) or after now.
    const [bounds] = (await client.query(`SELECT min(t) >= '2025-08-03 22:00:00' AS after_launch, max(t) <= $1::timestamp AS before_now FROM (
      SELECT published_at AS t FROM ideas UNION ALL SELECT created_at FROM comments UNION ALL SELECT created_at FROM reactions
      UNION ALL SELECT submitted_at FROM baskets UNION ALL SELECT registration_completed_at FROM users WHERE roles = '[]') x`, ['2026-11-23 12:00:00'])).rows;
    expect(bounds).toEqual({ after_launch: true, before_now: true });

    const [hostile] = await q(`SELECT count(*)::int AS n FROM projects WHERE title_multiloc->>'nl-BE' LIKE '%<script>%'`);
    expect(hostile.n).toBe(1);

    // The cases a real platform has that the figures must get right (see test/real-data.test.ts).
    const [cases] = await q(`SELECT
      (SELECT count(*)::int FROM projects WHERE hidden AND internal_role = 'community_monitor') AS monitor,
      (SELECT count(*)::int FROM ideas i JOIN phases p ON p.id = i.creation_phase_id WHERE p.participation_method = 'community_monitor_survey') AS monitor_responses,
      (SELECT count(*)::int FROM baskets_ideas bi JOIN baskets b ON b.id = bi.basket_id JOIN phases p ON p.id = b.phase_id JOIN ideas i ON i.id = bi.idea_id
        WHERE p.voting_method = 'budgeting' AND bi.votes = i.budget AND i.budget >= 5000) AS priced_picks,
      (SELECT count(*)::int FROM baskets_ideas bi JOIN baskets b ON b.id = bi.basket_id JOIN phases p ON p.id = b.phase_id WHERE p.voting_method = 'budgeting') AS budget_picks,
      (SELECT count(*)::int FROM baskets b JOIN phases p ON p.id = b.phase_id WHERE p.voting_method = 'multiple_voting' AND b.submitted_at IS NOT NULL) AS multiple_ballots,
      (SELECT count(*)::int FROM ideas WHERE manual_votes_amount > 0) AS offline_votes,
      (SELECT count(*)::int FROM phases WHERE manual_voters_amount > 0) AS offline_voters,
      (SELECT count(*)::int FROM users WHERE roles @> '[{"type":"project_folder_moderator"}]' AND NOT roles @> '[{"type":"project_moderator"}]') AS folder_role_only,
      (SELECT count(*)::int FROM users WHERE email = 'support@govocal.com' AND roles @> '[{"type":"admin"}]') AS vendor_admin,
      (SELECT count(*)::int FROM users WHERE roles @> '[{"type":"space_moderator"}]') AS space_moderators,
      (SELECT count(*)::int FROM activities a WHERE a.action = 'changed_status' AND NOT EXISTS (SELECT 1 FROM official_feedbacks f WHERE f.idea_id = a.item_id)) AS status_only,
      (SELECT count(*)::int FROM events_attendances) AS attendances`);
    expect(cases.monitor).toBe(1);
    expect(cases.monitor_responses).toBeGreaterThan(50);
    expect(cases.budget_picks).toBeGreaterThan(50);
    expect(cases.priced_picks).toBe(cases.budget_picks);
    expect(cases.multiple_ballots).toBeGreaterThan(50);
    expect(cases.offline_votes).toBeGreaterThan(0);
    expect(cases.offline_voters).toBeGreaterThan(0);
    expect(cases.folder_role_only).toBe(1);
    expect(cases.vendor_admin).toBe(1);
    expect(cases.space_moderators).toBe(1);
    expect(cases.status_only).toBeGreaterThan(20);
    expect(cases.attendances).toBeGreaterThan(20);
  }, 60_000);
});
