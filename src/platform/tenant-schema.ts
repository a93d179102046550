import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tenantSchema } from './platform.ts';

/** The Go Vocal tables Crier reads (a copy of ../shared/reference/citizenlab-tenant-schema.sql). */
export const SCHEMA_FILE = fileURLToPath(new URL('./govocal-schema.sql', import.meta.url));

/**
 * Drops and recreates a tenant schema with the platform's tables, inside the caller's
 * transaction, and leaves the tenant first on the search_path. public.tenants is shared by
 * every tenant, so it is created only when missing. Returns the schema name.
 */
export async function recreateTenantSchema(client: pg.ClientBase, host: string): Promise<string> {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) {
    throw new Error(`'${host}' is not a tenant host; use lower-case letters, digits, dots and dashes, e.g. participatie.gent.be`);
  }
  const schema = tenantSchema(host);
  const ident = pg.escapeIdentifier(schema);
  const sql = readFileSync(SCHEMA_FILE, 'utf8');
  const registryStart = sql.indexOf('CREATE TABLE public.tenants');
  const tenantStart = sql.indexOf('-- ===== per-tenant schema');
  const registry = sql
    .slice(registryStart, tenantStart)
    .replace('CREATE TABLE public.tenants', 'CREATE TABLE IF NOT EXISTS public.tenants')
    .replace('CREATE INDEX index_tenants_on_host', 'CREATE INDEX IF NOT EXISTS index_tenants_on_host');
  // Tenants created side by side (tests) would race on the shared registry table.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['crier-tenant-registry']);
  await client.query(registry);
  await client.query(`DROP SCHEMA IF EXISTS ${ident} CASCADE`);
  await client.query(`CREATE SCHEMA ${ident}`);
  await client.query(`SET LOCAL search_path = ${ident}, public`);
  await client.query(sql.slice(tenantStart));
  return schema;
}
