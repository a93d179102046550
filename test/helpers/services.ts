import { randomBytes } from 'node:crypto';

/** The real services on this machine (CI starts them when they are down). */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other test file (they run in parallel) or earlier run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Deletes a test's BullMQ keys (its Redis prefix), so runs leave nothing behind. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Drops what a test made: its demo tenant's schema (named by host), its ledger schema and its Redis keys. */
export async function dropTestData(o: { host: string; schema: string; redisPrefix?: string }): Promise<void> {
  const pg = (await import('pg')).default;
  const { pgConfig } = await import('../../src/db.ts');
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(o.host.replace(/\./g, '_'))} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(o.schema)} CASCADE`);
  } finally {
    await client.end();
  }
  if (o.redisPrefix) await dropRedisPrefix(o.redisPrefix);
}
