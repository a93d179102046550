import pLimit from 'p-limit';
import type { Crier } from '../deployment/deployment.ts';
import type { Platform } from '../platform/platform.ts';
import { within } from '../deadline.ts';

/*
 * Checking every tenant's platform (is it there; its name comes with it) for /readyz and the
 * dashboard's tenant list, in a deployment of many. The tenants' platforms are sessions of a few
 * shared connections per database (src/db.ts, SharedPools), which the workers need too: a
 * handful at a time, not 500 at once, and one check per tenant under way at most, however often
 * the probes come. And however many tenants there are, the whole answer comes within the one
 * time limit, so a probe's timeout need not grow with the deployment.
 */

/** Tenants' platforms asked at once (a shared pool has 10 connections). */
export const PLATFORMS_AT_ONCE = 4;

/** A tenant's answer, or why there is none. */
export type PlatformAnswer<T> = { tenant: string; ok: true; value: T } | { tenant: string; ok: false; error: string; notAsked?: true };

/**
 * Checks under way, per tenant: a probe every few seconds waits for the one a slow platform
 * still owes, rather than piling another query on it; after CHECK_KEPT_MS it asks afresh, so a
 * check that never settles (a connection the network dropped) does not stand for the platform.
 */
const checking = new WeakMap<Crier, { check: Promise<Platform>; since: number }>();
const CHECK_KEPT_MS = 30_000;

/** The tenant's platform, once it is known to still be there (connected on first use; see Platform.stillThere). */
function stillThere(crier: Crier): Promise<Platform> {
  const kept = checking.get(crier);
  if (kept && Date.now() - kept.since < CHECK_KEPT_MS) return kept.check;
  const check = crier
    .platform()
    .then(async (platform) => {
      await platform.stillThere();
      return platform;
    })
    .finally(() => {
      if (checking.get(crier)?.check === check) checking.delete(crier);
    });
  checking.set(crier, { check, since: Date.now() });
  return check;
}

/**
 * Each tenant's platform, checked to still be there, PLATFORMS_AT_ONCE at a time, every answer
 * within `ms` of now. A tenant whose turn comes after that is not asked and says so: with
 * hundreds of tenants behind one that does not answer, the probe reports in time rather than late.
 */
export function checkEachPlatform(tenants: readonly Crier[], ms: number): Promise<PlatformAnswer<Platform>[]> {
  const deadline = Date.now() + ms;
  const limit = pLimit(PLATFORMS_AT_ONCE);
  const seconds = ms / 1000;
  return Promise.all(
    tenants.map((crier) =>
      limit(async (): Promise<PlatformAnswer<Platform>> => {
        const tenant = crier.config.tenant ?? crier.config.platform.tenant;
        const left = deadline - Date.now();
        if (left <= 0) return { tenant, ok: false, notAsked: true, error: `not asked: the platforms asked before it used up the ${seconds} s` };
        try {
          return { tenant, ok: true, value: await within(left, stillThere(crier), `no answer within ${seconds} s`) };
        } catch (e) {
          return { tenant, ok: false, error: (e as Error).message };
        }
      }),
    ),
  );
}
