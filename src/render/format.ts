import { DateTime, type Interval } from 'luxon';

/** Locales that read a 12-hour clock ("9:00 AM", not "09:00 AM"); the others keep "09:00". */
const twelveHours = new Map<string, boolean>();
function twelveHour(locale: string): boolean {
  let is = twelveHours.get(locale);
  if (is === undefined) twelveHours.set(locale, (is = ['h11', 'h12'].includes(new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle ?? '')));
  return is;
}

/**
 * Numbers, dates and periods in one recipient's locale, through Intl (via luxon), so that
 * nl-BE reads "1 okt. – 31 dec. 2026" and en-GB "1 Oct – 31 Dec 2026" without hand-made patterns.
 *
 * Dates and periods are formatted once per instant (or date string) and kept: every recipient
 * of a run in one language shows the same months, days and period, and luxon takes ≈0.05 ms for
 * each (its zone arithmetic). What a method returns depends only on the instant, the locale and
 * the zone, so a kept string is exactly what formatting again would give.
 */
export class Formatter {
  private readonly numbers: Intl.NumberFormat;
  private readonly percent: Intl.NumberFormat;
  private readonly range: Intl.DateTimeFormat;
  private static readonly cache = new Map<string, Formatter>();
  private static readonly moneyFormats = new Map<string, Intl.NumberFormat>();

  /** Intl formatters cost ≈0.1 ms each to build: one Formatter per locale and zone. */
  static for(locale: string, timezone: string): Formatter {
    const key = `${locale}\u0000${timezone}`;
    let hit = Formatter.cache.get(key);
    if (!hit) {
      hit = new Formatter(locale, timezone);
      Formatter.cache.set(key, hit);
    }
    return hit;
  }

  /** The BCP 47 tag the formats use (see intlLocale). */
  readonly locale: string;
  /** Formatted dates and periods, by method and instant (see the class comment). */
  private readonly kept = new Map<string, string>();
  private readonly quarters = new Map<string, { quarter: number; year: number } | null>();

  constructor(
    locale: string,
    readonly timezone: string,
  ) {
    this.locale = intlLocale(locale);
    this.numbers = new Intl.NumberFormat(this.locale);
    this.percent = new Intl.NumberFormat(this.locale, { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' });
    this.range = new Intl.DateTimeFormat(this.locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: timezone });
  }

  number(n: number): string {
    return this.numbers.format(n);
  }

  /**
   * An amount in a currency (ISO 4217), whole units: "€ 70.000" in nl-BE, "€70,000" in en-GB;
   * from a million on, `compact` shortens it for a stat tile ("€ 26,3 mln.", "€26.3M").
   */
  money(amount: number, currency: string, opts: { compact?: boolean } = {}): string {
    const compact = opts.compact === true && Math.abs(amount) >= 1_000_000;
    const key = `${this.locale}\u0000${currency}\u0000${compact}`;
    let f = Formatter.moneyFormats.get(key);
    if (!f) {
      f = new Intl.NumberFormat(this.locale, compact ? { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 } : { style: 'currency', currency, maximumFractionDigits: 0 });
      Formatter.moneyFormats.set(key, f);
    }
    return f.format(amount);
  }

  /** Relative change against the previous value: "+12 %", "−3 %", or null when there is no base. */
  change(current: number, previous: number): string | null {
    if (previous === 0) return null;
    return this.percent.format((current - previous) / previous);
  }

  /** A date as "4 January 2027" in the recipient's language. */
  date(at: DateTime | string): string {
    return this.keep('d', at, () => this.inZone(at).setLocale(this.locale).toLocaleString(DateTime.DATE_FULL));
  }

  /** A date and time as "4 January 2027 at 09:00" (in English "January 4, 2027 at 9:00 AM"). */
  dateTime(at: DateTime | string): string {
    return this.keep('t', at, () => this.inZone(at).setLocale(this.locale).toLocaleString({ ...DateTime.DATE_FULL, hour: twelveHour(this.locale) ? 'numeric' : '2-digit', minute: '2-digit' }));
  }

  /** A half-open period [start, end) as its first and last day: "1 Oct – 31 Dec 2026". */
  period(period: Interval<true>): string {
    return this.keep('p', `${period.start.toMillis()}/${period.end.toMillis()}`, () => {
      const start = period.start.setZone(this.timezone);
      const last = period.end.setZone(this.timezone).minus({ milliseconds: 1 });
      return this.range.formatRange(start.toJSDate(), last.toJSDate());
    });
  }

  /** The calendar quarter a period is, if it is exactly one: {quarter: 4, year: 2026}. */
  quarterOf(period: Interval<true>): { quarter: number; year: number } | null {
    const key = `${period.start.toMillis()}/${period.end.toMillis()}`;
    let hit = this.quarters.get(key);
    if (hit === undefined) {
      const start = period.start.setZone(this.timezone);
      const isQuarter = start.equals(start.startOf('quarter')) && period.end.setZone(this.timezone).equals(start.plus({ quarters: 1 }));
      hit = isQuarter ? { quarter: start.quarter, year: start.year } : null;
      if (this.quarters.size >= KEEP_AT_MOST) this.quarters.clear();
      this.quarters.set(key, hit);
    }
    return hit && { ...hit };
  }

  /** A short month label for charts: "okt 2026", "Oct 2026". */
  monthShort(at: DateTime | string): string {
    return this.keep('s', at, () => this.inZone(at).setLocale(this.locale).toLocaleString({ month: 'short', year: 'numeric' }));
  }

  /** A month and its year: "oktober 2026", "October 2026". */
  month(at: DateTime): string {
    return this.keep('m', at, () => at.setZone(this.timezone).setLocale(this.locale).toLocaleString({ month: 'long', year: 'numeric' }));
  }

  /**
   * `format()`, once per method and instant: a DateTime by its instant (each method reads it in
   * this zone and locale; a numbering system or calendar of its own would show), a string as
   * written (a local date of this zone, or an ISO instant).
   */
  private keep(method: string, at: DateTime | string, format: () => string): string {
    const key = typeof at === 'string' ? `${method}s${at}` : `${method}i${at.isValid ? at.toMillis() : 'invalid'} ${at.numberingSystem ?? ''} ${at.outputCalendar ?? ''}`;
    let hit = this.kept.get(key);
    if (hit === undefined) {
      hit = format();
      if (this.kept.size >= KEEP_AT_MOST) this.kept.clear();
      this.kept.set(key, hit);
    }
    return hit;
  }

  private inZone(at: DateTime | string): DateTime {
    // A date without an offset ("2027-02-22") is a local date of the schedule's zone.
    return (typeof at === 'string' ? DateTime.fromISO(at, { zone: this.timezone }) : at).setZone(this.timezone);
  }
}

/** Formatted dates kept per Formatter at most (a worker's runs show a few thousand at most). */
const KEEP_AT_MOST = 10_000;

/**
 * A locale Intl accepts. users.locale is free text on the platform: "nl_BE" is read as nl-BE,
 * and a tag Intl refuses ("", "<script>") formats as English instead of throwing a RangeError
 * that would stop the recipient's e-mail (hostile-data test).
 */
export function intlLocale(locale: string): string {
  try {
    return Intl.getCanonicalLocales(locale.replace(/_/g, '-'))[0] ?? 'en';
  } catch {
    return 'en';
  }
}
