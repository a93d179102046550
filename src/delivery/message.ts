import type { DateTime, Interval } from 'luxon';
import type { JobKind, Recipient, ViewContext } from '../kit/contract.ts';
import type { PlatformInfo } from '../platform/platform.ts';
import { catalogueLocale, fallbackChain, translate } from '../render/catalog.ts';
import { Formatter } from '../render/format.ts';
import { resolveMultiloc } from '../render/multiloc.ts';
import { compileTemplate, compileText } from '../render/template.ts';
import { reviewFields } from '../review/apply.ts';

/** A rendered e-mail for one recipient. */
export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
  preheader: string;
  /** The catalogue locale actually used. */
  locale: string;
}

export interface RenderInput {
  job: JobKind;
  data: unknown;
  recipient: Recipient;
  platform: PlatformInfo;
  period: Interval<true>;
  timezone: string;
  /** The run: its occurrence, variant and details (default: the period's end, 'default', {}). */
  run?: { occurrence: DateTime; variant: string; meta: Record<string, unknown> };
  /** Organisation name override from the config (else the platform's). */
  organizationName?: string;
  color: string;
  /** Address shown in the footer for "take me off the list" (and whom to ask about required mail). */
  replyTo: string;
  /**
   * How the footer offers to stop: a one-click link (`url`), none because a role must receive
   * the e-mail (`required`), or else a reply to `replyTo`.
   */
  unsubscribe?: { url?: string; required?: boolean };
  /** mail.from, parsed. */
  sender?: { name: string; address: string };
}

/** The context a job kind's view gets for one recipient. */
export function viewContext(input: Omit<RenderInput, 'job' | 'data' | 'color' | 'replyTo' | 'unsubscribe'>): ViewContext & { chain: string[] } {
  const platformName = input.organizationName ?? (resolveMultiloc(input.platform.organizationName, input.recipient.locale, input.platform.locales) || input.platform.host);
  const chain = fallbackChain(input.recipient.locale, input.platform.locales);
  const text = (m: Record<string, string> | null | undefined) => resolveMultiloc(m, input.recipient.locale, input.platform.locales);
  return {
    chain,
    recipient: input.recipient,
    format: Formatter.for(input.recipient.locale, input.timezone),
    text,
    t: (key, vars) => translate(chain, key, vars),
    platformUrl: input.platform.url,
    platformName,
    currency: input.platform.currency ?? 'EUR',
    sender: input.sender ?? { name: platformName, address: `noreply@${input.platform.host}` },
    period: input.period,
    timezone: input.timezone,
    occurrence: (input.run?.occurrence ?? input.period.end).setZone(input.timezone),
    variant: input.run?.variant ?? 'default',
    meta: input.run?.meta ?? {},
  };
}

/** One recipient's view, as the templates get it: the job kind's view and what the layout adds. */
export interface RecipientView {
  ctx: ViewContext & { chain: string[] };
  /** What the job kind's view gave (subject, preheader …). */
  view: { subject?: string; preheader?: string } & Record<string, unknown>;
  /** The view with the layout's fields (recipient, organisation, colour, footer), for both parts. */
  full: Record<string, unknown>;
  /**
   * `full` without the recipient's own fields (RECIPIENT_FIELDS), the same object for every
   * recipient who shares this view in this run: what the templates fill once for all of them
   * (SplitFill). Absent when the view was not kept.
   */
  shared?: Record<string, unknown>;
}

/**
 * The first step of renderMessage: the recipient's view. A job kind's view is a function of the
 * run's snapshot and its context; of the recipient it reads what it needs (their scope, their
 * copy, their address), and the rest of its context is the same for every recipient of a run in
 * one language. So a view is worked out once per run's snapshot, language and whatever the view
 * read of the recipient, and kept with the snapshot (ViewMemo); `memo: false` works it out afresh.
 */
