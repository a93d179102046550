import pg from 'pg';
import { connectionProblem } from '../db.ts';
import { redact } from '../redact.ts';
import type { CheckResult, DoctorCheck } from './check.ts';

/*
 * The services a deployment needs, each reached as Crier reaches it: the ledger's Postgres,
 * Redis and the platform's Postgres. A failure names the URL (password masked) and what to
 * check; the platform's connection is also proved read-only by a write it must refuse.
 */

/** Why a connection failed, in words a superadmin can act on, with the setting to check. */
function unreachable(what: string, url: string, setting: string, e: unknown): string {
  return `cannot reach ${what} at ${redact(url)}: ${connectionProblem(e) ?? (e as Error).message ?? String(e)}; check that it runs and that ${setting} is right`;
}

/** Crier's ledger: reached, and allowed to create and update its own tables. */
export const ledgerCheck: DoctorCheck = {
  id: 'ledger',
  async run({ crier }) {
    const url = crier.config.crier.database;
    const schema = crier.config.crier.schema;
    const subject = redact(url);
    let row: { version: string; user: string; exists: boolean; can_create: boolean };
    try {
      [row] = (
        await crier.ledger.pool.query(
          `SELECT current_setting('server_version') AS version, current_user AS user,
                  EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
                  CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) THEN has_schema_privilege($1, 'CREATE')
                       ELSE has_database_privilege(current_database(), 'CREATE') END AS can_create`,
          [schema],
        )
      ).rows;
    } catch (e) {
      return [{ check: 'ledger', status: 'fail', subject, message: unreachable("Crier's ledger (Postgres)", url, 'crier.database', e) }];
    }
    const data = { schema, version: row.version, user: row.user, exists: row.exists };
    if (!row.can_create) {
      const grant = row.exists ? `GRANT CREATE ON SCHEMA ${pg.escapeIdentifier(schema)} TO ${pg.escapeIdentifier(row.user)};` : `GRANT CREATE ON DATABASE <this database> TO ${pg.escapeIdentifier(row.user)};`;
      return [{ check: 'ledger', status: 'fail', subject, message: `reached, but the role ${row.user} may not create Crier's tables ${row.exists ? `in schema ${schema}` : `(schema ${schema} does not exist yet and the role may not create it)`}`, details: [`Grant it, as the database owner: ${grant}`], data }];
    }
    return [{ check: 'ledger', status: 'ok', subject, message: `reached (PostgreSQL ${row.version.split(' ')[0]}, role ${row.user}); schema ${schema} ${row.exists ? 'exists' : 'is created at the first start or `crier migrate`'}`, data }];
  },
};

/** Redis: answers PING, and is set up as BullMQ needs (no eviction, kept on disk). */
export const redisCheck: DoctorCheck = {
  id: 'redis',
  async run({ crier }) {
    const url = crier.config.crier.redis;
    const subject = redact(url);
    const { Redis } = await import('ioredis');
    const { redisSettingProblems } = await import('../queue/redis-settings.ts');
    // One try, no queue of commands while away: the check says what it found, it does not wait for Redis to come.
    const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 5000 });
    // ioredis gives the cause (ECONNREFUSED …) only to 'error' listeners; connect() then rejects with "Connection is closed".
    let cause: Error | undefined;
    redis.on('error', (e: Error) => (cause ??= e));
    try {
      await redis.connect();
      await redis.ping();
      const version = ((await redis.info('server')).match(/redis_version:(\S+)/) ?? [])[1] ?? 'unknown';
      const problems = await redisSettingProblems(redis);
      if (problems.length) return [{ check: 'redis', status: 'warn', subject, message: `reached (Redis ${version}), but set up in a way that can lose queued work`, details: problems, data: { version } }];
      return [{ check: 'redis', status: 'ok', subject, message: `reached (Redis ${version}); keys are not evicted and kept on disk`, data: { version } }];
    } catch (e) {
      const err = cause ?? (e as Error);
      const message = /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(err.message)
        ? `Redis at ${subject} refused the login (${err.message}); check the user and password in crier.redis (redis://user:password@host:6379)`
        : unreachable('Redis', url, 'crier.redis', err);
      return [{ check: 'redis', status: 'fail', subject, message }];
    } finally {
      redis.disconnect();
    }
  },
};

/**
 * A write the platform session must refuse: `DELETE … WHERE false` on the tenant's own
 * app_configurations (its row is what Crier read to connect). It deletes nothing even if it
 * ran, and it runs inside a transaction that is rolled back either way.
 */
const WRITE_PROBE = 'DELETE FROM app_configurations WHERE false';

/** Whether the platform role itself may write, apart from the session being read-only. */
const ROLE_PRIVILEGES = `
  SELECT current_user AS user, r.rolsuper AS superuser,
         (SELECT count(*)::int FROM pg_tables t WHERE t.schemaname = $1) AS tables,
         (SELECT array_agg(t.tablename ORDER BY t.tablename) FROM pg_tables t
           WHERE t.schemaname = $1 AND has_table_privilege(format('%I.%I', t.schemaname, t.tablename), 'INSERT, UPDATE, DELETE, TRUNCATE')) AS writable,
         has_schema_privilege($1, 'CREATE') AS can_create
    FROM pg_roles r WHERE r.rolname = current_user`;

