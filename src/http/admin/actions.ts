import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { resumeRun, retryRun, runNow } from '../../queue/actions.ts';
import { idOf, sendPage, type SiteOf } from './pages.ts';
import { errorPage } from './views.ts';

/**
 * The dashboard's buttons: what `crier run`, `crier retry` (and `--unknown`) and `crier resume`
 * do, through the same engine functions (src/queue/actions.ts). Each answers with a redirect to
 * the run's page (a reload does not post again), which says what happened. Registered in a scope
 * whose every POST checks the CSRF token. Each acts on the site its address names, through that
 * site's queues (a tenant's jobs carry the tenant, so the shared workers send them from its ledger).
 */
export function registerActions(app: FastifyInstance, siteOf: SiteOf): void {
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) => sendPage(reply, errorPage(title, message, siteOf(req).base), status);

  app.post('/schedules/:schedule/run', async (req, reply) => {
    const { crier, base, queues } = siteOf(req);
    const { log } = crier;
    const scheduleId = (req.params as { schedule: string }).schedule;
    const body = (req.body ?? {}) as { at?: string; variant?: string };
    const book = await crier.schedules();
    const schedule = book.all.find((s) => s.id === scheduleId);
    if (!schedule) return refuse(req, reply, 404, 'Not found', `There is no schedule '${scheduleId}' in the config.`);
    // A datetime-local field: wall-clock time in the schedule's zone, as `crier run --at` reads it.
    const atText = String(body.at ?? '').trim();
    const at = atText ? DateTime.fromISO(atText, { zone: schedule.timezone }) : undefined;
    if (at && !at.isValid) return refuse(req, reply, 400, 'Not a date and time', `'${atText}' is not a date and time; pick one, or leave it empty for the next occurrence.`);
    let result;
    try {
      result = await runNow(crier, queues, { scheduleId, at, variant: String(body.variant ?? '') || undefined, file: crier.config.file });
    } catch (e) {
      return refuse(req, reply, 400, 'Nothing to run', (e as Error).message);
    }
    const { run, revived } = result;
    log.info({ user: req.adminUser, schedule: scheduleId, run: run.id, created: run.created, revived }, 'run requested from the dashboard');
    return reply.redirect(`${base}/runs/${run.id}?done=${run.created ? 'created' : revived ? 'revived' : 'exists'}`, 303);
  });

  app.post('/runs/:run/retry', async (req, reply) => {
    const { crier, base, queues } = siteOf(req);
    const { log } = crier;
    const id = idOf((req.params as { run: string }).run);
    if (!id || !(await crier.ledger.run(id))) return refuse(req, reply, 404, 'Not found', 'There is no such run.');
    const unknown = (req.body as { unknown?: string } | undefined)?.unknown === '1';
    const { requeued, suppressed } = await retryRun(crier.ledger, queues, id, { unknown });
    log.info({ user: req.adminUser, run: id, unknown, requeued: requeued.length, suppressed: suppressed.length }, 'retry requested from the dashboard');
    return reply.redirect(`${base}/runs/${id}?done=${unknown ? 'retried-unknown' : 'retried'}&n=${requeued.length}&kept=${suppressed.length}`, 303);
  });

  app.post('/runs/:run/resume', async (req, reply) => {
    const { crier, base, queues } = siteOf(req);
    const { log } = crier;
    const id = idOf((req.params as { run: string }).run);
    if (!id || !(await crier.ledger.run(id))) return refuse(req, reply, 404, 'Not found', 'There is no such run.');
    const result = await resumeRun(crier.ledger, queues, id);
    log.info({ user: req.adminUser, run: id, resumed: result.resumed }, 'resume requested from the dashboard');
    return reply.redirect(`${base}/runs/${id}?done=${result.resumed ? `resumed&n=${result.requeued.length}` : 'not-paused'}`, 303);
  });
}
