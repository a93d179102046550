import { createHmac } from 'node:crypto';
import type { DateTime, Interval } from 'luxon';
import type { CrierConfig } from '../config/load.ts';
import { addressOf, senderName } from '../config/addresses.ts';
import type { Schedule, ScheduleBook } from '../deployment/schedules.ts';
import type { Platform } from '../platform/platform.ts';
import type { Recipient } from '../kit/contract.ts';
import { renderMessage, type RenderedMessage } from './message.ts';
import type { OutgoingMessage } from './transport.ts';
import { bounceAddress, replyAddress } from '../inbound/token.ts';
import { unsubscribeUrl } from './unsubscribe.ts';
import { REVIEW } from '../review/plan.ts';
import { draftAttachments } from './review-drafts.ts';
import type { ReviewData } from '../review/draft.ts';

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

/** What composing an e-mail reads: the platform's facts, the job kinds, the sender and the look. */
export interface ComposeDeps {
  platform(): Promise<Platform>;
  schedules(): Promise<ScheduleBook>;
  config: Pick<CrierConfig, 'mail' | 'organization' | 'inbound' | 'http' | 'tenant'>;
}

/** The mailto fallback of List-Unsubscribe: a person reads it and takes the address off the list. */
function unsubscribeMailto(replyTo: string, email: string, scheduleId: string): string {
  return `mailto:${replyTo}?subject=${encodeURIComponent(`Unsubscribe ${email} from ${scheduleId}`)}`;
}

/** Renders and addresses one recipient's e-mail. */
export async function composeMessage(deps: ComposeDeps, input: ComposeInput): Promise<{ message: OutgoingMessage; rendered: RenderedMessage }> {
  const [platform, book] = await Promise.all([deps.platform(), deps.schedules()]);
  const { mail, organization } = deps.config;
  const replyTo = mail.replyTo ?? addressOf(mail.from);
  // `unsubscribe: none` is mail a role must receive: no List-Unsubscribe, and the footer says why.
  const required = input.schedule.unsubscribe === 'none';
  const http = deps.config.http;
  // Without http.secrets there is no unsubscribe endpoint: only the mailto: link.
  const oneClick = !required && http?.secrets && http.publicUrl ? unsubscribeUrl(http.publicUrl, http.secrets, { email: input.recipient.email, schedule: input.schedule.id, job: input.schedule.job, locale: input.recipient.locale, tenant: deps.config.tenant }) : undefined;
  const rendered = await renderMessage({
    job: book.kindOf(input.schedule.job, input.run.variant),
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
    unsubscribe: { url: oneClick, required },
  });
  // A review round carries the drafts, one per language the send's audience reads, as they will arrive.
  const attachments = input.run.variant === REVIEW ? await draftAttachments({ job: book.job(input.schedule.job), data: input.data as ReviewData, platform: platform.info, schedule: input.schedule, occurrence: input.run.occurrence, sender: { name: senderName(mail.from), address: addressOf(mail.from) }, organizationName: organization.name, color: organization.color, replyTo }) : undefined;
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
  // RFC 8058: a mail provider's "unsubscribe" button POSTs to the link, with no person reading anything.
  // RFC 8058 §3.1 asks for an HTTPS link: over plain http (a local demo) the link stays, without the one-click claim.
  if (oneClick?.startsWith('https:')) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  const mailto = unsubscribeMailto(replyTo, input.recipient.email, input.schedule.id);
  // Bounces come back to a personal envelope sender (VERP) that names the delivery.
  const bounces = mail.bounces === false ? undefined : (mail.bounces ?? inbound?.address);
  const envelopeFrom = bounces && inbound && input.deliveryId !== undefined ? bounceAddress(bounces, inbound.secret, input.deliveryId) : undefined;
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
      // Crier's e-mails are mostly ASCII in every catalogue language: quoted-printable, which
      // nodemailer would otherwise decide by reading every character of each part, every send.
      textEncoding: 'quoted-printable',
      headers,
      // One header, "<https://…>, <mailto:…>" (a nested list: nodemailer writes one header per outer item).
      ...(required ? {} : { list: { unsubscribe: [oneClick ? [oneClick, mailto] : [mailto]] } }),
      ...(envelopeFrom ? { envelope: { from: envelopeFrom, to: [input.recipient.email] } } : {}),
      // Known before the send, so a crash after the server accepted still leaves a traceable id.
      messageId: input.deliveryId !== undefined ? messageIdOf(input.runId!, input.deliveryId, domain, inbound?.secret) : undefined,
      // A calendar invitation travels as text/calendar, which mail clients offer to add or update.
      ...(attachments ? { attachments } : {}),
      icalEvent: rendered.calendar ? { method: rendered.calendar.method, content: rendered.calendar.content, filename: 'invite.ics' } : undefined,
      fileStem: input.fileStem,
    },
  };
}

/**
 * The Message-ID of one delivery, known before the send. With inbound mail configured it carries
 * a signature: a bounce matched by Message-ID cannot be forged by guessing run and delivery numbers.
 */
export function messageIdOf(runId: number, deliveryId: number, domain: string, secret?: string): string {
  const sig = secret ? `.${createHmac('sha256', secret).update(`crier-message:${runId}.${deliveryId}`).digest('base64url').slice(0, 12).replace(/[-_]/g, 'x')}` : '';
  return `<crier.${runId}.${deliveryId}${sig}@${domain}>`;
}
