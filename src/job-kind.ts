import type { DateTime, Interval } from 'luxon';
import type { z } from 'zod';
import type { Platform } from './platform/platform.ts';
import type { Formatter } from './render/format.ts';

/**
 * A job kind: one module in jobs/ that default-exports one of these. The engine schedules,
 * fans out, renders and delivers; the job kind only says what period an occurrence covers,
 * what data it needs and what the recipient sees.
 */
export interface JobKind<Data = unknown> {
  /** The name schedules give in `job:`; also the template and catalogue section name. */
  name: string;
  /** One line shown by `crier check` and in the README's table. */
  description: string;
  /** Extra schedule keys this kind accepts (zod shape with defaults), validated with the config. */
  options?: z.ZodRawShape;
  /** The reporting period an occurrence covers, half-open, in the schedule's zone. */
  period(ctx: PeriodContext): Interval<true>;
  /** Reads the platform once per run; the result is the run's snapshot in the ledger, so it is JSON. */
  collect(ctx: CollectContext): Promise<Data>;
  /** What the template gets for one recipient: everything already in their language. */
  view(data: Data, ctx: ViewContext): Record<string, unknown>;
  /** A one-line summary of the data for logs and `crier preview --json`. */
  summary?(data: Data, ctx: ViewContext): unknown;
}

export interface PeriodContext {
  /** The occurrence, in the schedule's zone. */
  occurrence: DateTime;
  timezone: string;
  /** The platform's launch day (start of day, schedule zone), when configured. */
  launch?: DateTime;
  /** The schedule's job options. */
  options: Record<string, unknown>;
}

export interface CollectContext extends PeriodContext {
  period: Interval<true>;
  platform: Platform;
}

export interface Recipient {
  email: string;
  name: string;
  /** Resolved: person's locale, else the platform's first locale. */
  locale: string;
}

export interface ViewContext {
  recipient: Recipient;
  /** Number, date and period formatting in the recipient's locale. */
  format: Formatter;
  /** Resolves a platform multiloc to the recipient's locale with the platform's fallbacks. */
  text(multiloc: Record<string, string> | null | undefined): string;
  /** A catalogue message in the recipient's language, {placeholders} filled (plain text). */
  t(key: string, vars?: Record<string, unknown>): string;
  /** The platform's public URL (no trailing slash). */
  platformUrl: string;
  /** The organisation's name in the recipient's language. */
  platformName: string;
  /** The period of the run, in the schedule's zone. */
  period: Interval<true>;
  timezone: string;
}
