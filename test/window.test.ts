import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { resolveSchedules, ScheduleBook } from '../src/deployment/schedules.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { tick } from '../src/queue/tick.ts';
import { describeWindow, isOpen, nextOpening, type SendWindow } from '../src/schedule/window.ts';
import { crier } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, PG_URL, REDIS_URL, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';
import { openEngine } from './helpers/worker.ts';

/*
 * Send windows: a send planned outside its schedule's window (working days and hours, public
 * holidays) goes out at the next opening, in the schedule's zone, across weekends, holidays and
 * DST changes; it stays the one run it was, and `crier check` shows when it goes out.
 */
const zone = 'Europe/Brussels';
const local = (s: string) => DateTime.fromISO(s, { zone });
const working: SendWindow = { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '08:00', to: '18:00', holidays: [] };
const opening = (w: SendWindow, at: string) => nextOpening(w, local(at), zone).toISO();

describe('the next opening of a send window', () => {
  it('is the send time itself inside the window, from `from` up to (not at) `to`', () => {
    expect(opening(working, '2027-01-05T10:00')).toBe('2027-01-05T10:00:00.000+01:00');
    expect(opening(working, '2027-01-05T08:00')).toBe('2027-01-05T08:00:00.000+01:00');
    expect(opening(working, '2027-01-05T17:59')).toBe('2027-01-05T17:59:00.000+01:00');
    expect(isOpen(working, local('2027-01-05T18:00'), zone)).toBe(false);
  });

  it('moves a send planned on Saturday to Monday 08:00 local', () => {
    expect(opening(working, '2027-01-09T11:00')).toBe('2027-01-11T08:00:00.000+01:00');
    // Friday after closing time, and Sunday night, too.
    expect(opening(working, '2027-01-08T18:00')).toBe('2027-01-11T08:00:00.000+01:00');
    expect(opening(working, '2027-01-10T23:59')).toBe('2027-01-11T08:00:00.000+01:00');
  });

  it('moves a send after `to` to the next morning, and one before `from` to that morning', () => {
    expect(opening(working, '2027-01-05T18:30')).toBe('2027-01-06T08:00:00.000+01:00');
    expect(opening(working, '2027-01-05T07:59')).toBe('2027-01-05T08:00:00.000+01:00');
  });

  it('moves a send on a holiday to the next working day, across a run of holidays and a weekend', () => {
    // Easter Monday 2027 (29 March) is a public holiday in Belgium.
    const easter: SendWindow = { ...working, holidays: ['2027-03-29'] };
    expect(opening(easter, '2027-03-29T09:00')).toBe('2027-03-30T08:00:00.000+02:00');
    // Christmas: Friday 24 a holiday, the weekend, Monday 27 and Tuesday 28 holidays: Wednesday.
    const christmas: SendWindow = { ...working, holidays: ['2027-12-24', '2027-12-27', '2027-12-28'] };
    expect(opening(christmas, '2027-12-23T19:00')).toBe('2027-12-29T08:00:00.000+01:00');
  });

  it('opens at 03:00 on the spring-forward day when it opens at 02:30, which does not exist then (Brussels, 28 March 2027)', () => {
    const night: SendWindow = { days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'], from: '02:30', to: '05:00', holidays: [] };
    expect(opening(night, '2027-03-28T01:00')).toBe('2027-03-28T03:00:00.000+02:00');
    expect(opening(night, '2027-03-27T06:00')).toBe('2027-03-28T03:00:00.000+02:00');
    expect(isOpen(night, local('2027-03-28T03:00'), zone)).toBe(true);
    // The day after, 02:30 exists again.
    expect(opening(night, '2027-03-28T05:00')).toBe('2027-03-29T02:30:00.000+02:00');
  });

  it('moves a Friday 17:00 send over the fall-back weekend to Monday 08:00 winter time (Brussels, 25 October 2026)', () => {
    // Inside the usual window it stays.
    expect(opening(working, '2026-10-23T17:00')).toBe('2026-10-23T17:00:00.000+02:00');
    // A window closing at 17:00: Monday 08:00, now at +01:00; 64 hours later, not 63.
    const early: SendWindow = { ...working, to: '17:00' };
    const moved = nextOpening(early, local('2026-10-23T17:00'), zone);
    expect(moved.toISO()).toBe('2026-10-26T08:00:00.000+01:00');
    expect(moved.diff(local('2026-10-23T17:00'), 'hours').hours).toBe(64);
  });

  it('refuses a window that never opens, saying why', () => {
    // Saturdays only, and every Saturday for more than 400 days a holiday.
    const saturdays = Array.from({ length: 60 }, (_, i) => DateTime.fromISO('2027-01-02').plus({ weeks: i }).toISODate()!);
    const never: SendWindow = { days: ['SAT'], from: '10:00', to: '12:00', holidays: saturdays };
    expect(() => nextOpening(never, local('2027-01-01T09:00'), zone)).toThrow(/the send window SAT 10:00–12:00 does not open in the 400 days after 2027-01-01 09:00 \(Europe\/Brussels\): every allowed day is a holiday/);
  });

  it('describes itself as a superadmin writes it', () => {
    expect(describeWindow(working)).toBe('MON–FRI 08:00–18:00');
    expect(describeWindow({ ...working, days: ['FRI', 'MON', 'WED'], from: '09:00', to: '12:00' })).toBe('MON, WED, FRI 09:00–12:00');
    expect(describeWindow({ ...working, days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] })).toBe('every day 08:00–18:00');
  });
});

