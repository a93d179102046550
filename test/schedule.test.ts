import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { CronError, parseCron } from '../src/schedule/cron.ts';
import { nextOccurrences, occurrencesBetween, previousOccurrence, type Triggers } from '../src/schedule/occurrences.ts';
import { wallTimeToInstant } from '../src/schedule/wallclock.ts';

const triggers = (timezone: string, t: Partial<Triggers>): Triggers => ({ timezone, crons: [], dates: [], afterLaunch: [], time: '09:00', ...t });
const iso = (dts: DateTime[], zone: string) => dts.map((d) => d.setZone(zone).toISO());
const utc = (s: string) => DateTime.fromISO(s, { zone: 'utc' });

describe('cron expressions', () => {
  it('reads the council cadence: first Monday of each quarter at 09:00', () => {
    const t = triggers('Europe/Brussels', { crons: [parseCron('0 9 * 1,4,7,10 1#1')] });
    expect(iso(nextOccurrences(t, utc('2026-11-23T00:00:00'), 5), 'Europe/Brussels')).toEqual([
      '2027-01-04T09:00:00.000+01:00',
      '2027-04-05T09:00:00.000+02:00',
      '2027-07-05T09:00:00.000+02:00',
      '2027-10-04T09:00:00.000+02:00',
      '2028-01-03T09:00:00.000+01:00',
    ]);
  });

  it('accepts names, ranges, steps, lists and macros', () => {
    const spec = parseCron('*/15 8-17/3 * JAN-MAR mon-fri');
    expect(spec.minutes).toEqual([0, 15, 30, 45]);
    expect(spec.hours).toEqual([8, 11, 14, 17]);
    expect([...spec.months]).toEqual([1, 2, 3]);
    expect([...spec.daysOfWeek].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('@monthly').minutes).toEqual([0]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]); // 7 is Sunday too
  });

  it('matches day-of-month OR day-of-week when both are restricted, as cron does', () => {
    const t = triggers('UTC', { crons: [parseCron('0 12 13 * FRI')] });
    const got = iso(nextOccurrences(t, utc('2026-02-01T00:00:00'), 4), 'UTC');
    expect(got).toEqual(['2026-02-06T12:00:00.000Z', '2026-02-13T12:00:00.000Z', '2026-02-20T12:00:00.000Z', '2026-02-27T12:00:00.000Z']);
    const march = iso(nextOccurrences(t, utc('2026-03-01T00:00:00'), 3), 'UTC');
    expect(march).toEqual(['2026-03-06T12:00:00.000Z', '2026-03-13T12:00:00.000Z', '2026-03-20T12:00:00.000Z']);
  });

  it.each([
    ['0 9 * *', 0, /expected 5 fields.*found 4/],
    ['0 9 * * * *', 10, /found 6; seconds are not supported/],
    ['61 9 * * *', 0, /'61' is out of range for minute; allowed: 0-59/],
    ['0 24 * * *', 2, /'24' is out of range for hour; allowed: 0-23/],
    ['0 9 0 * *', 4, /'0' is out of range for day of month; allowed: 1-31/],
    ['0 9 * 13 *', 6, /'13' is out of range for month; allowed: 1-12 or JAN-DEC/],
    ['0 9 * FOO *', 6, /'FOO' is not a month/],
    ['0 9 * * MON#6', 12, /after '#' write 1-5/],
    ['0 9 * * XYZ#1', 8, /'XYZ#1' is not a weekday/],
    ['0 9 * * 5-1', 8, /backwards range in day of week/],
    ['*/0 9 * * *', 1, /not a valid step in minute/],
  ])('refuses %s, pointing at the bad token', (expr, offset, message) => {
    let err: unknown;
    try {
      parseCron(expr);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CronError);
    expect((err as CronError).message).toMatch(message);
    expect((err as CronError).offset).toBe(offset);
  });
});

