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

/**
 * Pool settings whose connections give up connecting after `ms` (undefined: none). Set on the
 * client, not as the pool's connectionTimeoutMillis, which would also cut a wait for a free
 * connection: a busy pool is not an unreachable host.
 */
export function connectTimeout(ms: number | undefined): Pick<pg.PoolConfig, 'Client'> {
  if (!ms) return {};
  class TimedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: ms });
    }
  }
  return { Client: TimedClient as unknown as NonNullable<pg.PoolConfig['Client']> };
}

/** `fn` in one transaction on a connection of `pool`: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A session whose ROLLBACK failed may still be in its transaction: it is not given back for reuse.
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
    throw e;
  } finally {
    client.release(broken);
  }
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
  const why = connectionProblem(e);
  return why ? new Error(`cannot reach ${what} at ${redact(url)}: ${why}; check that it runs and that ${setting} is right`) : (e as Error);
}

/** What the codes of a failed connection mean, for a superadmin. */
const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
  ETIMEDOUT: 'no answer in time (a firewall, a wrong host)',
  ECONNRESET: 'the connection was reset',
  '28P01': 'the password was refused',
  '28000': 'the server refuses this user from here (pg_hba.conf)',
  '3D000': 'the database does not exist',
};

/**
 * Why a connection (Postgres or Redis) failed, in words, with the error's own; undefined when
 * the error is not about reaching the server.
 */
export function connectionProblem(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[] };
  const code = err.code ?? err.errors?.[0]?.code;
  const said = err.message || err.errors?.[0]?.message || String(e);
  if (code && CONNECTION_CODES[code]) return `${CONNECTION_CODES[code]} (${code}: ${said})`;
  // node-postgres's own connect timeout has no code: a host that accepts nothing and refuses nothing.
  if (!code && /connection timeout|timeout expired/i.test(said)) return `no answer in time: a firewall dropping packets, or a wrong host or port (${said})`;
  return undefined;
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
