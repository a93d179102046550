import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Crier } from '../deployment/deployment.ts';
import type { CrierQueues } from '../queue/queues.ts';
import { sendTimings, type SendTiming } from '../delivery/send-latency.ts';
import { lastTickAt } from './health.ts';
import * as Q from './queries.ts';

/*
 * GET /metrics, for Prometheus. The figures of the deployment (runs, deliveries and inbound
 * messages in the ledger, jobs in BullMQ's queues, when the tick last ran) are read when
 * scraped, so every replica reports the same truth and nothing is counted twice. Send latency
 * is this process's: observed where a message is handed to the transport (src/delivery/send.ts).
 */

/** BullMQ job states reported per queue. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/**
 * The registry of one server, with its collectors; `close` stops listening for send times.
 * In a deployment of many tenants, the ledger's figures carry a `tenant` label.
 */
export function createMetrics(tenants: Crier[], queues: CrierQueues): { registry: Registry; close(): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const many = tenants.some((t) => t.config.tenant !== undefined);
  const tenantLabel = many ? ['tenant'] : [];
  /** The gauge set from one query's rows in every tenant's ledger. */
  const fromLedgers = async (gauge: Gauge<string>, sql: string, labels: string[]) => {
    const all = await Promise.all(tenants.map(async (t) => ({ tenant: t.config.tenant, rows: (await t.ledger.pool.query(sql)).rows as Record<string, unknown>[] })));
    gauge.reset();
    for (const { tenant, rows } of all) {
      for (const row of rows) gauge.set({ ...(many ? { tenant: tenant! } : {}), ...Object.fromEntries(labels.map((l) => [l, String(row[l === 'schedule' ? 'schedule_id' : l])])) }, Number(row.n));
    }
  };
  new Gauge({
    name: 'crier_runs',
    help: 'Runs in the ledger, by schedule, job kind and status.',
    labelNames: [...tenantLabel, 'schedule', 'job', 'status'],
    registers: [registry],
    async collect() {
      await fromLedgers(this, Q.RUN_COUNTS, ['schedule', 'job', 'status']);
    },
  });
  new Gauge({
    name: 'crier_deliveries',
    help: 'Deliveries in the ledger, by their run\'s schedule and job kind, and status (sent, skipped, failed, bounced, unknown, pending, sending).',
    labelNames: [...tenantLabel, 'schedule', 'job', 'status'],
    registers: [registry],
    async collect() {
      await fromLedgers(this, Q.DELIVERY_COUNTS, ['schedule', 'job', 'status']);
    },
  });
  new Gauge({
    name: 'crier_inbound_messages',
    help: 'Inbound messages in the ledger, by kind (answer, unverified, unmatched, auto-reply, bounce, error, unprocessed).',
    labelNames: [...tenantLabel, 'kind'],
    registers: [registry],
    async collect() {
      await fromLedgers(this, Q.INBOUND_COUNTS, ['kind']);
    },
  });
  new Gauge({
    name: 'crier_queue_jobs',
    help: "Jobs in BullMQ's queues (tick, runs, deliveries), by state. A delivery job is a page of up to 50 deliveries.",
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of [queues.tick, queues.runs, queues.deliveries]) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'crier_tick_lag_seconds',
    help: 'Seconds since the tick (every minute, in any replica) last finished; absent when Redis keeps no record of one.',
    registers: [registry],
    async collect() {
      this.reset();
      const at = await lastTickAt(queues);
      if (at) this.set((Date.now() - at.getTime()) / 1000);
    },
  });
  const latency = new Histogram({
    name: 'crier_send_duration_seconds',
    help: 'Time to hand one message to the transport (SMTP: from the first command to the answer after the final dot), in this process; outcome ok or failed.',
    labelNames: ['outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const onSend = (message: unknown) => {
    const t = message as SendTiming;
    latency.observe({ outcome: t.ok ? 'ok' : 'failed' }, t.seconds);
  };
  sendTimings.subscribe(onSend);
  return { registry, close: () => sendTimings.unsubscribe(onSend) };
}

export function registerMetrics(app: FastifyInstance, metrics: { registry: Registry }): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}
