import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOut } from '../src/delivery/fan-out.ts';
import { forceCommand } from '../src/review/gate.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';
import { openEngine } from './helpers/worker.ts';

/*
 * A reviewed send whose round has not gone out yet (both due in the same minute, when a send
 * window squeezes the round up to its send; a round tried again after the platform was away)
 * waits for it: sent before it, the council would get a report the reviewers are still asked about.
 */
const name = uniqueName('crier_rvg');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
let tenant: Awaited<ReturnType<typeof createTenant>>;
let configFile: string;

beforeAll(async () => {
  tenant = await createTenant(host);
  const resident = await tenant.user({ first_name: 'Eva' });
  const project = await tenant.project({ 'nl-BE': 'Stadspark' }, 'published');
  await tenant.idea({ project_id: project, author_id: resident, published_at: '2026-11-02 10:00:00', title_multiloc: { 'nl-BE': 'Idee' } });
  configFile = writeTestConfig({
    tenant: host,
    name,
    audiences: { council: [{ name: 'Mathias De Clercq', email: 'burgemeester@city.example', locale: 'nl-BE' }], management: [{ name: 'Sofie Secretaris', email: 'secretaris@city.example', locale: 'nl-BE' }] },
    schedules: {
      council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'send' } },
      strict: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'hold' } },
    },
    extra: { inbound: { address: 'review@city.example', secret: 'test-secret-for-the-review-gate-0123' } },
  });
}, 60_000);

afterAll(async () => {
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('a reviewed send and its round', () => {
  it('waits, still due, while its round is due; the round, once out, queues it, and it is sent with the review applied', async () => {
    const { crier, engine, close } = await openEngine(configFile, new Date('2026-12-01T09:00:00Z'));
    try {
      const book = await crier.schedules();
      const schedule = book.get('council');
      const occurrence = DateTime.fromISO('2027-01-04T09:00', { zone });
      const insert = async (variant: string) => {
        const planned = book.pickRun(schedule, occurrence, variant, DateTime.fromISO('2026-12-01T10:00', { zone }));
        return crier.ledger.insertRun({ scheduleId: 'council', key: planned.key, occurrence: planned.occurrence.toJSDate(), job: 'council-update', timezone: zone, origin: 'manual', status: 'due', variant: planned.variant, meta: planned.meta });
      };
      const send = await insert('default');
      const round = await insert('review');

      // Not sent, not failed: still due, nothing written.
      expect(await fanOut(engine, send.id)).toEqual({ fanned: false });
      expect((await crier.ledger.run(send.id))!).toMatchObject({ status: 'due', data: null });
      expect(await crier.ledger.deliveries(send.id)).toEqual([]);

      // The round goes out and names the send it held back, to be queued now.
      expect(await fanOut(engine, round.id)).toEqual({ fanned: true, next: send.id });
      // The round's review is recorded with its deliveries.
      expect((await crier.ledger.pool.query(`SELECT send_key FROM reviews WHERE run_id = $1`, [round.id])).rows).toEqual([{ send_key: send.run_key }]);
      expect(await fanOut(engine, send.id)).toEqual({ fanned: true });
      expect((await crier.ledger.run(send.id))!.data).toMatchObject({ _review: { note: null, notListed: 0 } });
    } finally {
      await close();
    }
  });

  it('names the held send exactly in the command that sends it anyway: its variant (a steering agenda, not its invitation) and its tenant', () => {
    const occurrence = new Date('2027-04-14T12:00:00Z');
    expect(forceCommand({ schedule: 'council', occurrence, timezone: zone, variant: 'default' })).toBe('crier run council --at 2027-04-14T14:00 --force');
    expect(forceCommand({ schedule: 'steering', occurrence, timezone: zone, variant: 'agenda', tenant: 'gent' })).toBe('crier run steering --at 2027-04-14T14:00 --variant agenda --force --tenant gent');
    expect(forceCommand({ schedule: 'steering', occurrence, timezone: zone, variant: 'agenda', tenant: 'gent', file: '/etc/crier/configs/gent.yaml' })).toBe('crier run steering --at 2027-04-14T14:00 --variant agenda --force --tenant gent --configs /etc/crier/configs');
    expect(forceCommand({ schedule: 'council', occurrence, timezone: zone, variant: 'default', tenant: 'gent', file: '/etc/crier/crier.yaml' })).toBe('crier run council --at 2027-04-14T14:00 --force --tenant gent --config /etc/crier/crier.yaml');
  });

  it('holds a send whose round did not go out, when the review’s default is hold: nobody reviewed it', async () => {
    const { crier, engine, close } = await openEngine(configFile, new Date('2026-12-01T09:00:00Z'));
    try {
      const book = await crier.schedules();
      const schedule = book.get('strict');
      const occurrence = DateTime.fromISO('2027-01-04T09:00', { zone });
      const insert = async (variant: string) => {
        const planned = book.pickRun(schedule, occurrence, variant, DateTime.fromISO('2026-12-01T10:00', { zone }));
        return crier.ledger.insertRun({ scheduleId: 'strict', key: planned.key, occurrence: planned.occurrence.toJSDate(), job: 'council-update', timezone: zone, origin: 'manual', status: 'due', variant: planned.variant, meta: planned.meta });
      };
      const round = await insert('review');
      await crier.ledger.setRunStatus(round.id, 'failed', ['due'], 'the platform did not answer');
      const send = await insert('default');
      const out = await fanOut(engine, send.id);
      expect(out.fanned).toBe(false);
      expect(await crier.ledger.run(send.id)).toMatchObject({ status: 'held', error: `held: its review round (run ${round.id}) did not go out (failed: the platform did not answer), and the review's default is hold` });
      // The superadmin is told, through a notice run queued next.
      expect(await crier.ledger.run(out.next!)).toMatchObject({ variant: 'review-held', status: 'due' });
      expect(await crier.ledger.deliveries(send.id)).toEqual([]);
    } finally {
      await close();
    }
  });
});
