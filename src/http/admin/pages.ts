import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import type { Crier } from '../../deployment/deployment.ts';
import type { CrierQueues } from '../../queue/queues.ts';
import { nextOccurrences } from '../../schedule/occurrences.ts';
import type { Html } from './html.ts';
import * as Q from '../queries.ts';
import { composeSentEmail } from './email.ts';
import { reviewsPage, type ReviewedSchedule } from './reviews.ts';
import { operatorOf } from '../../config/addresses.ts';
import { REVIEW } from '../../review/plan.ts';
import { reviewStatus } from '../../review/status.ts';
import { callsPage, emailPage, errorPage, runPage, runsPage, schedulesPage, suppressionsPage, type Chrome, type DeliveryLine } from './views.ts';

/** Occurrences listed per schedule. */
const OCCURRENCES = 5;
/** Runs on the runs page. */
const RECENT_RUNS = 50;
/** Deliveries per page under a run (a run may have 100,000). */
const DELIVERIES_PER_PAGE = 200;
/** Sends looked at for a reviewed schedule's next round (each occurrence plans a round, its deadline and the send). */
const NEXT_SENDS = 6;
/** Suppressions listed (the command lists them all). */
const SUPPRESSIONS_SHOWN = 1000;
const STATUSES = ['pending', 'sending', 'sent', 'failed', 'skipped', 'bounced', 'unknown'];

/** The dashboard's pages are never cached, framed, indexed or sent on as a referrer, and run no script. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** An e-mail's HTML, shown in a frame of the dashboard: sandboxed, no script, nothing fetched but images. */
const EMAIL_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'";

export function sendPage(reply: FastifyReply, body: Html, status = 200) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('x-robots-tag', 'noindex, nofollow')
    .header('content-security-policy', PAGE_POLICY)
    .send(body.text);
}

/** What a button's redirect (`?done=…&n=…`) reports on the page it lands on. */
function noticeOf(query: Record<string, string | undefined>): string | undefined {
  const n = Number(query.n ?? 0);
  const kept = Number(query.kept ?? 0);
  switch (query.done) {
    case 'created':
      return 'The run is recorded and queued: the workers send it now.';
    case 'exists':
      return 'This occurrence was recorded already: nothing new is sent.';
    case 'revived':
      return 'This occurrence had been missed or had failed to be prepared: it is tried again. Deliveries sent before stay sent.';
    case 'retried':
      return `${n ? `${n} failed delivery(ies) are queued again` : 'No failed delivery to send again'}${kept ? `; ${kept} stay failed because their address is suppressed (crier suppressions remove ADDRESS first)` : ''}.`;
    case 'retried-unknown':
      return n ? `${n} delivery(ies) whose outcome was unknown are queued again.` : 'No delivery whose outcome is unknown.';
    case 'resumed':
      return `The run continues: ${n} waiting delivery(ies) are queued; its failed ones stay failed.`;
    case 'not-paused':
      return 'The run is not paused: there is nothing to resume.';
    default:
      return undefined;
  }
}

/** A run's or delivery's id from the address; undefined for anything else. */
export const idOf = (text: string) => (/^[1-9]\d{0,15}$/.test(text) ? Number(text) : undefined);

/**
 * One deployment's part of the dashboard: its Crier, where its pages are and the queues its
 * buttons use. In a deployment of many each tenant is one, found by its address: a page reads
 * only its tenant's ledger and config, so another tenant's run id is not found there.
 */
export interface Site {
  crier: Crier;
  /** Where the pages are: /admin, or /admin/t/<id> for a tenant of many. */
  base: string;
  /** A tenant of many: its id (the header names it; the commands a page shows take --tenant). */
  tenant?: string;
  /** The queues the buttons put jobs on: a tenant's view of the shared ones, whose jobs carry it. */
  queues: CrierQueues;
}

/**
 * Which site a request is about: the one deployment's, or the tenant's its address names. The
 * routes are registered once for every tenant (not once per tenant: 500 tenants' routes would
 * take seconds to register and tens of megabytes to hold).
 */
export type SiteOf = (req: FastifyRequest) => Site;

/** A site's page header: the user, the form token, where its links go. */
async function chromeOf(site: Site, req: FastifyRequest, reply: FastifyReply): Promise<Chrome> {
  return {
    user: req.adminUser ?? '',
    csrf: await reply.generateCsrf(),
    organization: site.crier.config.organization.name,
    base: site.base,
    ...(site.tenant === undefined ? {} : { many: { tenant: site.tenant } }),
  };
}