/**
 * The platform: reached, the tenant found, and the connection Crier reads it with proved
 * read-only by a write it refuses. Then, apart, whether the role could write at all: a session
 * setting guards against a mistake in Crier, a role with SELECT only against anything.
 */
export const platformCheck: DoctorCheck = {
  id: 'platform',
  async run({ crier }) {
    const subject = crier.config.platform.tenant;
    const url = crier.config.platform.database;
    let platform;
    try {
      platform = await crier.platform();
    } catch (e) {
      const err = e as Error;
      // Platform.connect already explains an unreachable database with its URL.
      return [{ check: 'platform', status: 'fail', subject, message: err.message.includes(redact(url)) ? err.message : `${err.message} (platform.database ${redact(url)})` }];
    }
    const { version, schema, readOnly, refusal } = await platform.session(async (client) => {
      await client.query('BEGIN');
      try {
        const [s] = (await client.query<{ version: string; schema: string; read_only: string }>(`SELECT current_setting('server_version') AS version, current_schema() AS schema, current_setting('transaction_read_only') AS read_only`)).rows;
        let refusal: { code?: string; message: string } | undefined;
        try {
          await client.query(WRITE_PROBE);
        } catch (e) {
          refusal = { code: (e as { code?: string }).code, message: (e as Error).message };
        }
        return { version: s.version, schema: s.schema, readOnly: s.read_only, refusal };
      } finally {
        await client.query('ROLLBACK');
      }
    });
    const data: Record<string, unknown> = { url: redact(url), schema, version, transactionReadOnly: readOnly, writeRefused: refusal ?? null };
    const pgVersion = `PostgreSQL ${version.split(' ')[0]} at ${redact(url)}`;
    const out: CheckResult[] = [];
    // 25006: read_only_sql_transaction; 42501: insufficient_privilege. Anything else (the table
    // missing, a lock) proves nothing.
    if (refusal?.code === '25006' || refusal?.code === '42501') {
      out.push({ check: 'platform', status: 'ok', subject, message: `read, read-only, in schema ${schema} (${pgVersion}): a write was refused (${refusal.code}: ${refusal.message}) and rolled back`, data });
    } else if (!refusal) {
      out.push({
        check: 'platform',
        status: 'fail',
        subject,
        message: `the platform connection is not read-only: a write (${WRITE_PROBE}) went through; it changed nothing and was rolled back`,
        details: [`transaction_read_only was ${readOnly}; something between Crier and the database (a connection pooler that drops startup options, such as PgBouncer in transaction mode) loses default_transaction_read_only. Connect Crier to Postgres directly, or give platform.database a role that may only read (see the next line).`],
        data,
      });
    } else {
      out.push({ check: 'platform', status: 'fail', subject, message: `could not prove the connection read-only: the write probe failed for another reason (${refusal.code ?? 'no code'}: ${refusal.message})`, data });
    }
    const [role] = await platform.query<{ user: string; superuser: boolean; tables: number; writable: string[] | null; can_create: boolean }>(ROLE_PRIVILEGES, [schema]);
    const writable = role.writable ?? [];
    const roleSubject = `role ${role.user}`;
    const revoke = [
      `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ${pg.escapeIdentifier(schema)} FROM ${pg.escapeIdentifier(role.user)};`,
      `GRANT USAGE ON SCHEMA ${pg.escapeIdentifier(schema)}, public TO ${pg.escapeIdentifier(role.user)}; GRANT SELECT ON ALL TABLES IN SCHEMA ${pg.escapeIdentifier(schema)}, public TO ${pg.escapeIdentifier(role.user)};`,
    ];
    const roleData = { user: role.user, superuser: role.superuser, tables: role.tables, writable: writable.length, canCreate: role.can_create };
    if (role.superuser) {
      out.push({ check: 'platform', status: 'warn', subject: roleSubject, message: `${role.user} is a superuser: only Crier's read-only sessions keep it from changing the platform`, details: ['Give platform.database a role of its own that may only read the tenant, e.g. as the platform database owner:', `CREATE ROLE crier_reader LOGIN PASSWORD '…'; ${revoke[1].replaceAll(pg.escapeIdentifier(role.user), 'crier_reader')}`], data: roleData });
    } else if (writable.length || role.can_create) {
      const what = [writable.length ? `write ${writable.length} of the tenant's ${role.tables} tables (${writable.slice(0, 5).join(', ')}${writable.length > 5 ? ', …' : ''})` : '', role.can_create ? `create tables in schema ${schema}` : ''].filter(Boolean).join(' and ');
      out.push({ check: 'platform', status: 'warn', subject: roleSubject, message: `${role.user} may ${what}: only Crier's read-only sessions keep it from changing the platform`, details: ['Let the role only read, as the platform database owner:', revoke[0], ...(role.can_create ? [`REVOKE CREATE ON SCHEMA ${pg.escapeIdentifier(schema)} FROM ${pg.escapeIdentifier(role.user)};`] : [])], data: roleData });
    } else {
      out.push({ check: 'platform', status: 'ok', subject: roleSubject, message: `${role.user} may only read the tenant's ${role.tables} tables (no INSERT, UPDATE, DELETE, TRUNCATE or CREATE)`, data: roleData });
    }
    return out;
  },
};
