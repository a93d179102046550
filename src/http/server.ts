import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { TenantConfig } from '../config/tenants.ts';
import type { Crier } from '../deployment/deployment.ts';
import { CrierQueues } from '../queue/queues.ts';
import { registerHealth } from './health.ts';
import { createMetrics, registerMetrics } from './metrics.ts';
import { registerUnsubscribe } from './unsubscribe.ts';

/*
 * Crier's web endpoint, served by `crier start` when the config has `http:`:
 *
 *   /healthz, /readyz, /metrics   always (health for a container, Prometheus)
 *   /u/TOKEN …                    one-click unsubscribe, with http.secrets (./unsubscribe.ts)
 *   /admin …                      the dashboard behind a login, with http.admin (./admin/); in a
 *                                 deployment of many the tenant list, each tenant's pages under /admin/t/<id>/
 *
 * Each part is a Fastify plugin of its own scope: the unsubscribe routes accept any body,
 * the dashboard has its cookies, CSRF tokens and HTML error pages, and neither leaks into the other.
 */

export interface HttpServer {
  /** Where it listens, e.g. http://127.0.0.1:8080 (not the public address). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Where to listen, and the queues of the process (made here when not given). */
export interface HttpOptions {
  host: string;
  port: number;
  /** The process's BullMQ queues (`crier start` passes its own); a connection of the server's own otherwise. */
  queues?: CrierQueues;
  /**
   * A deployment of many: every running tenant's deployment (`crier` is the first). Metrics
   * carry a tenant label, /readyz checks each tenant's platform, each tenant's unsubscribe
   * links are served under /t/<tenant>/ (its http.publicUrl ends so) and its dashboard pages
   * under /admin/t/<tenant>/.
   */
  tenants?: Crier[];
  /** A deployment of many: the tenants refused at start, listed on the dashboard with their first error. */
  refused?: TenantConfig[];
  /** A deployment of many: the process's logger, for what is no one tenant's (a login; `crier`'s logger names the first tenant). */
  log?: Logger;
}

export async function startHttpServer(crier: Crier, opts: HttpOptions): Promise<HttpServer> {
  const { config, log } = crier;
  const http = config.http;
  // The queues themselves for many (each tenant's jobs go through its view of them), not the first tenant's view.
  const ownQueues = opts.queues ? undefined : CrierQueues.open(opts.tenants ? { ...config, tenant: undefined } : config, crier.ledger, log);
  const queues = opts.queues ?? ownQueues!;
  const app = Fastify({
    logger: false,
    // Forms and bull-board's small JSON bodies; nothing here reads more.
    bodyLimit: 64 * 1024,
    // Unsubscribe tokens are long path segments (the default limit is 100 characters).
    routerOptions: { maxParamLength: 2100 },
    // Behind a reverse proxy: stop idle keep-alive connections on close instead of waiting for them.
    forceCloseConnections: 'idle',
    // The client's address (the login rate limit) and https (Secure cookies) from the proxy's headers.
    trustProxy: http?.trustProxy ?? false,
  });
  const metrics = createMetrics(opts.tenants ?? [crier], queues);
  try {
    registerHealth(app, crier, queues, opts.tenants);
    registerMetrics(app, metrics);
    if (opts.tenants) {
      for (const tenant of opts.tenants) {
        if (tenant.config.http?.secrets?.length) await app.register((scope) => registerUnsubscribe(scope, tenant), { prefix: `/t/${tenant.config.tenant}` });
      }
    } else if (http?.secrets?.length) {
      // One tenant of many served alone (--tenant): its links are under /t/<tenant>/ all the same.
      await app.register((scope) => registerUnsubscribe(scope, crier), config.tenant ? { prefix: `/t/${config.tenant}` } : {});
    }
    if (http?.admin) {
      const { registerAdmin } = await import('./admin/index.ts');
      const many = opts.tenants ? { running: opts.tenants, refused: opts.refused ?? [] } : undefined;
      await app.register((scope) => registerAdmin(scope, { crier, queues, admin: http.admin!, many, log: opts.log ?? crier.log }), { prefix: '/admin' });
    }
    app.setNotFoundHandler((_req, reply) => reply.code(404).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send('Not found\n'));
    app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
      if (status >= 500) log.error({ method: req.method, path: req.routeOptions.url, err: error.message }, 'http request failed');
      return reply.code(status).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(status >= 500 ? 'Temporarily unavailable; please try again later.\n' : `${error.message}\n`);
    });
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    metrics.close();
    await app.close();
    await ownQueues?.close();
    throw e;
  }
  const address = app.server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    async close() {
      metrics.close();
      await app.close();
      await ownQueues?.close();
    },
  };
}