export function recipientView(input: RenderInput, opts: { memo?: boolean } = {}): RecipientView {
  const memo = opts.memo === false ? undefined : ViewMemo.of(input);
  const kept = memo?.find(input.recipient);
  if (kept) {
    // The context is made only when asked for (the calendar and conversation hooks).
    let ctx: RecipientView['ctx'] | undefined;
    return {
      get ctx() {
        return (ctx ??= viewContext(input));
      },
      view: kept.view,
      shared: kept.shared,
      full: withRecipient(kept.shared, input),
    };
  }
  const ctx = viewContext(input);
  const watch = memo ? watchRecipient(input.recipient) : undefined;
  const view = input.job.view(input.data, watch ? Object.assign({}, ctx, { recipient: watch.proxy }) : ctx) as RecipientView['view'];
  if (!view.subject) throw new Error(`job kind ${input.job.name} gave no subject`);
  const shared = {
    ...view,
    ...reviewFields(input.data, ctx, input.job.name),
    _chain: ctx.chain,
    organization: ctx.platformName,
    platformUrl: input.platform.url,
    color: input.color,
    replyTo: input.replyTo,
  };
  const stored = memo && watch && memo.keep(watch, view, shared);
  return { ctx, view, shared: stored ? shared : undefined, full: withRecipient(shared, input) };
}

/** The shared view with the recipient's own fields (RECIPIENT_FIELDS) added: what the templates are filled with. */
function withRecipient(shared: Record<string, unknown>, input: RenderInput): Record<string, unknown> {
  // Object.assign, not a spread: tsx compiles a spread into a helper 15× slower on this object.
  return Object.assign({}, shared, { recipient: input.recipient, unsubscribeUrl: input.unsubscribe?.url, requiredMail: input.unsubscribe?.required ?? false });
}

export async function renderMessage(input: RenderInput, opts: { memo?: boolean } = {}): Promise<RenderedMessage & { calendar?: { method: 'REQUEST' | 'CANCEL'; content: string }; conversation?: ReturnType<NonNullable<JobKind['conversation']>> }> {
  const rv = recipientView(input, opts);
  const locale = catalogueLocale(input.recipient.locale, input.platform.locales);
  const html = await htmlPart(input, rv);
  const text = textPart(input, rv);
  const calendar = input.job.calendar?.(input.data, rv.ctx);
  const conversation = input.job.conversation?.(input.data, rv.ctx);
  return { subject: rv.view.subject!, html, text, preheader: rv.view.preheader ?? '', locale, calendar, conversation };
}

/**
 * The HTML part of renderMessage: the template MJML compiled once per template, language and
 * colour, filled with the recipient's view (what a kept view shares, filled once: SplitFill).
 */
export async function htmlPart(input: RenderInput, rv: RecipientView): Promise<string> {
  const template = await compileTemplate(input.job.name, { locale: input.recipient.locale, color: input.color });
  return rv.shared ? template.split(rv.shared, rv.full) : template(rv.full);
}

/** The text part of renderMessage, from the same template (compileText), filled the same way. */
export function textPart(input: RenderInput, rv: RecipientView): string {
  const template = compileText(input.job.name);
  return rv.shared ? template.split(rv.shared, rv.full) : template(rv.full);
}

/** What a view read of its recipient while it was worked out (watchRecipient). */
interface Watch {
  recipient: Recipient;
  /** What the view is given as its recipient. */
  proxy: Recipient;
  /** The recipient's fields it read, in order. */
  read: Set<string>;
  /** It listed the recipient's fields, or wrote to them: the whole recipient counts. */
  whole: boolean;
  /** It changed the recipient: never kept. */
  wrote: boolean;
}

/** The recipient as a view sees it, noting which of its fields the view reads. */
function watchRecipient(recipient: Recipient): Watch {
  const watch: Watch = { recipient, proxy: recipient, read: new Set(), whole: false, wrote: false };
  watch.proxy = new Proxy(recipient, {
    get(target, key, receiver) {
      if (typeof key === 'string') watch.read.add(key);
      else watch.whole = true;
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      watch.whole = true;
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      watch.whole = true;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      watch.whole = true;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    set(target, key, value, receiver) {
      watch.wrote = true;
      return Reflect.set(target, key, value, receiver);
    },
    defineProperty(target, key, descriptor) {
      watch.wrote = true;
      return Reflect.defineProperty(target, key, descriptor);
    },
    deleteProperty(target, key) {
      watch.wrote = true;
      return Reflect.deleteProperty(target, key);
    },
  });
  return watch;
}

/** A stable number for an object, for keys (job kinds: their functions count, not their fields). */
const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++nextId));
  return id;
}

/**
 * An object's JSON, as a key, worked out once per object: the platform's details and a run's
 * are read, never changed, and are the same objects for every recipient of a send.
 */
