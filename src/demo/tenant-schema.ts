import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tenantSchema } from '../platform/platform.ts';

/**
 * The Go Vocal platform's real tables (transcribed from CitizenLabDotCo/citizenlab
 * back/db/structure.sql, migration 20251124000000, with their indexes and foreign keys), byte
 * for byte the project's ../shared/reference copy. Tests and the demo tenant are built on it, so
 * a query that names a column the platform does not have fails.
 */
export const SCHEMA_FILE = fileURLToPath(new URL('./govocal-structure-2025-11.sql', import.meta.url));

/**
 * Drops and recreates a tenant schema with the platform's tables, inside the caller's
 * transaction, and leaves the tenant first on the search_path. public.tenants is shared by
 * every tenant; the file creates it only when missing. Returns the schema name.
 */
export async function recreateTenantSchema(client: pg.ClientBase, host: string): Promise<string> {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host)) {
    throw new Error(`'${host}' is not a tenant host; use lower-case letters, digits, dots and dashes, e.g. participatie.gent.be`);
  }
  const schema = tenantSchema(host);
  const ident = pg.escapeIdentifier(schema);
  // Tenants created side by side (tests) would race on the shared registry table.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['crier-tenant-registry']);
  await client.query(`DROP SCHEMA IF EXISTS ${ident} CASCADE`);
  await client.query(`CREATE SCHEMA ${ident}`);
  await client.query(`SET LOCAL search_path = ${ident}, public`);
  await client.query(readFileSync(SCHEMA_FILE, 'utf8'));
  return schema;
}
