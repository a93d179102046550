import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

/** One e-mail to one recipient, ready to go. */
export interface OutgoingMessage extends Pick<Mail.Options, 'from' | 'replyTo' | 'subject' | 'html' | 'text' | 'headers' | 'messageId' | 'icalEvent' | 'attachments' | 'list' | 'inReplyTo' | 'references'> {
  to: { name: string; address: string };
  /** File name stem for the outbox, e.g. "2027-01-04-council-quarterly-17". */
  fileStem: string;
}

export interface SendResult {
  messageId: string;
  /** Where the outbox wrote it (outbox transport only). */
  files?: string[];
}

/** A failed send: `permanent` ones are not retried (5xx, rejected recipient). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly responseCode?: number,
    /** The message may have been accepted (the connection was lost after DATA): not to be resent. */
    readonly uncertain = false,
  ) {
    super(message);
  }
}

export interface Transport {
  readonly kind: 'outbox' | 'smtp';
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}

export interface TransportOptions {
  kind: 'outbox' | 'smtp';
  /** Folder of the outbox transport. */
  outbox: string;
  /** smtp:// or smtps:// URL for the smtp transport. */
  smtp?: string | null;
  pool: { maxConnections: number; rateLimit?: number };
}

export function createTransport(opts: TransportOptions): Transport {
  return opts.kind === 'smtp' ? smtpTransport(opts) : outboxTransport(opts.outbox);
}

/** The default: the whole message as .eml plus its .html and .txt parts, nothing leaves the machine. */
export function outboxTransport(dir: string): Transport {
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async send(message) {
      const { fileStem, ...mail } = message;
      const info = await writer.sendMail(mail);
      mkdirSync(dir, { recursive: true });
      const stem = path.join(dir, fileStem.replace(/[^A-Za-z0-9._-]+/g, '_'));
      const files = [`${stem}.eml`, `${stem}.html`, `${stem}.txt`];
      writeFileSync(files[0], info.message as Buffer);
      writeFileSync(files[1], String(message.html ?? ''));
      writeFileSync(files[2], String(message.text ?? ''));
      return { messageId: info.messageId, files };
    },
    async close() {
      writer.close();
    },
  };
}

function smtpTransport(opts: TransportOptions): Transport {
  if (!opts.smtp) throw new Error('mail.transport is smtp but mail.smtp is not set');
  const url = new URL(opts.smtp);
  const transporter = nodemailer.createTransport({
    pool: true,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    maxConnections: opts.pool.maxConnections,
    ...(opts.pool.rateLimit ? { rateLimit: opts.pool.rateLimit, rateDelta: 1000 } : {}),
    // A local test server or relay without a certificate for its name still gets STARTTLS when offered.
    tls: { rejectUnauthorized: url.searchParams.get('tlsRejectUnauthorized') !== 'false' },
  });
  // The message is built first, then sent as a stream Crier watches: once the server has read
  // the whole body, a lost connection means it may have the message (not to be sent again);
  // before that, nothing was delivered and a retry is safe.
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    kind: 'smtp',
    async send(message) {
      const { fileStem: _stem, ...mail } = message;
      const built = await builder.sendMail(mail);
      let bodyRead = false;
      const raw = Readable.from(
        (async function* () {
          yield built.message as Buffer;
          bodyRead = true;
        })(),
      );
      let info;
      try {
        info = await transporter.sendMail({ envelope: built.envelope, raw });
      } catch (e) {
        const err = e as Error & { responseCode?: number; code?: string };
        const code = err.responseCode;
        if (code === undefined && bodyRead) throw new SendError(`no answer after the message was sent (${err.code ?? err.message})`, false, undefined, true);
        // 5xx is final except 503 (bad sequence, a server-side state problem worth a retry).
        const permanent = code !== undefined && code >= 500 && code !== 503;
        throw new SendError(`${code ? `SMTP ${code}: ` : ''}${err.message}`, permanent, code);
      }
      const rejected = (info.rejected ?? []).map(String);
      if (rejected.length) throw new SendError(`the SMTP server rejected ${rejected.join(', ')}`, true);
      return { messageId: built.messageId };
    },
    async close() {
      transporter.close();
    },
  };
}
