import type { FastifyInstance } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { CrierQueues } from '../../queue/queues.ts';

/**
 * BullMQ's queues (tick, runs, deliveries) through bull-board, at /admin/queues/, behind the
 * dashboard's login (this is registered inside its scope). Its UI's files are read from
 * @bull-board/ui's own folder in node_modules: the build leaves bull-board unbundled.
 * bull-board's own buttons (retry or clean jobs) send no CSRF token; the session cookie is
 * SameSite=Strict, so another site cannot make a browser send them with it.
 */
export async function registerBoard(app: FastifyInstance, queues: CrierQueues): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath('/admin/queues');
  createBullBoard({
    queues: [queues.tick, queues.runs, queues.deliveries].map((q) => new BullMQAdapter(q)),
    // @bull-board/fastify brings its own copy of @bull-board/api's types: the same adapter, typed twice.
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Crier queues' } },
  });
  await app.register(adapter.registerPlugin(), { prefix: '/queues' });
}
