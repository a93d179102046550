import { createHash } from 'node:crypto';
import EmailReplyParser from 'email-reply-parser';
import { convert } from 'html-to-text';
import iconv from 'iconv-lite';
import PostalMime, { type Email } from 'postal-mime';
import type { AnswerItem } from '../kit/rounds.ts';

/** What kind of message came back. */
export type InboundKind = 'reply' | 'auto-reply' | 'bounce';

/** A received message, read: who sent it, what it refers to, and what the person wrote. */
export interface InboundMessage {
  /** Message-ID without brackets, else a hash of the bytes: what makes a message count once. */
  dedupeKey: string;
  messageId: string | null;
  from: string | null;
  fromName: string | null;
  /** Every address it was sent to (To, Cc, Delivered-To, X-Original-To), lower-cased. */
  recipients: string[];
  subject: string;
  /** The Date header, when it parses. */
  date: Date | null;
  /** In-Reply-To and References, without brackets, nearest first. */
  thread: string[];
  kind: InboundKind;
  /** For a delivery status notification (RFC 3464): what it reports on, and what became of it. */
  bounce?: DeliveryReport;
  /** The whole text (decoded; HTML-only messages as text). */
  fullText: string;
  /** What the sender wrote: quoted history, the forwarded message and the signature removed. */
  answer: string;
}

/**
 * What a delivery status notification says about one recipient: the Message-ID of the message
 * it reports on (from its returned headers), the recipient, and its Action (failed, delayed,
 * delivered, relayed, expanded), Status (e.g. 5.1.1) and Diagnostic-Code.
 */
export interface DeliveryReport {
  messageId: string | null;
  recipient: string | null;
  action: string | null;
  status: string | null;
  diagnostic: string | null;
}

const stripBrackets = (id: string) => id.trim().replace(/^<|>$/g, '');

/** What makes a message without a Message-ID count once: a hash of its bytes. */
export const contentKey = (raw: Buffer) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

/**
 * Node decodes windows-1252 bytes 0x80–0x9F as C1 control characters (nodejs/node#56542), so
 * an Outlook message's "’" and "€" would arrive as invisible controls; no real text has them.
 */
function repairWindows1252(text: string): string {
  return text.replace(/[\u0080-\u009f]/g, (c) => iconv.decode(Buffer.from([c.charCodeAt(0)]), 'win1252'));
}

/** RFC 3834 and the headers real auto-responders set (Exchange, Gmail, Postfix vacation). */
function isAutoReply(headers: Email['headers']): boolean {
  const get = (k: string) => headers.find((h) => h.key === k)?.value.trim().toLowerCase();
  const autoSubmitted = get('auto-submitted');
  if (autoSubmitted && autoSubmitted !== 'no') return true;
  if (get('x-autoreply') !== undefined || get('x-autorespond') !== undefined) return true;
  const precedence = get('precedence');
  return precedence === 'auto_reply' || precedence === 'bulk' || precedence === 'junk';
}

/** The fields of a delivery-status block (RFC 3464 §2.1), continuation lines unfolded, names lower-cased. */
function statusFields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1].toLowerCase())) fields.set(m[1].toLowerCase(), m[2].trim());
  }
  return fields;
}

const partText = (content: ArrayBuffer | Uint8Array | string) => (typeof content === 'string' ? content : Buffer.from(content as ArrayBuffer).toString('latin1'));

/**
 * What a delivery status notification (RFC 3464) reports: read from its message/delivery-status
 * part (the per-recipient block that failed, else the first), and the original Message-ID from
 * its returned headers (text/rfc822-headers or message/rfc822). A report whose parts a parser
 * cannot tell apart is read from its raw text.
 */