const jsonKeys = new WeakMap<object, string>();
function jsonOf(o: object): string {
  let key = jsonKeys.get(o);
  if (key === undefined) {
    try {
      key = JSON.stringify(o);
    } catch {
      // Not JSON (a cycle): the object itself is the key.
      key = `#${idOf(o)}`;
    }
    jsonKeys.set(o, key);
  }
  return key;
}

/** A recipient's value of the fields a view read, as a key (undefined apart from null). */
function valuesKey(recipient: Recipient, fields: string[] | 'whole'): string {
  const r = recipient as unknown as Record<string, unknown>;
  const values = fields === 'whole' ? Object.entries(r) : fields.map((f) => r[f]);
  return JSON.stringify(values, (_k, v) => (v === undefined ? '\u0000undefined' : v));
}

/**
 * Could the view reach its recipient after it returned: does it hold the watched recipient
 * itself, a function (Handlebars calls those) or a getter? Then it is not kept.
 */
function holds(value: unknown, proxy: object, seen = new Set<object>()): boolean {
  if (typeof value === 'function') return true;
  if (!value || typeof value !== 'object') return false;
  if (value === proxy) return true;
  if (seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) return value.some((v) => holds(v, proxy, seen));
  for (const key of Object.keys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if (d.get || d.set || holds(d.value, proxy, seen)) return true;
  }
  return false;
}

/** At most this many views are kept per run's snapshot (each with its filled templates, ≈100 KB). */
const VIEWS_PER_RUN = 32;

/**
 * The views kept for one run's snapshot (a WeakMap on the snapshot object: a run's data never
 * changes, and what is kept goes with it), by the rest of the render's input: the job kind, the
 * platform, the run's occurrence, variant and details, the period, the zone, the recipient's
 * locale as written, the organisation's name, the sender, the colour and the reply address.
 * Within that, by the values of the recipient's fields the view read (a council update reads
 * none; a digest reads the recipient's scope, a launch check-in their copy).
 */
class ViewMemo {
  private static readonly runs = new WeakMap<object, { count: number; slots: Map<string, ViewMemo> }>();

  /** Lists of fields read, each with the views kept by the values of those fields. */
  private readonly byFields: { fields: string[] | 'whole'; views: Map<string, { view: RecipientView['view']; shared: Record<string, unknown> }> }[] = [];
  /** A view of this slot held its recipient or changed it: this slot keeps nothing. */
  private closed = false;

  private constructor(private readonly run: { count: number }) {}

  static of(input: RenderInput): ViewMemo | undefined {
    const data = input.data;
    if (!data || typeof data !== 'object') return undefined;
    let run = ViewMemo.runs.get(data);
    if (!run) ViewMemo.runs.set(data, (run = { count: 0, slots: new Map() }));
    const { period, run: r, sender } = input;
    const key = [
      idOf(input.job),
      jsonOf(input.platform),
      r ? `${r.occurrence.toMillis()} ${r.occurrence.zoneName} ${r.variant} ${jsonOf(r.meta)}` : '-',
      `${period.start.toMillis()} ${period.start.zoneName} ${period.end.toMillis()} ${period.end.zoneName}`,
      input.timezone,
      input.recipient.locale,
      input.organizationName ?? '\u0000',
      sender ? `${sender.name}\u0000${sender.address}` : '\u0000',
      input.color,
      input.replyTo,
    ].join('\u0001');
    let slot = run.slots.get(key);
    if (!slot) run.slots.set(key, (slot = new ViewMemo(run)));
    return slot;
  }

  find(recipient: Recipient) {
    for (const { fields, views } of this.byFields) {
      const hit = views.get(valuesKey(recipient, fields));
      if (hit) return hit;
    }
    return undefined;
  }

  /** Keeps a view just worked out with `watch` as its recipient; false when it may not be. */
  keep(watch: Watch, view: RecipientView['view'], shared: Record<string, unknown>): boolean {
    if (this.closed || watch.wrote || holds(view, watch.proxy)) {
      this.closed = true;
      return false;
    }
    if (this.run.count >= VIEWS_PER_RUN) return false;
    const fields = watch.whole ? 'whole' : [...watch.read].sort();
    const name = fields === 'whole' ? fields : fields.join('\u0000');
    let list = this.byFields.find((f) => (f.fields === 'whole' ? f.fields : f.fields.join('\u0000')) === name);
    if (!list) this.byFields.push((list = { fields, views: new Map() }));
    list.views.set(valuesKey(watch.recipient, fields), { view, shared });
    this.run.count++;
    return true;
  }
}
