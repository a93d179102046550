import type { DateTime, Interval } from 'luxon';
import type { z } from 'zod';
import type { Platform } from '../platform/platform.ts';
import type { Formatter } from '../render/format.ts';
import type { Multiloc, RecipientScope } from '../platform/types.ts';
import type { PlanContext, PlannedRun } from '../schedule/plan.ts';
import type { RoundReader } from './rounds.ts';

export type { PlanContext, PlannedRun };

/** The options of a job kind, as its zod shape validates them. */
export type Options = Record<string, unknown>;

/**
 * A job kind: one module in jobs/ that default-exports one of these (made with
 * defineJobKind, so its options are typed from their zod shape). The engine schedules, fans
 * out, renders and delivers; the job kind only says what period an occurrence covers, what
 * data it needs and what the recipient sees.
 */
export interface JobKind<Data = unknown, O extends Options = Options> {
  /** The name schedules give in `job:`; also the template and catalogue section name. */
  name: string;
  /** One line shown by `crier check` and in the README's table. */
  description: string;
  /** Extra schedule keys this kind accepts (zod shape with defaults), validated with the config. */
  options?: z.ZodRawShape;
  /** The reporting period an occurrence covers, half-open, in the schedule's zone. */
  period(ctx: PeriodContext<O>): Interval<true>;
  /** Reads the platform once per run; the result is the run's snapshot in the ledger, so it is JSON. */
  collect(ctx: CollectContext<O>): Promise<Data>;
  /** What the template gets for one recipient: everything already in their language. */
  view(data: Data, ctx: ViewContext): Record<string, unknown>;
  /** A one-line summary of the data for logs and `crier preview --json`. */
  summary?(data: Data, ctx: ViewContext): unknown;
  /**
   * The sends of a schedule, from its trigger occurrences (default: one per occurrence). A
   * steering meeting plans an invitation and an agenda before each meeting occurrence.
   */
  plan?(occurrences: DateTime[], ctx: PlanContext<O>): PlannedRun[];
  /** Who gets it when a schedule names no audience (config audience entries). */
  defaultAudience?: unknown[];
  /** Option keys that name audiences (ids under `audiences:`), checked with the config like `audience`. */
  audienceOptions?: string[];
  /**
   * The platform's own e-mail campaign this message stands in for: a recipient who opted out of
   * it there (email_campaigns_consents.consented = false) is skipped, with the reason recorded.
   */
  consentCampaign?: string;
  /** Skip recipients with nothing to report unless the schedule says `skipWhenEmpty: false`. */
  skipWhenEmpty?: boolean;
  /** Nothing to report for this recipient? (only asked when skipWhenEmpty applies) */
  isEmpty?(data: Data, recipient: Recipient): boolean;
  /**
   * Why this recipient is not sent this run, if they are not (a reminder to a head who has
   * answered): recorded as skipped with the reason.
   */
  skip?(data: Data, recipient: Recipient): string | undefined;
  /**
   * Replies to this e-mail are read by Crier (config `inbound:`): the recipient gets a personal,
   * signed Reply-To. `new` starts a conversation with this delivery; otherwise the e-mail
   * continues the conversation of an earlier delivery (its Reply-To token and its thread:
   * In-Reply-To and References to that delivery's Message-ID).
   */
  conversation?(data: Data, ctx: ViewContext): 'new' | { deliveryId: number; messageId: string | null } | undefined;
  /**
   * What a send reports, as reviewers number it (config `review:`): "leave out 3, 5" names
   * these. Numbered only with leaveOut; without both a review can approve, hold or add a note.
   */
  reviewItems?(data: Data): ReviewItem[];
  /**
   * The snapshot with these items (reviewItems ids) gone from every list, table and chart that
   * names them; totals keep them (a total is a total). Without it nothing is numbered, and "leave
   * out" is refused as a number not on the list.
   */
  leaveOut?(data: Data, ids: string[]): Data;
  /** Which of its planned sends a review covers (default: 'default', the one plain send). */
  reviewed?: string[];
  /** A calendar invitation (or cancellation) to attach, per recipient. */
  calendar?(data: Data, ctx: ViewContext): { method: 'REQUEST' | 'CANCEL'; content: string } | undefined;
  /**
   * A schedule that fires this kind on the demo tenant, for the e-mail gates and the gallery
   * when the shipped config has none: its config keys (job: is implied) and the occurrence to
   * render, local to the schedule (default: its next one).
   */
  example?: { schedule: Record<string, unknown>; at?: string };
}

/** One thing a send reports, numbered for its reviewers: a project, an agenda point. */
export interface ReviewItem {
  /** Stable within the snapshot: what leaveOut is given. */
  id: string;
  /** Platform text (a multiloc, shown in the reviewer's language) or plain text. */
  title: Multiloc | string;
}

/** What a job kind module writes: a JobKind whose `options` is a zod shape. */
export type JobKindDefinition<Data, Shape extends z.ZodRawShape> = Omit<JobKind<Data, z.output<z.ZodObject<Shape>>>, 'options'> & { options?: Shape };

/**
 * Declares a job kind with options typed from their zod shape: `ctx.options.deadline` is the
 * parsed value (defaults applied), as the config validated it.
 */
export function defineJobKind<Data, Shape extends z.ZodRawShape = Record<never, never>>(kind: JobKindDefinition<Data, Shape>): JobKind<Data, z.output<z.ZodObject<Shape>>> {
  return kind as JobKind<Data, z.output<z.ZodObject<Shape>>>;
}

export interface PeriodContext<O extends Options = Options> {
  /** The schedule's id. */
  scheduleId: string;
  /** The occurrence, in the schedule's zone. */
  occurrence: DateTime;
  /** The run's variant and details (see PlannedRun); absent for plain schedules. */
  variant?: string;
  meta?: Record<string, unknown>;
  timezone: string;
  /** The platform's launch day (start of day, schedule zone), when configured. */
  launch?: DateTime;
  /** The schedule's trigger occurrence before this one (the previous meeting, check-in …), if any. */
  previous?: DateTime;
  /** The schedule's job options. */
  options: O;
}

export interface CollectContext<O extends Options = Options> extends PeriodContext<O> {
  period: Interval<true>;
  platform: Platform;
  /**
   * Who the run goes to (before opt-outs), for figures counted per recipient's scope. In a run's
   * fan-out, of the people of a CSV file only one per distinct scope and copy (the file is read
   * in pages, never held): count scopes here, not people.
   */
  recipients: readonly Recipient[];
  /** Project-call rounds and the answers that came back by e-mail (Crier's own tables). */
  rounds: RoundReader;
}

export interface Recipient {
  email: string;
  name: string;
  /** Resolved: the config's, else the platform account's, else the platform's first locale. */
  locale: string;
  /** The platform account, when the recipient has one. */
  userId?: string;
  /** The folders and projects their e-mail covers (ids); absent = the whole platform. */
  scope?: RecipientScope;
  /** Which copy they get (e.g. 'it' for the IT department's launch check-in). */
  variant?: string;
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
  /** The platform's currency (ISO 4217, core.currency), for budgets. */
  currency: string;
  /** The sender (mail.from), e.g. the ORGANIZER of a calendar invitation. */
  sender: { name: string; address: string };
  /** The period of the run, in the schedule's zone. */
  period: Interval<true>;
  timezone: string;
  /** The run's variant and details. */
  variant: string;
  meta: Record<string, unknown>;
  /** The occurrence, in the schedule's zone. */
  occurrence: DateTime;
}