/** A deployment's schedules as the engine sees them, from a config text: mail.window with its defaults (MON–FRI 08:00–18:00). */
async function bookOf(schedules: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<ScheduleBook> {
  const text = stringify({
    ...extra,
    platform: { kind: 'govocal', database: PG_URL, tenant: 'participatie.gent.be', launch: '2026-03-02' },
    crier: { database: PG_URL, redis: REDIS_URL },
    mail: { from: 'Participatie Gent <participatie@gent.be>', window: { holidays: ['2027-01-01'] } },
    audiences: { council: [{ name: 'Mathias De Clercq', email: 'burgemeester@gent.be', locale: 'nl-BE' }] },
    schedules,
  });
  const jobs = await loadJobKinds();
  const config = parseConfig(text, 'crier.yaml', { jobs, env: {} });
  const all = await resolveSchedules(config, async () => zone);
  return new ScheduleBook(all, jobs, config.platform.launch);
}

describe('planning with a send window', () => {
  const sundayKey = '2027-01-03T14:00:00.000Z'; // Sunday 3 January 2027, 15:00 in Brussels

  it('plans a Sunday 15:00 run on Monday 08:00, as the same run (same key and occurrence)', async () => {
    const book = await bookOf({ sunday: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone } });
    const s = book.get('sunday');
    const [first, second] = book.nextRuns(s, local('2027-01-03T12:00'), 2);
    expect(first.key).toBe(sundayKey);
    expect(first.at.toISO()).toBe('2027-01-04T08:00:00.000+01:00');
    expect(first.movedFrom?.setZone(zone).toISO()).toBe('2027-01-03T15:00:00.000+01:00');
    expect(first.occurrence.setZone(zone).toISO()).toBe('2027-01-03T15:00:00.000+01:00');
    expect(second.at.toISO()).toBe('2027-01-11T08:00:00.000+01:00');
    // Seen after its planned time but before Monday, it is still the next send.
    expect(book.nextRuns(s, local('2027-01-03T16:00'), 1).map((r) => [r.key, r.at.toISO()])).toEqual([[sundayKey, '2027-01-04T08:00:00.000+01:00']]);
    // `crier run --at` the Sunday occurrence acts on that same run.
    expect(book.pickRun(s, local('2027-01-03T15:00'), undefined, local('2027-01-02T00:00')).key).toBe(sundayKey);
  });

  it('returns the moved run in a range holding Monday morning only, and not in one holding Sunday 15:00 only', async () => {
    const book = await bookOf({ sunday: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone } });
    const s = book.get('sunday');
    const monday = book.plannedRuns(s, local('2027-01-04T07:00'), local('2027-01-04T09:00'));
    expect(monday.map((r) => [r.key, r.at.toISO()])).toEqual([[sundayKey, '2027-01-04T08:00:00.000+01:00']]);
    expect(book.plannedRuns(s, local('2027-01-03T14:00'), local('2027-01-04T07:59'))).toEqual([]);
    // A worker ticking every minute from Saturday to Tuesday sees the run exactly once, at Monday 08:00.
    const seen: string[] = [];
    for (let t = local('2027-01-02T00:00'); t < local('2027-01-05T00:00'); t = t.plus({ minutes: 1 })) {
      for (const r of book.plannedRuns(s, t, t.plus({ minutes: 1 }))) seen.push(`${r.key} ${t.plus({ minutes: 1 }).toFormat('ccc HH:mm')}`);
    }
    expect(seen).toEqual([`${sundayKey} Mon 08:00`]);
  });

  it('sends a daily schedule once after a weekend, as its latest occurrence, not once per day it missed', async () => {
    const book = await bookOf({ daily: { job: 'department-digest', audience: 'council', cron: '0 7 * * *', timezone: zone } });
    const s = book.get('daily');
    const seen: string[] = [];
    for (let t = local('2027-01-08T00:00'); t < local('2027-01-12T00:00'); t = t.plus({ minutes: 1 })) {
      for (const r of book.plannedRuns(s, t, t.plus({ minutes: 1 }))) seen.push(`${r.occurrence.setZone(zone).toFormat('ccc HH:mm')} → ${r.at.setZone(zone).toFormat('ccc HH:mm')}`);
    }
    // Friday's 07:00 waits for 08:00; Saturday's, Sunday's and Monday's share Monday 08:00: Monday's goes.
    expect(seen).toEqual(['Fri 07:00 → Fri 08:00', 'Mon 07:00 → Mon 08:00']);
    expect(book.nextRuns(s, local('2027-01-08T09:00'), 2).map((r) => r.occurrence.setZone(zone).toFormat('ccc d'))).toEqual(['Mon 11', 'Tue 12']);
  });

  it('reviews occurrences moved to one opening once: one send, one round `before` its moved time, decisions due before it', async () => {
    // Saturday's and Sunday's 20:00 both wait for Monday 08:00: one send, as Sunday's.
    const book = await bookOf(
      { weekend: { job: 'council-update', audience: 'council', cron: '0 20 * * 6,0', timezone: zone, review: { audience: ['council'], before: 'P4D', decide: 'P1D' } } },
      { inbound: { address: 'calls@gent.be', secret: 'a-secret-of-sixteen-chars' } },
    );
    const s = book.get('weekend');
    const seen: string[] = [];
    for (let t = local('2027-01-06T00:00'); t < local('2027-01-12T00:00'); t = t.plus({ minutes: 1 })) {
      for (const r of book.plannedRuns(s, t, t.plus({ minutes: 1 }))) seen.push(`${r.variant} ${r.at.setZone(zone).toFormat('ccc HH:mm')} for ${r.occurrence.setZone(zone).toFormat('ccc HH:mm')}`);
    }
    expect(seen).toEqual(['review Thu 08:00 for Sun 20:00', 'review-deadline Fri 08:00 for Sun 20:00', 'default Mon 08:00 for Sun 20:00']);
    const [round] = book.plannedRuns(s, local('2027-01-07T07:59'), local('2027-01-07T08:00'));
    expect(round.meta.review).toMatchObject({ send: { key: '2027-01-10T19:00:00.000Z', at: '2027-01-11T08:00:00.000+01:00' }, deadline: '2027-01-08T08:00:00.000+01:00' });
  });

  it('keeps a round the window would push onto its send at its own time, outside the window, with decisions due before the send', async () => {
    // Weekdays at 07:00 wait for 08:00; a round an hour before that (07:00) would wait for 08:00 too, with the send.
    const book = await bookOf(
      { early: { job: 'council-update', audience: 'council', cron: '0 7 * * 1-5', timezone: zone, review: { audience: ['council'], before: 'PT1H', decide: 'PT30M' } } },
      { inbound: { address: 'calls@gent.be', secret: 'a-secret-of-sixteen-chars' } },
    );
    const s = book.get('early');
    const seen: string[] = [];
    for (let t = local('2027-01-11T05:00'); t < local('2027-01-11T09:00'); t = t.plus({ minutes: 1 })) {
      for (const r of book.plannedRuns(s, t, t.plus({ minutes: 1 }))) seen.push(`${r.variant} ${r.at.setZone(zone).toFormat('HH:mm')}${r.outsideWindow ? ' (outside the window)' : ''}`);
    }
    expect(seen).toEqual(['review 07:00 (outside the window)', 'review-deadline 07:30 (outside the window)', 'default 08:00']);
    // A meeting's agenda the window keeps before its evening meeting: its round comes before it, not the next morning.
    const steering = await bookOf(
      { steer: { job: 'steering-meeting', audience: 'council', dates: ['2027-01-12 19:30'], agenda: 'PT1H', timezone: zone, review: { audience: ['council'], before: 'PT30M', decide: 'PT15M' } } },
      { inbound: { address: 'calls@gent.be', secret: 'a-secret-of-sixteen-chars' } },
    );
    const runs = steering.nextRuns(steering.get('steer'), local('2027-01-12T12:00'), 4).map((r) => `${r.variant} ${r.at.setZone(zone).toFormat('ccc HH:mm')}`);
    expect(runs).toEqual(['review Tue 18:00', 'review-deadline Tue 18:15', 'agenda Tue 18:30']);
    // A Monday 08:10 send reviewed a day before: Monday 08:00 would leave 10 minutes of the 20 hours.
    const monday = await bookOf(
      { monday: { job: 'council-update', audience: 'council', cron: '10 8 * * 1', timezone: zone, review: { audience: ['council'], before: 'P1D', decide: 'PT20H' } } },
      { inbound: { address: 'calls@gent.be', secret: 'a-secret-of-sixteen-chars' } },
    );
    const planned = monday.nextRuns(monday.get('monday'), local('2027-01-08T12:00'), 3);
    expect(planned.map((r) => `${r.variant} ${r.at.setZone(zone).toFormat('ccc HH:mm')}${r.outsideWindow ? ' (outside the window)' : ''}`)).toEqual(['review Sun 08:10 (outside the window)', 'review-deadline Mon 08:00', 'default Mon 08:10']);
    expect(planned[0].meta.review).toMatchObject({ deadline: '2027-01-11T04:10:00.000+01:00' });
  });

  it('keeps a schedule with `window: false` at its own time', async () => {
    const book = await bookOf({ anytime: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone, window: false } });
    const [run] = book.nextRuns(book.get('anytime'), local('2027-01-03T12:00'), 1);
    expect([run.key, run.at.setZone(zone).toISO(), run.movedFrom]).toEqual([sundayKey, '2027-01-03T15:00:00.000+01:00', undefined]);
  });

  it('moves a Sunday agenda to Monday, but keeps one the window would push past its meeting', async () => {
    const book = await bookOf({
      steering: { job: 'steering-meeting', audience: 'council', dates: ['2027-01-12 14:00', '2027-01-18 07:30'], timezone: zone },
    });
    const runs = book.nextRuns(book.get('steering'), local('2026-12-01T00:00'), 4).map((r) => ({ variant: r.variant, at: r.at.setZone(zone).toISO(), movedFrom: r.movedFrom?.setZone(zone).toISO() }));
    expect(runs).toEqual([
      { variant: 'invitation', at: '2026-12-29T14:00:00.000+01:00', movedFrom: undefined }, // a Tuesday: inside
      // 14 days before Monday 07:30 is Monday 07:30: the window opens at 08:00, still before the meeting.
      { variant: 'invitation', at: '2027-01-04T08:00:00.000+01:00', movedFrom: '2027-01-04T07:30:00.000+01:00' },
      // 2 days before Tuesday 14:00 is Sunday: Monday 08:00.
      { variant: 'agenda', at: '2027-01-11T08:00:00.000+01:00', movedFrom: '2027-01-10T14:00:00.000+01:00' },
      // 2 days before Monday 07:30 is Saturday 07:30; Monday 08:00 is after the meeting: it keeps Saturday.
      { variant: 'agenda', at: '2027-01-16T07:30:00.000+01:00', movedFrom: undefined },
    ]);
  });
});

