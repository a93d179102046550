import type { Redis } from 'ioredis';

/**
 * What Redis must be for Crier (BullMQ's own requirements): no eviction of keys, and
 * persistence so a restart keeps the queues. Returns what is wrong, in words; a managed Redis
 * that refuses CONFIG is not judged. (`crier start` logs these, `crier doctor` reports them.)
 */
export async function redisSettingProblems(connection: Redis): Promise<string[]> {
  const get = async (key: string) => ((await connection.config('GET', key).catch(() => [])) as string[])[1];
  const problems: string[] = [];
  const policy = await get('maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') problems.push(`Redis evicts keys (maxmemory-policy ${policy}): queued work can vanish; set maxmemory-policy noeviction`);
  const [aof, save] = [await get('appendonly'), await get('save')];
  if (aof !== undefined && aof !== 'yes' && !save) problems.push('Redis keeps nothing on disk (appendonly no, no save): a restart empties the queues; Crier rebuilds them from the ledger within a minute, but set appendonly yes');
  return problems;
}
