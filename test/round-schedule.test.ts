import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { tick } from '../src/queue/tick.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';
import { openEngine } from './helpers/worker.ts';

/*
 * A project-call round through the tick: its reminder follows a call that went out, and is not
 * given up while the call is still being prepared (a platform that was down, a call revived late).
 */
const name = uniqueName('crier_round');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
let tenant: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  tenant = await createTenant(host);
});

afterAll(async () => {
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('a reminder through the tick', () => {
  it('waits for its call to go out, then comes due', async () => {
    const call = DateTime.fromISO('2027-03-01T09:00', { zone });
    const file = writeTestConfig({
      tenant: host,
      name,
      audiences: { heads: [{ name: 'Koen', email: 'koen@example.org' }] },
      schedules: { calls: { job: 'project-call', audience: ['heads'], dates: ['2027-03-01 09:00'], timezone: zone, reminders: ['P1D'], catchUp: 'P7D' } },
    });
    // The worker was down: it ticks two days after the call, finding the call and the reminder due at once.
    const later = call.plus({ days: 2 }).toJSDate();
    const { crier, engine, close } = await openEngine(file, later);
    try {
      const first = await tick(engine, later);
      expect(first.created.map((r) => r.variant)).toEqual(['call']); // the reminder waits for the call
      const reminderKey = `reminder-1:${call.toUTC().toISO()}`;
      expect(await crier.ledger.runByKey('calls', reminderKey)).toBeUndefined();
      // A minute later the call is still being prepared: the reminder still waits, and is not lost.
      expect((await tick(engine, new Date(later.getTime() + 60_000))).created).toEqual([]);
      // The call goes out: the next tick makes the reminder due.
      await crier.ledger.setRunStatus(first.created[0].id, 'fanned-out', ['due']);
      const third = await tick(engine, new Date(later.getTime() + 120_000));
      expect(third.created.map((r) => [r.variant, r.status])).toEqual([['reminder-1', 'due']]);
    } finally {
      await close();
    }
  });
});