/** The dashboard's pages (GET) of a site: schedules, runs, a run, an e-mail, the project call, reviews, suppressions. */
export function registerPages(app: FastifyInstance, siteOf: SiteOf): void {
  const chrome = (req: FastifyRequest, reply: FastifyReply) => chromeOf(siteOf(req), req, reply);
  const zones = async (crier: Crier) => {
    const book = await crier.schedules();
    return (id: string) => book.all.find((s) => s.id === id)?.timezone ?? 'UTC';
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply, message: string) => sendPage(reply, errorPage('Not found', message, siteOf(req).base), 404);

  app.get('/', async (req, reply) => {
    const { crier } = siteOf(req);
    const book = await crier.schedules();
    const now = DateTime.fromJSDate(crier.now());
    const schedules = book.all.map((s) => ({
      id: s.id,
      job: s.job,
      timezone: s.timezone,
      enabled: s.enabled,
      occurrences: s.enabled ? nextOccurrences(s.triggers, now, OCCURRENCES) : [],
      variants: [...new Set(book.nextRuns(s, now, 6).map((r) => r.variant))],
    }));
    const zoneOf = await zones(crier);
    return sendPage(reply, schedulesPage(await chrome(req, reply), schedules, await crier.ledger.pausedRuns(), zoneOf, noticeOf(req.query as Record<string, string>)));
  });

  app.get('/runs', async (req, reply) => {
    const { crier } = siteOf(req);
    return sendPage(reply, runsPage(await chrome(req, reply), await crier.ledger.recentRuns(RECENT_RUNS), await zones(crier)));
  });

  app.get('/runs/:run', async (req, reply) => {
    const { crier } = siteOf(req);
    const id = idOf((req.params as { run: string }).run);
    const run = id && (await crier.ledger.run(id));
    if (!run) return notFound(req, reply, 'There is no such run.');
    const query = req.query as Record<string, string | undefined>;
    const filter = query.status && STATUSES.includes(query.status) ? query.status : undefined;
    const after = idOf(query.after ?? '') ?? 0;
    const [counts, problems, page] = await Promise.all([
      crier.ledger.deliveryCounts(run.id),
      crier.ledger.pool.query<DeliveryLine>(Q.RUN_PROBLEMS, [run.id, DELIVERIES_PER_PAGE]),
      crier.ledger.pool.query<DeliveryLine>(Q.DELIVERIES_PAGE, [run.id, filter ?? null, after, DELIVERIES_PER_PAGE]),
    ]);
    const deliveries = page.rows;
    const next = deliveries.length === DELIVERIES_PER_PAGE ? deliveries[deliveries.length - 1].id : undefined;
    return sendPage(reply, runPage(await chrome(req, reply), { run, counts, problems: problems.rows, deliveries, filter, next }, noticeOf(query)));
  });

  app.get('/runs/:run/deliveries/:delivery', async (req, reply) => {
    const { crier, base } = siteOf(req);
    const params = req.params as { run: string; delivery: string };
    const [runId, deliveryId] = [idOf(params.run), idOf(params.delivery)];
    if (!runId || !deliveryId) return notFound(req, reply, 'There is no such delivery.');
    const email = await composeSentEmail(crier, runId, deliveryId);
    if ('missing' in email) return notFound(req, reply, email.missing);
    const to = email.message.to as { name: string; address: string };
    return sendPage(
      reply,
      emailPage(await chrome(req, reply), {
        run: email.run,
        delivery: email.delivery,
        subject: String(email.message.subject ?? ''),
        from: String(email.message.from ?? ''),
        to: `${to.name} <${to.address}>`,
        text: String(email.message.text ?? ''),
        htmlUrl: `${base}/runs/${runId}/deliveries/${deliveryId}/email.html`,
      }),
    );
  });

  app.get('/runs/:run/deliveries/:delivery/email.html', async (req, reply) => {
    const { crier } = siteOf(req);
    const params = req.params as { run: string; delivery: string };
    const [runId, deliveryId] = [idOf(params.run), idOf(params.delivery)];
    const email = runId && deliveryId ? await composeSentEmail(crier, runId, deliveryId) : { missing: 'There is no such delivery.' };
    if ('missing' in email) return notFound(req, reply, email.missing);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', EMAIL_POLICY)
      .send(String(email.message.html ?? ''));
  });

  app.get('/calls', async (req, reply) => {
    const { crier } = siteOf(req);
    const book = await crier.schedules();
    const calls = book.all.filter((s) => s.job === 'project-call');
    const rounds = [];
    for (const s of calls) {
      const round = await crier.rounds.latest([s.id]);
      if (round) rounds.push({ round, zone: s.timezone });
    }
    const none = calls.length ? 'No project call has gone out yet.' : 'The config has no project-call schedule.';
    return sendPage(reply, callsPage(await chrome(req, reply), rounds, none));
  });

  app.get('/reviews', async (req, reply) => {
    const { crier } = siteOf(req);
    const book = await crier.schedules();
    const now = crier.now();
    const schedules: ReviewedSchedule[] = [];
    for (const s of book.all.filter((x) => x.review)) {
      const status = await reviewStatus(crier.ledger, [s], now);
      const nextRound = status || !s.enabled ? undefined : book.nextRuns(s, DateTime.fromJSDate(now), NEXT_SENDS).find((r) => r.variant === REVIEW)?.at;
      schedules.push({ id: s.id, job: s.job, timezone: s.timezone, enabled: s.enabled, status, nextRound });
    }
    // Item titles in the superadmin's language, the one their notices are written in.
    return sendPage(reply, reviewsPage(await chrome(req, reply), schedules, operatorOf(crier.config).locale));
  });

  app.get('/suppressions', async (req, reply) => {
    const { crier } = siteOf(req);
    const all = await crier.ledger.suppressions();
    return sendPage(reply, suppressionsPage(await chrome(req, reply), all.slice(0, SUPPRESSIONS_SHOWN), all.length));
  });
}
