import pg from 'pg';
import { z } from 'zod';
import { connectTimeout, explainConnectionError, pgConfig, pgOptions, schemaSessions, type SharedPools } from '../db.ts';
import { APP_CONFIGURATION, TENANT_SCHEMA_EXISTS } from './queries.ts';

/** What Crier needs to know about the tenant, read from its app_configurations row. */
export interface PlatformInfo {
  host: string;
  schema: string;
  /** IANA zone of core.timezone (default Europe/Brussels, as the platform's). */
  timezone: string;
  /** core.locales, in the platform's order; the first is the default. */
  locales: string[];
  /** core.organization_name multiloc. */
  organizationName: Record<string, string>;
  /** Public URL, no trailing slash. */
  url: string;
  /** core.currency: the ISO 4217 code budgets are in (default EUR, as the platform's). */
  currency: string;
}

const appConfigurationRow = z.object({
  host: z.string().nullable(),
  settings: z
    .object({
      core: z
        .object({
          timezone: z.string().optional(),
          locales: z.array(z.string()).optional(),
          organization_name: z.record(z.string(), z.string()).optional(),
          currency: z.string().regex(/^[A-Z]{3}$/).optional().catch(undefined),
        })
        .loose()
        .optional(),
    })
    .loose()
    .nullable(),
});

/** The platform database has no schema for the configured tenant. */
export class TenantMissingError extends Error {
  constructor(
    readonly tenant: string,
    readonly schema: string,
  ) {
    super(`the platform database has no schema '${schema}' for tenant ${tenant}; check platform.tenant (\`crier demo\` creates the demo tenant)`);
  }
}

export { platformTimestamp } from './timestamp.ts';

/** The tenant schema of a host: participatie.gent.be → participatie_gent_be. */
export function tenantSchema(host: string): string {
  return host.replace(/\./g, '_');
}

/**
 * How Crier's sessions on the platform run its few large reads (queries.ts): its aggregates and
 * sorts of a period's narrow rows (a quarter of a 1M-input platform: some hundred thousand)
 * stay in memory with 64 MB each, where Postgres's default 4 MB would spill them to disk; and
 * JIT compilation, which Postgres starts for queries this size, costs more than it saves on
 * them (0.4 s a query, measured). A session setting: the platform's own are untouched. At most
 * `max` (default 4) such sessions.
 */
const SESSION_SETTINGS = { work_mem: '64MB', jit: 'off' };

/**
 * A read-only view of one tenant. Every session runs with default_transaction_read_only and
 * the tenant's schema first on the search_path, so a query written against the reference
 * schema runs unchanged and a stray write fails instead of touching the platform.
 */
export class Platform {
  private constructor(
    private readonly pool: pg.Pool,
    readonly info: PlatformInfo,
  ) {}

  /**
   * Connects to the tenant's schema: a pool of its own, or, in a deployment of many tenants
   * (`shared`), sessions of one read-only pool per platform database, as Go Vocal keeps its
   * tenants in one database.
   */
  static async connect(opts: { database: string; tenant: string; url?: string; max?: number; shared?: SharedPools; connectTimeout?: number }): Promise<Platform> {
    const schema = tenantSchema(opts.tenant);
    const searchPath = `${pg.escapeIdentifier(schema)},public`;
    let pool: pg.Pool;
    if (opts.shared) {
      pool = schemaSessions(opts.shared.get('platform', opts.database, pgOptions({ default_transaction_read_only: 'on', ...SESSION_SETTINGS })), searchPath);
    } else {
      pool = new pg.Pool(
        pgConfig(opts.database, {
          max: opts.max ?? 4,
          ...connectTimeout(opts.connectTimeout),
          application_name: 'crier',
          options: pgOptions({ default_transaction_read_only: 'on', search_path: searchPath, ...SESSION_SETTINGS }),
        }),
      );
      pool.on('error', () => {
        /* an idle client dropped by the server is replaced on the next query */
      });
    }
    try {
      const exists = await pool.query(TENANT_SCHEMA_EXISTS, [schema]).catch((e) => {
        throw explainConnectionError(e, 'the platform database', opts.database, 'platform.database');
      });
      if (!exists.rows[0]?.exists) throw new TenantMissingError(opts.tenant, schema);
      const rows = await pool.query(APP_CONFIGURATION);
      if (!rows.rows.length) throw new Error(`tenant ${opts.tenant} has no app_configurations row`);
      const row = appConfigurationRow.parse(rows.rows[0]);
      const core = row.settings?.core ?? {};
      const info: PlatformInfo = {
        host: opts.tenant,
        schema,
        timezone: core.timezone ?? 'Europe/Brussels',
        locales: core.locales?.length ? core.locales : ['en'],
        organizationName: core.organization_name ?? {},
        url: (opts.url ?? `https://${row.host ?? opts.tenant}`).replace(/\/+$/, ''),
        currency: core.currency ?? 'EUR',
      };
      return new Platform(pool, info);
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  /**
   * The tenant's schema is still in the platform database (/readyz of a deployment of many,
   * where one tenant removed from the platform must show): a session's search_path naming a
   * schema that is gone is no error, so ask for the schema itself.
   */
  async stillThere(): Promise<void> {
    const [row] = await this.query<{ exists: boolean }>(TENANT_SCHEMA_EXISTS, [this.info.schema]);
    if (!row?.exists) throw new TenantMissingError(this.info.host, this.info.schema);
  }

  /** Runs one named query from queries.ts. */
  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const res = await this.pool.query(sql, params);
    return res.rows as T[];
  }

  /**
   * One session of the pool for statements that belong together (a transaction: `crier
   * doctor`'s write probe), with the same read-only settings as every other; released after.
   */
  async session<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
