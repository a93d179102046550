import os from 'node:os';
import pg from 'pg';
import { redact } from './redact.ts';

// The platform's `timestamp without time zone` columns hold UTC; node-postgres would read them
// as the process's local time. (The ledger uses timestamptz, which is unaffected.)
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (v) => new Date(`${v.replace(' ', 'T')}Z`));

/**
 * node-postgres config for a URL. A URL without a user name means what it means to psql: the
 * PGUSER, else the operating-system user (node-postgres reads $USER instead, which containers
 * and CI often leave unset).
 */
export function pgConfig(url: string, extra: pg.PoolConfig = {}): pg.PoolConfig {
  const parsed = new URL(url);
  // Set in the URL itself: node-postgres lets the connection string override a separate `user`.
  if (!parsed.username) parsed.username = encodeURIComponent(process.env.PGUSER ?? os.userInfo().username);
  return { connectionString: parsed.toString(), ...extra };
}

/** libpq's `options` string: `-c name=value` pairs, spaces and backslashes in values escaped. */
export function pgOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v.replace(/([\\ ])/g, '\\$1')}`)
    .join(' ');
}

/**
 * A connection failure as a superadmin can act on: which database, at which address (no
 * password), and what to check. Other errors pass through unchanged.
 */
export function explainConnectionError(e: unknown, what: string, url: string, setting: string): Error {
  const err = e as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = err.code ?? err.errors?.[0]?.code;
  if (!code || !['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET', '28P01', '28000', '3D000'].includes(code)) return err;
  return new Error(`cannot reach ${what} at ${redact(url)} (${code}: ${err.message || err.errors?.[0]?.message}); check that it runs and that ${setting} is right`);
}
