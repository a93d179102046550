import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Duration } from 'luxon';
import type { Logger } from 'pino';
import type { CrierConfig } from '../../config/load.ts';
import { DUMMY_HASH, verifyPassword } from './passwords.ts';
import { loginPage } from './views.ts';

/*
 * The dashboard's login. A session is a signed cookie (@fastify/cookie, http.admin.sessionSecrets)
 * holding the user, when it ends, and a fingerprint of the user's password hash, so that
 * changing a password (or removing a user) ends their sessions. Nothing is kept on the server:
 * every replica accepts a session any replica made.
 */

/** http.admin of the config. */
export type AdminConfig = NonNullable<NonNullable<CrierConfig['http']>['admin']>;

/** The session cookie's name; its path is /admin only. */
const SESSION = 'crier_admin';

/** Login attempts per client address and user name, per minute. */
export const LOGIN_ATTEMPTS = { max: 5, timeWindow: 60_000 };

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in user of a dashboard request (set by the session check). */
    adminUser?: string;
  }
  interface FastifyContextConfig {
    /** A dashboard route open without a session: the login. */
    public?: boolean;
  }
}

/** The users that may log in: http.admin.users, with those of http.admin.usersFile (read when the config loaded). */
export function adminUsers(admin: AdminConfig): Map<string, string> {
  return new Map(Object.entries(admin.users));
}

const fingerprint = (hash: string) => createHash('sha256').update(hash).digest('base64url').slice(0, 16);

/** Where to go after logging in: a dashboard page, never another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin(\/[^\\]*)?$/.test(next) && !next.startsWith('//') ? next : '/admin';
}

/**
 * The login and logout routes, and the check that every other route of the scope (bull-board's
 * included) runs for a logged-in user only: a page is redirected to the login, anything else gets 401.
 */
export function registerAuth(app: FastifyInstance, admin: AdminConfig, users: Map<string, string>, log: Logger): void {
  const ttlMs = Duration.fromISO(admin.sessionTtl).toMillis();

  const userOf = (req: FastifyRequest): string | undefined => {
    const raw = req.cookies[SESSION];
    if (!raw) return undefined;
    const unsigned = req.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return undefined;
    const [expires, print, ...rest] = unsigned.value.split(':');
    const user = rest.join(':');
    const hash = users.get(user);
    if (!hash || Number(expires) < Date.now() || print !== fingerprint(hash)) return undefined;
    return user;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public) return;
    const user = userOf(req);
    if (user) {
      req.adminUser = user;
      return;
    }
    if (req.method === 'GET' && req.headers.accept?.includes('text/html')) return reply.redirect(`/admin/login?next=${encodeURIComponent(req.url)}`, 303);
    return reply.code(401).header('cache-control', 'no-store').send({ error: 'log in at /admin/login' });
  });

  const showLogin = async (req: FastifyRequest, reply: FastifyReply, status: number, error?: string) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(loginPage({ csrf: await reply.generateCsrf(), next: safeNext((req.query as { next?: string }).next ?? (req.body as { next?: string } | undefined)?.next), error }).text);

  app.get('/login', { config: { public: true } }, (req, reply) => showLogin(req, reply, 200));

  app.post(
    '/login',
    {
      config: {
        public: true,
        rateLimit: {
          ...LOGIN_ATTEMPTS,
          // Per address and user: one person's typos do not lock the others out behind a shared proxy.
          keyGenerator: (req: FastifyRequest) => `${req.ip}|${String((req.body as { username?: string } | undefined)?.username ?? '').toLowerCase()}`,
        },
      },
      preHandler: app.csrfProtection,
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as { username?: string; password?: string; next?: string };
      const username = String(body.username ?? '').trim();
      const hash = users.get(username);
      // An unknown user costs as much as a wrong password: the answer does not tell which.
      const ok = (await verifyPassword(String(body.password ?? ''), hash ?? DUMMY_HASH)) && hash !== undefined;
      if (!ok) {
        log.warn({ user: username, ip: req.ip }, 'dashboard login refused');
        return showLogin(req, reply, 401, 'Wrong user name or password.');
      }
      const expires = Date.now() + ttlMs;
      log.info({ user: username, ip: req.ip }, 'dashboard login');
      return reply
        .setCookie(SESSION, `${expires}:${fingerprint(hash!)}:${username}`, { signed: true, httpOnly: true, sameSite: 'strict', path: '/admin', secure: req.protocol === 'https', expires: new Date(expires) })
        .redirect(safeNext(body.next), 303);
    },
  );

  app.post('/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    log.info({ user: req.adminUser }, 'dashboard logout');
    return reply.clearCookie(SESSION, { path: '/admin' }).redirect('/admin/login', 303);
  });
}
