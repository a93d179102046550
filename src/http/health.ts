import type { FastifyInstance } from 'fastify';
import type { Crier } from '../deployment/deployment.ts';
import type { CrierQueues } from '../queue/queues.ts';
import { within } from '../deadline.ts';
import { checkEachPlatform } from './platforms.ts';
import * as Q from './queries.ts';

/** The tick is late after this long: it fires every minute. */
export const TICK_STALE_MS = 2 * 60_000;
/** How long one readiness check may take before it counts as not answering. */
const CHECK_TIMEOUT_MS = 3000;

/**
 * When the tick last finished, in the whole deployment (any replica's tick counts: it is one
 * BullMQ job scheduler): the newest of the completed tick jobs BullMQ keeps. Undefined when
 * none is kept (a Redis just emptied; the heartbeat rebuilds the tick within seconds).
 */
export async function lastTickAt(queues: CrierQueues): Promise<Date | undefined> {
  const [job] = await queues.tick.getCompleted(0, 0);
  return job?.finishedOn ? new Date(job.finishedOn) : undefined;
}

/** One readiness check: ok, or what is wrong. */
interface Check {
  ok: boolean;
  error?: string;
}

async function check(run: () => Promise<unknown>): Promise<Check> {
  try {
    await within(CHECK_TIMEOUT_MS, run());
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Tenants named in the platform check's error (all of them are in `failed`). */
const NAMED = 10;

/** The platform check of a deployment of many: how many tenants were checked, and each that failed with why. */
interface PlatformsCheck extends Check {
  tenants: number;
  failed: { tenant: string; error: string }[];
}

/**
 * Every running tenant's platform: its schema is there (a tenant removed from the platform
 * while Crier runs shows too), a few tenants at a time over the shared connections, all within
 * the one check's time limit (src/http/platforms.ts). Failing only when none answers; the
 * tenants that do not are named either way.
 */
async function platformsCheck(tenants: readonly Crier[]): Promise<PlatformsCheck> {
  const answers = await checkEachPlatform(tenants, CHECK_TIMEOUT_MS);
  const failed = answers.flatMap((a) => (a.ok ? [] : [{ tenant: a.tenant, error: a.error }]));
  if (!failed.length) return { ok: true, tenants: tenants.length, failed };
  const named = failed.slice(0, NAMED).map((f) => f.tenant).join(', ') + (failed.length > NAMED ? ` and ${failed.length - NAMED} more` : '');
  // Not ready only when no tenant's platform answers: one tenant gone from the platform must not
  // take the process out of service for the others (their sends, their unsubscribe links). A
  // tenant not asked in time is not known to be down: the ones before it took the time.
  const ok = answers.some((a) => a.ok || a.notAsked);
  return { ok, error: `the platform of ${failed.length} of ${tenants.length} tenants does not answer: ${named}`, tenants: tenants.length, failed };
}

/**
 * GET /healthz: the process answers (a container's HEALTHCHECK; nothing else is asked, so a
 * database outage does not get the worker restarted). GET /readyz: the ledger, Redis and the
 * platform answer and the tick ran within two minutes; 503 with what is wrong otherwise. In a
 * deployment of many (`tenants`), the platform of every running tenant, and which failed.
 */
export function registerHealth(app: FastifyInstance, crier: Crier, queues: CrierQueues, tenants?: readonly Crier[]): void {
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ ok: true }));

  app.get('/readyz', async (_req, reply) => {
    const [ledger, redis, platform, tick] = await Promise.all([
      check(() => crier.ledger.pool.query(Q.LEDGER_ANSWERS)),
      check(() => queues.connection.ping()),
      tenants ? platformsCheck(tenants) : check(async () => (await crier.platform()).stillThere()),
      (async (): Promise<Check & { lastAt: string | null }> => {
        try {
          const at = await within(CHECK_TIMEOUT_MS, lastTickAt(queues));
          if (!at) return { ok: false, lastAt: null, error: 'the tick has not run yet (or Redis lost its record of it)' };
          const ago = Date.now() - at.getTime();
          return ago <= TICK_STALE_MS ? { ok: true, lastAt: at.toISOString() } : { ok: false, lastAt: at.toISOString(), error: `the tick last ran ${Math.round(ago / 1000)} s ago` };
        } catch (e) {
          return { ok: false, lastAt: null, error: (e as Error).message };
        }
      })(),
    ]);
    const checks = { ledger, redis, platform, tick };
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send({ ok, checks });
  });
}
