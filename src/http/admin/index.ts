import type { Logger } from 'pino';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { Crier } from '../../deployment/deployment.ts';
import type { CrierQueues } from '../../queue/queues.ts';
import { registerActions } from './actions.ts';
import { adminUsers, registerAuth, type AdminConfig } from './auth.ts';
import { registerBoard } from './board.ts';
import { registerPages, sendPage, type Site, type SiteOf } from './pages.ts';
import { registerTenantList, tenantBase, type Tenants } from './tenants.ts';
import { ADMIN, errorPage } from './views.ts';

/** What the dashboard uses: the deployment, the process's queues and http.admin. */
export interface AdminDeps {
  /** The deployment; in a deployment of many the first tenant. */
  crier: Crier;
  /** The process's queues; in a deployment of many the shared ones, each tenant's pages acting through its view of them. */
  queues: CrierQueues;
  admin: AdminConfig;
  /** A deployment of many: the tenant list at /admin, each running tenant's pages under /admin/t/<id>/. */
  many?: Tenants;
  /** Where logins, refused forms and failed requests are logged: the process's logger, no one tenant's. */
  log: Logger;
}

/**
 * The dashboard, registered under /admin: the login (auth.ts), one deployment's pages
 * (pages.ts) and buttons (actions.ts), or in a deployment of many the tenant list (tenants.ts)
 * and those pages for each tenant under its own address, and bull-board (board.ts) once. Every
 * route but the login needs a session (one login for every tenant: http.admin is shared);
 * every form of it carries a CSRF token (the secret in a signed, SameSite=Strict cookie).
 */
export async function registerAdmin(app: FastifyInstance, { crier, queues, admin, many, log }: AdminDeps): Promise<void> {
  const users = adminUsers(admin);
  await app.register(cookie, { secret: admin.sessionSecrets });
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await app.register(csrf, { cookieKey: 'crier_csrf', cookieOpts: { path: ADMIN, sameSite: 'strict', httpOnly: true, signed: true } });
  await app.register(rateLimit, { global: false, hook: 'preHandler' });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 403 && error.code?.startsWith('FST_CSRF')) {
      log.warn({ user: req.adminUser, path: req.url }, 'dashboard form refused: no valid CSRF token');
      return sendPage(reply, errorPage('Form expired', 'This form was refused: it carries no valid token (it is old, or it was not sent from the dashboard). Reload the page and try again.'), 403);
    }
    if (status === 429) return sendPage(reply.header('retry-after', '60'), errorPage('Too many attempts', 'Too many login attempts for this user from your address. Wait a minute, then try again.'), 429);
    if (status >= 500) log.error({ method: req.method, path: req.url, err: error.message }, 'dashboard request failed');
    return sendPage(reply, errorPage(status >= 500 ? 'Something went wrong' : 'Refused', status >= 500 ? `The request failed: ${error.message}` : error.message), status);
  });
  registerAuth(app, admin, users, log);
  // An address under /admin that is no page is answered after the session check, like the
  // pages: who is not logged in learns nothing from it (which tenants run, say).
  app.setNotFoundHandler((_req, reply) => sendPage(reply, errorPage('Not found', 'There is no such page.'), 404));
  if (!many) {
    const site: Site = { crier, base: ADMIN, queues };
    await registerSite(app, () => site);
  } else {
    registerTenantList(app, many);
    await app.register((scope) => registerTenantSites(scope, many.running, queues), { prefix: '/t/:tenant' });
  }
  await app.register((board) => registerBoard(board, queues));
}

/**
 * Every running tenant's pages and buttons, under /t/<id>/ (this scope's prefix), each request
 * acting on the tenant its address names. An address of a tenant that does not run is not found,
 * answered after the session check.
 */
async function registerTenantSites(app: FastifyInstance, running: Tenants['running'], queues: CrierQueues): Promise<void> {
  const sites = new Map<string, Site>(
    running.map((crier) => {
      const id = crier.config.tenant!;
      return [id, { crier, base: tenantBase(id), tenant: id, queues: queues.forTenant(id, crier.ledger) }];
    }),
  );
  const idOf = (req: FastifyRequest) => (req.params as { tenant: string }).tenant;
  app.addHook('onRequest', async (req, reply) => {
    if (!sites.has(idOf(req))) return sendPage(reply, errorPage('Not found', `No tenant '${idOf(req)}' runs in this deployment: the tenant list says which do.`), 404);
  });
  await registerSite(app, (req) => sites.get(idOf(req))!);
}

/** A site's pages and buttons (one deployment's, or every tenant's of many, by their address). */
async function registerSite(app: FastifyInstance, siteOf: SiteOf): Promise<void> {
  registerPages(app, siteOf);
  // Every POST of the buttons checks the CSRF token (the login and logout check theirs in auth.ts).
  await app.register(async (forms) => {
    forms.addHook('preHandler', forms.csrfProtection);
    registerActions(forms, siteOf);
  });
}