describe('wall-clock time across DST', () => {
  const cases: [string, string, string, string][] = [
    // zone, transition wall time, expected instant, what happens
    ['Europe/Brussels', '2026-03-29T02:30', '2026-03-29T03:00:00.000+02:00', 'spring forward: 02:30 does not exist, fires at 03:00'],
    ['Europe/Brussels', '2026-10-25T02:30', '2026-10-25T02:30:00.000+02:00', 'fall back: 02:30 happens twice, fires at the first'],
    ['America/New_York', '2026-03-08T02:15', '2026-03-08T03:00:00.000-04:00', 'spring forward in the north-west'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T01:30:00.000-04:00', 'fall back in the north-west, first (EDT) instance'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-04T03:00:00.000+11:00', 'southern spring forward (October)'],
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-05T02:30:00.000+11:00', 'southern fall back (April), first (AEDT) instance'],
    ['America/Santiago', '2026-09-06T00:00', '2026-09-06T01:00:00.000-03:00', 'midnight does not exist in Chile’s spring'],
    ['America/Santiago', '2026-04-04T23:30', '2026-04-04T23:30:00.000-03:00', 'Chile’s fall back repeats 23:00–24:00; first instance'],
    ['Australia/Lord_Howe', '2026-10-04T02:10', '2026-10-04T02:30:00.000+11:00', 'a half-hour shift'],
  ];
  it.each(cases)('%s %s → %s (%s)', (zone, wall, expected) => {
    const w = DateTime.fromISO(wall, { zone: 'utc' });
    expect(wallTimeToInstant({ year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute }, zone).toISO()).toBe(expected);
  });

  it('keeps a 09:00 schedule at 09:00 local in winter and summer (Brussels, Sydney, Santiago)', () => {
    for (const zone of ['Europe/Brussels', 'Australia/Sydney', 'America/Santiago']) {
      const t = triggers(zone, { crons: [parseCron('0 9 * * *')] });
      const all = occurrencesBetween(t, utc('2026-01-01T00:00:00'), utc('2027-01-01T00:00:00'));
      expect(all).toHaveLength(365);
      expect(new Set(all.map((d) => d.setZone(zone).toFormat('HH:mm')))).toEqual(new Set(['09:00']));
      expect(new Set(all.map((d) => d.setZone(zone).offset)).size).toBe(2);
    }
  });

  it('fires a daily 02:30 once on the spring-forward day (at 03:00) and once on the fall-back day (first 02:30)', () => {
    const t = triggers('Europe/Brussels', { crons: [parseCron('30 2 * * *')] });
    const spring = occurrencesBetween(t, utc('2026-03-28T12:00:00'), utc('2026-03-30T12:00:00'));
    expect(iso(spring, 'Europe/Brussels')).toEqual(['2026-03-29T03:00:00.000+02:00', '2026-03-30T02:30:00.000+02:00']);
    const autumn = occurrencesBetween(t, utc('2026-10-24T12:00:00'), utc('2026-10-26T12:00:00'));
    expect(iso(autumn, 'Europe/Brussels')).toEqual(['2026-10-25T02:30:00.000+02:00', '2026-10-26T02:30:00.000+01:00']);
  });

  it('fires an hourly schedule once per wall-clock hour through both transitions', () => {
    const t = triggers('Australia/Sydney', { crons: [parseCron('0 * * * *')] });
    // 5 Apr 2026: 03:00 AEDT → 02:00 AEST; the day has 25 hours but 24 distinct wall-clock hours.
    const autumn = occurrencesBetween(t, DateTime.fromISO('2026-04-05T00:00', { zone: 'Australia/Sydney' }).minus({ minutes: 1 }), DateTime.fromISO('2026-04-05T23:59', { zone: 'Australia/Sydney' }));
    expect(autumn).toHaveLength(24);
    // 4 Oct 2026: 02:00 → 03:00; 02:00 moves to 03:00, which also fires for itself: once.
    const spring = occurrencesBetween(t, DateTime.fromISO('2026-10-04T00:00', { zone: 'Australia/Sydney' }).minus({ minutes: 1 }), DateTime.fromISO('2026-10-04T23:59', { zone: 'Australia/Sydney' }));
    expect(spring).toHaveLength(23);
  });
});

describe('dates and afterLaunch', () => {
  it('unions cron, dates and launch offsets without duplicates, in time order', () => {
    const t = triggers('Europe/Brussels', {
      crons: [parseCron('0 9 * 1,4,7,10 1#1')],
      dates: ['2027-03-09 14:00', '2027-01-04 09:00'],
      afterLaunch: ['P0D', 'P1W', 'P1M', 'P3M', 'P6M'],
      launch: '2026-10-31',
      time: '10:30',
    });
    expect(iso(nextOccurrences(t, utc('2026-10-06T00:00:00'), 8), 'Europe/Brussels')).toEqual([
      '2026-10-31T10:30:00.000+01:00', // launch day (the day after DST ends)
      '2026-11-07T10:30:00.000+01:00', // P1W
      '2026-11-30T10:30:00.000+01:00', // P1M: 31 Oct + 1 month = 30 Nov
      '2027-01-04T09:00:00.000+01:00', // cron and dates on the same instant: once
      '2027-01-31T10:30:00.000+01:00', // P3M
      '2027-03-09T14:00:00.000+01:00',
      '2027-04-05T09:00:00.000+02:00',
      '2027-04-30T10:30:00.000+02:00', // P6M, in summer time
    ]);
  });

  it('lists occurrences strictly after the given instant', () => {
    const t = triggers('Europe/Brussels', { dates: ['2027-03-09 14:00'] });
    expect(nextOccurrences(t, DateTime.fromISO('2027-03-09T14:00', { zone: 'Europe/Brussels' }), 3)).toEqual([]);
    expect(nextOccurrences(t, DateTime.fromISO('2027-03-09T13:59', { zone: 'Europe/Brussels' }), 3)).toHaveLength(1);
  });
});

describe('the previous occurrence', () => {
  it('is the latest at or before the instant, near or far', () => {
    const at = DateTime.fromISO('2026-11-23T10:07', { zone: 'Europe/Brussels' });
    expect(previousOccurrence(triggers('Europe/Brussels', { crons: [parseCron('*/15 * * * *')] }), at)?.toISO()).toBe('2026-11-23T10:00:00.000+01:00');
    expect(previousOccurrence(triggers('Europe/Brussels', { crons: [parseCron('0 9 * 1,4,7,10 1#1')] }), at)?.toISO()).toBe('2026-10-05T09:00:00.000+02:00');
    expect(previousOccurrence(triggers('Europe/Brussels', { dates: ['2024-02-29 12:00'] }), at)?.toISO()).toBe('2024-02-29T12:00:00.000+01:00');
    expect(previousOccurrence(triggers('Europe/Brussels', { dates: ['2027-01-01 12:00'] }), at)).toBeUndefined();
  });
});