const name = uniqueName('crier_window');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  tenant = await createTenant(host, { timezone: zone });
});

afterAll(async () => {
  await tenant?.drop();
  await dropRedisPrefix(name);
  await dropRedisPrefix(`${name}_tick`);
});

const mailWith = (window: unknown) => ({ mail: { from: 'Participatie Test <participatie@example.org>', transport: 'outbox', window } });

describe('the tick with a send window', () => {
  it('records a Sunday run on Monday 08:00, on time, although the worker only started Monday and catchUp is an hour', async () => {
    const file = writeTestConfig({
      tenant: host,
      name: `${name}_tick`,
      launch: '2026-03-02',
      schedules: { sunday: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone, catchUp: 'PT1H' } },
      extra: mailWith({}),
    });
    const at = (s: string) => local(s).toJSDate();
    const { crier: c, engine, close } = await openEngine(file, at('2027-01-04T07:30'));
    try {
      // The worker starts Monday 07:30 (so it watches from 06:30): nothing is due yet.
      expect((await tick(engine, at('2027-01-04T07:30'))).created).toEqual([]);
      const monday = await tick(engine, at('2027-01-04T08:00:30'));
      expect(monday.created.map((r) => [r.run_key, r.status, r.origin])).toEqual([['2027-01-03T14:00:00.000Z', 'due', 'schedule']]);
      expect(monday.created[0].occurrence.toISOString()).toBe('2027-01-03T14:00:00.000Z');
      expect((await tick(engine, at('2027-01-04T08:05'))).created).toEqual([]);
      expect(await c.ledger.runByKey('sunday', '2027-01-03T14:00:00.000Z')).toMatchObject({ status: 'due' });
    } finally {
      await close();
    }
  });
});

