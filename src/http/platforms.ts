import pLimit from 'p-limit';
import type { Crier } from '../deployment/deployment.ts';
import type { Platform } from '../platform/platform.ts';
import { within } from './deadline.ts';

/*
 * Asking every tenant's platform something (is it there, what is its name) for /readyz and the
 * dashboard's tenant list, in a deployment of many. The tenants' platforms are sessions of a few
 * shared connections per database (src/db.ts, SharedPools), which the workers need too: a
 * handful at a time, not 500 at once. And however many tenants there are, the whole answer
 * comes within the one time limit, so a probe's timeout need not grow with the deployment.
 */

/** Tenants' platforms asked at once (a shared pool has 10 connections). */
export const PLATFORMS_AT_ONCE = 4;

/** A tenant's answer, or why there is none. */
export type PlatformAnswer<T> = { tenant: string; ok: true; value: T } | { tenant: string; ok: false; error: string };

/**
 * `ask` of each tenant's platform (connected on first use), PLATFORMS_AT_ONCE at a time, every
 * answer within `ms` of now. A tenant whose turn comes after that is not asked and says so: with
 * hundreds of tenants behind one that does not answer, the probe reports in time rather than late.
 */
export function askEachPlatform<T>(tenants: readonly Crier[], ask: (platform: Platform) => Promise<T>, ms: number): Promise<PlatformAnswer<T>[]> {
  const deadline = Date.now() + ms;
  const limit = pLimit(PLATFORMS_AT_ONCE);
  const seconds = ms / 1000;
  return Promise.all(
    tenants.map((crier) =>
      limit(async (): Promise<PlatformAnswer<T>> => {
        const tenant = crier.config.tenant ?? crier.config.platform.tenant;
        const left = deadline - Date.now();
        if (left <= 0) return { tenant, ok: false, error: `not asked: the platforms asked before it used up the ${seconds} s` };
        try {
          return { tenant, ok: true, value: await within(left, crier.platform().then(ask), `no answer within ${seconds} s`) };
        } catch (e) {
          return { tenant, ok: false, error: (e as Error).message };
        }
      }),
    ),
  );
}
