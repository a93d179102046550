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

const SEARCH_PATH = Symbol('crier.searchPath');

/**
 * A pool whose sessions each run with `searchPath`, over the connections of a `shared` pool:
 * many tenants' ledgers (or platform schemas) share a few connections, where a pool per tenant
 * would hold hundreds (Postgres allows 100 by default). A session that last served another
 * schema is switched with one SET; Postgres re-plans a prepared statement when search_path
 * changes, so named statements stay right. `end()` leaves the shared pool open: its owner ends it.
 */
export function schemaSessions(shared: pg.Pool, searchPath: string): pg.Pool {
  const connect = async (): Promise<pg.PoolClient> => {
    const client = (await shared.connect()) as pg.PoolClient & { [SEARCH_PATH]?: string };
    if (client[SEARCH_PATH] !== searchPath) {
      try {
        await client.query(`SET search_path TO ${searchPath}`);
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
      client[SEARCH_PATH] = searchPath;
    }
    return client;
  };
  const query = async (...args: unknown[]) => {
    const client = await connect();
    try {
      const result = await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
      client.release();
      return result;
    } catch (e) {
      // As pg's own pool.query: a session that failed a statement is not reused.
      client.release(e as Error);
      throw e;
    }
  };
  return { connect, query, end: async () => undefined, on: () => undefined } as unknown as pg.Pool;
}

/**
 * The connection pools of a deployment of many tenants, one per database and role (the
 * ledger's sessions may write; the platform's are read-only), shared by every tenant.
 */
export class SharedPools {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(
    /** Connections per pool. */
    private readonly max = 10,
  ) {}

  /** The shared pool of `url` for `role`, made with `options` (libpq's, see pgOptions) on first use. */
  get(role: 'ledger' | 'platform', url: string, options: string): pg.Pool {
    const key = `${role} ${url}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new pg.Pool(pgConfig(url, { max: this.max, application_name: role === 'ledger' ? 'crier-ledger' : 'crier', options }));
      pool.on('error', () => {
        /* idle clients dropped by the server are replaced on the next query */
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.end()));
    this.pools.clear();
  }
}
