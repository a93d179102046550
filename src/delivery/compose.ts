import type { DateTime, Interval } from 'luxon';
import type { CrierConfig } from '../config/load.ts';
import type { Schedule, ScheduleBook } from '../deployment/schedules.ts';
import type { Platform } from '../platform/platform.ts';
import type { Recipient } from '../kit/contract.ts';
import { renderMessage, type RenderedMessage } from './message.ts';
import type { OutgoingMessage } from './transport.ts';
import { replyAddress } from '../inbound/token.ts';

export interface ComposeInput {
  schedule: Schedule;
  data: unknown;
  period: Interval<true>;
  recipient: Recipient;
  /** The run's occurrence, variant and details. */
  run: { occurrence: DateTime; variant: string; meta: Record<string, unknown> };
  /** Ledger ids, when the message belongs to a run (not a preview). */
  runId?: number;
  deliveryId?: number;
  fileStem: string;
}

/** The address part of "Name <address>". */
export function addressOf(from: string): string {
  return (/<([^>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
}

/** The name part of "Name <address>" (the address when there is none). */
export function senderName(from: string): string {
  const m = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(from);
  return m?.[1]?.trim() || addressOf(from);
}

/** What composing an e-mail reads: the platform's facts, the job kinds, the sender and the look. */
export interface ComposeDeps {
  platform(): Promise<Platform>;
  schedules(): Promise<ScheduleBook>;
  config: Pick<CrierConfig, 'mail' | 'organization' | 'inbound'>;
}

/** Renders and addresses one recipient's e-mail. */
export async function composeMessage(deps: ComposeDeps, input: ComposeInput): Promise<{ message: OutgoingMessage; rendered: RenderedMessage }> {
  const [platform, book] = await Promise.all([deps.platform(), deps.schedules()]);
  const { mail, organization } = deps.config;
  const replyTo = mail.replyTo ?? addressOf(mail.from);
  const rendered = await renderMessage({
    job: book.job(input.schedule.job),
    data: input.data,
    recipient: input.recipient,
    platform: platform.info,
    period: input.period,
    timezone: input.schedule.timezone,
    run: input.run,
    sender: { name: senderName(mail.from), address: addressOf(mail.from) },
    organizationName: organization.name,
    color: organization.color,
    replyTo,
  });
  const domain = addressOf(mail.from).split('@')[1] ?? 'crier.invalid';
  // A conversation Crier reads the replies of: a personal, signed Reply-To, and the thread.
  const inbound = deps.config.inbound;
  const conversation = inbound ? rendered.conversation : undefined;
  const threadDelivery = conversation === 'new' ? input.deliveryId : conversation?.deliveryId;
  const personalReplyTo = conversation && inbound ? replyAddress(inbound.address, inbound.secret, threadDelivery ?? 0) : undefined;
  const thread = conversation && conversation !== 'new' && conversation.messageId ? conversation.messageId : undefined;
  const headers: Record<string, string> = {
    'Auto-Submitted': 'auto-generated',
    'X-Crier-Schedule': input.schedule.id,
  };
  if (input.runId !== undefined) headers['X-Crier-Run'] = String(input.runId);
  return {
    rendered,
    message: {
      from: mail.from,
      // A name can come from a reply's From header (an acknowledgement): one line, never a header break.
      to: { name: input.recipient.name.replace(/[\r\n\u0000-\u001f]+/g, ' ').trim(), address: input.recipient.email },
      replyTo: personalReplyTo ?? replyTo,
      ...(thread ? { inReplyTo: thread, references: [thread] } : {}),
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers,
      // Known before the send, so a crash after the server accepted still leaves a traceable id.
      // Mail clients show an "unsubscribe" button for it; a reply reaches the superadmin, who
      // takes the person off the audience (there is no web endpoint for one-click yet).
      list: { unsubscribe: `mailto:${replyTo}?subject=${encodeURIComponent(`Unsubscribe ${input.recipient.email} from ${input.schedule.id}`)}` },
      messageId: input.deliveryId !== undefined ? `<crier.${input.runId}.${input.deliveryId}@${domain}>` : undefined,
      // A calendar invitation travels as text/calendar, which mail clients offer to add or update.
      icalEvent: rendered.calendar ? { method: rendered.calendar.method, content: rendered.calendar.content, filename: 'invite.ics' } : undefined,
      fileStem: input.fileStem,
    },
  };
}