describe('crier check with a send window', () => {
  let config: string;
  beforeAll(() => {
    config = writeTestConfig({
      tenant: host,
      name,
      launch: '2026-03-02',
      schedules: {
        sunday: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone },
        'new-year': { job: 'council-update', audience: 'council', dates: ['2027-01-01 10:00'], timezone: zone },
        anytime: { job: 'council-update', audience: 'council', cron: '0 15 * * 0', timezone: zone, window: false },
        steering: { job: 'steering-meeting', audience: 'steering', dates: ['2027-01-12 14:00'], timezone: zone },
      },
      extra: mailWith({ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '08:00', to: '18:00', holidays: ['2027-01-01', '2027-03-29'] }),
    });
  });

  it('shows each send at its moved time with the planned time, and keeps occurrences as planned', async () => {
    const res = await crier(['check', '--json', '--from', '2027-01-01T00:00', '--count', '2', '--config', config]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    const byId = (id: string) => out.schedules.find((s: { id: string }) => s.id === id);
    expect(byId('sunday')).toMatchObject({
      window: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '08:00', to: '18:00', holidays: ['2027-01-01', '2027-03-29'] },
      occurrences: ['2027-01-03T15:00:00.000+01:00', '2027-01-10T15:00:00.000+01:00'],
      sends: [
        { at: '2027-01-04T08:00:00.000+01:00', variant: 'default', occurrence: '2027-01-03T15:00:00.000+01:00', movedFrom: '2027-01-03T15:00:00.000+01:00' },
        { at: '2027-01-11T08:00:00.000+01:00', variant: 'default', occurrence: '2027-01-10T15:00:00.000+01:00', movedFrom: '2027-01-10T15:00:00.000+01:00' },
      ],
    });
    // New Year's Day is a holiday (and a Friday): the next working day is Monday.
    expect(byId('new-year').sends).toEqual([{ at: '2027-01-04T08:00:00.000+01:00', variant: 'default', occurrence: '2027-01-01T10:00:00.000+01:00', movedFrom: '2027-01-01T10:00:00.000+01:00' }]);
    // `window: false`: any time, no movedFrom.
    expect(byId('anytime')).toMatchObject({ window: null, sends: [{ at: '2027-01-03T15:00:00.000+01:00', variant: 'default', occurrence: '2027-01-03T15:00:00.000+01:00' }, expect.anything()] });
    expect(byId('anytime').sends[0]).not.toHaveProperty('movedFrom');
    expect(byId('steering').sends).toEqual([{ at: '2027-01-11T08:00:00.000+01:00', variant: 'agenda', occurrence: '2027-01-12T14:00:00.000+01:00', movedFrom: '2027-01-10T14:00:00.000+01:00' }]);
  });

  it('says in the text output when each send goes out and why it moved', async () => {
    const res = await crier(['check', '--from', '2027-01-01T00:00', '--count', '1', '--config', config]);
    expect(res.code).toBe(0);
    const section = (id: string) => res.stdout.split('\n\n').find((p) => p.startsWith(`${id} (`)) ?? '';
    expect(section('sunday')).toContain('  send window: MON–FRI 08:00–18:00, closed on 2027-01-01, 2027-03-29\n');
    expect(section('sunday')).toContain('  Mon 4 Jan 2027 08:00 +01:00  (planned Sun 3 Jan 2027 15:00, outside the send window MON–FRI 08:00–18:00)');
    expect(section('new-year')).toContain('  Mon 4 Jan 2027 08:00 +01:00  (planned Fri 1 Jan 2027 10:00, on a holiday, outside the send window MON–FRI 08:00–18:00)');
    expect(section('anytime')).toMatch(/ {2}send window: any time\n {2}Sun 3 Jan 2027 15:00 \+01:00$/);
    expect(section('steering')).toContain('    Mon 11 Jan 2027 08:00 +01:00  agenda for Tue 12 Jan 2027 14:00 +01:00  (planned Sun 10 Jan 2027 14:00, outside the send window MON–FRI 08:00–18:00)');
  });

  it('refuses a window that never opens, pointing at it in the file', async () => {
    const saturdays = Array.from({ length: 60 }, (_, i) => DateTime.fromISO('2027-01-02').plus({ weeks: i }).toISODate()!);
    const file = writeTestConfig({
      tenant: host,
      name,
      schedules: { never: { job: 'council-update', audience: 'council', cron: '0 11 * * 6', timezone: zone, window: { days: ['SAT'], from: '10:00', to: '12:00', holidays: saturdays } } },
    });
    const res = await crier(['check', '--from', '2027-01-01T00:00', '--config', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/schedules\.never\.window: the send window SAT 10:00–12:00 does not open in the 400 days after/);
  });
});