function readBounce(email: Email, raw: string): DeliveryReport {
  const parts = email.attachments.map((a) => ({ type: a.mimeType.toLowerCase(), text: partText(a.content) }));
  const report = parts.find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status')?.text;
  let fields: Map<string, string>;
  if (report) {
    // The first block is about the message; each following one about a recipient.
    const blocks = report.split(/\r?\n\s*\r?\n/).map(statusFields).filter((f) => f.size);
    const recipients = blocks.filter((f) => f.has('final-recipient') || f.has('action'));
    fields = recipients.find((f) => f.get('action')?.toLowerCase() === 'failed') ?? recipients[0] ?? new Map();
  } else {
    const at = raw.search(/^Content-Type:\s*message\/(global-)?delivery-status/im);
    fields = statusFields(at >= 0 ? raw.slice(raw.indexOf('\n', at) + 1) : '');
  }
  const returned = parts.find((p) => /^(text|message)\/rfc822-headers$|^message\/(global|rfc822)$/.test(p.type))?.text;
  let original = returned ? /^Message-ID:\s*(<[^>]+>)/im.exec(returned) : null;
  if (!original) {
    // A returned message a parser took in as a part of its own: its headers follow its Content-Type line.
    const at = raw.search(/^Content-Type:\s*(text\/rfc822-headers|message\/rfc822-headers|message\/rfc822|message\/global)/im);
    if (at >= 0) original = /^Message-ID:\s*(<[^>]+>)/im.exec(raw.slice(at));
  }
  const recipient = fields.get('final-recipient') ?? fields.get('original-recipient') ?? null;
  const get = (k: string) => fields.get(k) || null;
  return {
    messageId: original ? stripBrackets(original[1]) : null,
    recipient: recipient ? recipient.replace(/^rfc822;\s*/i, '').replace(/^<|>$/g, '').toLowerCase() : null,
    action: get('action')?.toLowerCase() ?? null,
    status: get('status')?.split(/\s/)[0] ?? null,
    diagnostic: get('diagnostic-code'),
  };
}

/** The text of a message: its plain part, else its HTML as text (paragraphs as lines, list items as "- "). */
function bodyText(email: Email): string {
  if (email.text?.trim()) return email.text;
  if (!email.html) return '';
  return convert(email.html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'ul', options: { itemPrefix: '- ' } },
      { selector: 'p', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
      { selector: 'blockquote', format: 'blockString', options: {} },
    ],
  });
}

/** Lines that start the history under a reply, which email-reply-parser does not know. */
const HISTORY = [
  /^-{5,}\s*(Forwarded message|Doorgestuurd bericht|Message transféré|Weitergeleitete Nachricht)\s*-{5,}\s*$/i,
  /^Begin forwarded message:\s*$/i,
  /^(Op|Le|Am|On)\s.+\n?.*(geschreven|schreef|écrit|schrieb|wrote)\s?:\s*$/im,
  // Outlook's header block of the message replied to, in the languages Crier speaks.
  /^(From|Van|De|Von)\s?:\s.+\n(Sent|Verzonden|Envoyé|Gesendet|Date|Datum)\s?:/im,
];

/** What the sender wrote: above the quoted or forwarded message, without the signature. */
export function answerText(text: string): string {
  let body = text.replace(/\r\n?/g, '\n').replace(/\ufeff/g, '').replace(/\u00a0/g, ' ');
  // Cut at the earliest start of history that a pattern finds (the quoted call may contain
  // lines that look like anything, so only the first counts).
  let cut = body.length;
  for (const re of HISTORY) {
    const m = re.exec(body);
    if (m && m.index < cut) cut = m.index;
  }
  body = body.slice(0, cut);
  const visible = new EmailReplyParser().read(body).getVisibleText();
  return stripClosing(visible).replace(/\n{3,}/g, '\n\n').trim();
}

/** A closing formula and everything under it ("Groeten,", "Best,", "Bien à vous,", "Viele Grüße"). */
const CLOSING = /^(groeten|met vriendelijke groet(en)?|vriendelijke groet(en)?|mvg|best|best regards|kind regards|regards|thanks|thank you|cheers|bien à vous|cordialement|bien cordialement|viele grüße|mit freundlichen grüßen|beste grüße|liebe grüße)[,.!]?\s*$/i;
function stripClosing(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => CLOSING.test(l.trim()));
  return (at >= 0 ? lines.slice(0, at) : lines).join('\n');
}

