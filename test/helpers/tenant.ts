import pg from 'pg';
import { pgConfig } from '../../src/db.ts';
import { recreateTenantSchema } from '../../src/demo/tenant-schema.ts';
import { PG_URL } from './services.ts';

/**
 * An empty tenant on the platform's real schema (src/demo/govocal-structure-2025-11.sql, the
 * tables of the platform's structure.sql), for fixtures whose every row the test knows. Returns a client whose
 * search_path is the tenant schema, with helpers that fill the NOT NULL columns tests don't care about.
 */
export async function createTenant(host: string, settings: Record<string, unknown> = {}) {
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  await client.query('BEGIN');
  const schema = await recreateTenantSchema(client, host);
  await client.query('COMMIT');
  const ident = pg.escapeIdentifier(schema);
  await client.query(`SET search_path = ${ident}, public`);
  const core = { timezone: 'Europe/Brussels', locales: ['nl-BE', 'fr-BE', 'en'], organization_name: { 'nl-BE': 'Stad Test', en: 'City of Test' }, ...settings };
  await client.query(`INSERT INTO app_configurations (host, settings, created_at, updated_at) VALUES ($1, $2, now(), now())`, [host, { core }]);

  let seq = 0;
  const insert = async (table: string, row: Record<string, unknown>): Promise<string> => {
    const withDefaults: Record<string, unknown> = { created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00', ...row };
    const cols = Object.keys(withDefaults);
    const res = await client.query(
      `INSERT INTO ${pg.escapeIdentifier(table)} (${cols.map((c) => pg.escapeIdentifier(c)).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
      cols.map((c) => {
        const v = withDefaults[c];
        return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
      }),
    );
    return res.rows[0].id;
  };
  return {
    schema,
    client,
    insert,
    user: (row: Record<string, unknown> = {}) =>
      insert('users', { email: `user${++seq}@example.org`, slug: `user-${seq}`, registration_completed_at: '2025-01-01 00:00:00', locale: 'nl-BE', ...row }),
    project: async (title: Record<string, string>, status: 'draft' | 'published' | 'archived', folderPublicationId?: string, slug?: string) => {
      const id = await insert('projects', { title_multiloc: title, slug: slug ?? `project-${++seq}`, preview_token: `t${++seq}` });
      await insert('admin_publications', { publication_type: 'Project', publication_id: id, publication_status: status, parent_id: folderPublicationId ?? null, lft: seq * 2, rgt: seq * 2 + 1 });
      return id;
    },
    folder: async (title: Record<string, string>, slug?: string) => {
      const id = await insert('project_folders_folders', { title_multiloc: title, slug: slug ?? `folder-${++seq}` });
      const publication = await insert('admin_publications', { publication_type: 'ProjectFolders::Folder', publication_id: id, publication_status: 'published', lft: seq * 2, rgt: seq * 2 + 1 });
      return { id, publication };
    },
    phase: (projectId: string, method: string, row: Record<string, unknown> = {}) =>
      insert('phases', { project_id: projectId, participation_method: method, start_at: '2025-01-01', ...row }),
    idea: (row: Record<string, unknown>) => insert('ideas', { slug: `idea-${++seq}`, publication_status: 'published', ...row }),
    comment: (row: Record<string, unknown>) => insert('comments', { lft: ++seq, rgt: ++seq, ...row }),
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS ${ident} CASCADE`);
      await client.end();
    },
  };
}
