import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { Crier } from '../../deployment/deployment.ts';
import type { CrierQueues } from '../../queue/queues.ts';
import { registerActions } from './actions.ts';
import { adminUsers, registerAuth, type AdminConfig } from './auth.ts';
import { registerBoard } from './board.ts';
import { registerPages, sendPage } from './pages.ts';
import { errorPage } from './views.ts';

/** What the dashboard uses: the deployment, the process's queues and http.admin. */
export interface AdminDeps {
  crier: Crier;
  queues: CrierQueues;
  admin: AdminConfig;
}

/**
 * The dashboard, registered under /admin: the login (auth.ts), the pages (pages.ts), the
 * buttons (actions.ts) and bull-board (board.ts). Every route but the login needs a session;
 * every form of it carries a CSRF token (the secret in a signed, SameSite=Strict cookie).
 */
export async function registerAdmin(app: FastifyInstance, { crier, queues, admin }: AdminDeps): Promise<void> {
  const users = adminUsers(admin);
  await app.register(cookie, { secret: admin.sessionSecrets });
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await app.register(csrf, { cookieKey: 'crier_csrf', cookieOpts: { path: '/admin', sameSite: 'strict', httpOnly: true, signed: true } });
  await app.register(rateLimit, { global: false, hook: 'preHandler' });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 403 && error.code?.startsWith('FST_CSRF')) {
      crier.log.warn({ user: req.adminUser, path: req.url }, 'dashboard form refused: no valid CSRF token');
      return sendPage(reply, errorPage('Form expired', 'This form was refused: it carries no valid token (it is old, or it was not sent from the dashboard). Reload the page and try again.'), 403);
    }
    if (status === 429) return sendPage(reply.header('retry-after', '60'), errorPage('Too many attempts', 'Too many login attempts for this user from your address. Wait a minute, then try again.'), 429);
    if (status >= 500) crier.log.error({ method: req.method, path: req.url, err: error.message }, 'dashboard request failed');
    return sendPage(reply, errorPage(status >= 500 ? 'Something went wrong' : 'Refused', status >= 500 ? `The request failed: ${error.message}` : error.message), status);
  });
  registerAuth(app, admin, users, crier.log);
  registerPages(app, crier);
  // Every POST of the buttons checks the CSRF token (the login and logout check theirs in auth.ts).
  await app.register(async (forms) => {
    forms.addHook('preHandler', forms.csrfProtection);
    registerActions(forms, crier, queues);
  });
  await app.register((board) => registerBoard(board, queues));
}
