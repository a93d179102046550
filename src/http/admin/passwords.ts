import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PASSWORD_HASH } from '../../config/schema.ts';

/*
 * Dashboard passwords, kept as scrypt hashes (node:crypto; no extra package):
 *
 *   scrypt:N:r:p:SALT:HASH     e.g. scrypt:16384:8:1:Yk3r…:9Qz…
 *
 * N, r and p are scrypt's cost parameters, SALT (16 bytes) and HASH (32 bytes) base64url. The
 * format has no `$` (the config's ${VAR} substitution would need it doubled) and no spaces, so a
 * hash is written in YAML as it is. `crier hash-password` makes one. The format's pattern is
 * the config's (src/config/schema.ts: PASSWORD_HASH), which checks a hash when it loads.
 */

/** About 50 ms and 16 MB per hash on a small server: slow for a guesser, quick for a login. */
const COST = { N: 16384, r: 8, p: 1 };

function derive(password: string, salt: Buffer, length: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new hash of `password`, with a random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, 32, COST);
  return `scrypt:${COST.N}:${COST.r}:${COST.p}:${salt.toString('base64url')}:${key.toString('base64url')}`;
}

/** Whether `password` is the one `hash` was made of (in constant time). */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = PASSWORD_HASH.exec(hash);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A hash with absurd parameters would let a config tie up the server's memory.
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5], 'base64url');
  const actual = await derive(password, Buffer.from(m[4], 'base64url'), expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** A hash nobody's password matches, checked for unknown users so that a login takes as long for a name that does not exist. */
export const DUMMY_HASH = 'scrypt:16384:8:1:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