const BULLET = /^\s*(?:[-*•·–]|\d{1,2}[.)])\s+(.*)$/;
/** A whole answer that says there is nothing this time ("Niets dit kwartaal", "Dieses Quartal nichts Neues"). */
const NOTHING = /\b(nothing|niets|niks|rien|nichts)\b|^(no|geen|keine?|aucun|none)\s+(new\s+)?(projects?|projecten|projekte?|projets?)\b/i;

/**
 * The items of an answer: its bullet or numbered lines when it has any (a lead-in line is not
 * an item), else its paragraphs. A title is an item's first line, or its first sentence; the
 * rest is its description. An answer that says there is nothing has no items.
 */
export function answerItems(answer: string): AnswerItem[] {
  const lines = answer.split('\n');
  const bulleted: string[] = [];
  for (const line of lines) {
    const m = BULLET.exec(line);
    if (m) bulleted.push(m[1]);
    else if (bulleted.length && line.trim() && /^\s{2,}/.test(line)) bulleted[bulleted.length - 1] += `\n${line.trim()}`;
  }
  const chunks = bulleted.length
    ? bulleted
    : answer
        .split(/\n\s*\n/)
        .map((p) => p.trim())
        .filter((p) => p && !isSalutation(p));
  if (!bulleted.length && chunks.length === 1 && NOTHING.test(chunks[0]) && chunks[0].length < 80) return [];
  return chunks.map(splitItem).filter((i) => i.title);
}

/** "Hi,", "Dag team participatie," "Bonjour," on their own: a greeting, not an item. */
function isSalutation(p: string): boolean {
  return !p.includes('\n') && p.length < 60 && /,\s*$/.test(p);
}

function splitItem(chunk: string): AnswerItem {
  const text = chunk.trim();
  const nl = text.indexOf('\n');
  if (nl >= 0) return { title: text.slice(0, nl).trim().replace(/[.:]$/, ''), description: text.slice(nl + 1).replace(/\s*\n\s*/g, ' ').trim() };
  const m = /^(.+?[.?!])\s+(.*)$/s.exec(text);
  if (!m) return { title: text.replace(/\.$/, ''), description: '' };
  return { title: m[1].replace(/\.$/, '').trim(), description: m[2].trim() };
}

/** Reads a raw RFC 5322 message: headers, kind, and the answer in it. */
export async function parseInbound(raw: Buffer): Promise<InboundMessage> {
  const email = await PostalMime.parse(raw);
  const header = (k: string) => email.headers.filter((h) => h.key === k).map((h) => h.value);
  const addresses = (list: { address?: string }[] | undefined) => (list ?? []).flatMap((a) => (a.address ? [a.address.toLowerCase()] : []));
  const recipients = [
    ...addresses(email.to),
    ...addresses(email.cc),
    ...header('delivered-to').map((v) => stripBrackets(v).toLowerCase()),
    ...header('x-original-to').map((v) => stripBrackets(v).toLowerCase()),
  ];
  const thread = [...(email.inReplyTo ? email.inReplyTo.split(/\s+/) : []), ...(email.references ? email.references.split(/\s+/).reverse() : [])]
    .filter((id) => id.includes('@'))
    .map(stripBrackets);
  const text = repairWindows1252(bodyText(email));
  const contentType = header('content-type')[0] ?? '';
  const isDsn = /multipart\/report/i.test(contentType) && /report-type\s*=\s*"?delivery-status/i.test(contentType);
  const kind: InboundKind = isDsn ? 'bounce' : isAutoReply(email.headers) ? 'auto-reply' : 'reply';
  const messageId = email.messageId ? stripBrackets(email.messageId) : null;
  const date = email.date ? new Date(email.date) : null;
  return {
    dedupeKey: messageId ?? contentKey(raw),
    messageId,
    from: email.from?.address?.toLowerCase() ?? null,
    fromName: email.from?.name || null,
    recipients: [...new Set(recipients)],
    subject: email.subject ?? '',
    date: date && !Number.isNaN(date.getTime()) ? date : null,
    thread: [...new Set(thread)],
    kind,
    ...(isDsn ? { bounce: readBounce(email, raw.toString('latin1')) } : {}),
    fullText: text,
    answer: kind === 'reply' ? answerText(text) : '',
  };
}
