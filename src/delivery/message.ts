import type { DateTime, Interval } from 'luxon';
import type { JobKind, Recipient, ViewContext } from '../kit/contract.ts';
import type { PlatformInfo } from '../platform/platform.ts';
import { catalogueLocale, fallbackChain, translate } from '../render/catalog.ts';
import { Formatter } from '../render/format.ts';
import { resolveMultiloc } from '../render/multiloc.ts';
import { compileTemplate, compileText } from '../render/template.ts';

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

export async function renderMessage(input: RenderInput): Promise<RenderedMessage & { calendar?: { method: 'REQUEST' | 'CANCEL'; content: string }; conversation?: ReturnType<NonNullable<JobKind['conversation']>> }> {
  const ctx = viewContext(input);
  const locale = catalogueLocale(input.recipient.locale, input.platform.locales);
  const view = input.job.view(input.data, ctx) as { subject?: string; preheader?: string } & Record<string, unknown>;
  if (!view.subject) throw new Error(`job kind ${input.job.name} gave no subject`);
  const template = await compileTemplate(input.job.name, { locale: input.recipient.locale, color: input.color });
  const full = {
    ...view,
    _chain: ctx.chain,
    recipient: input.recipient,
    organization: ctx.platformName,
    platformUrl: input.platform.url,
    color: input.color,
    replyTo: input.replyTo,
    unsubscribeUrl: input.unsubscribe?.url,
    requiredMail: input.unsubscribe?.required ?? false,
  };
  const html = template(full);
  const text = compileText(input.job.name)(full);
  const calendar = input.job.calendar?.(input.data, ctx);
  const conversation = input.job.conversation?.(input.data, ctx);
  return { subject: view.subject, html, text, preheader: view.preheader ?? '', locale, calendar, conversation };
}
