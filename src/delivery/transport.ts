import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { SmtpSender, type SmtpSendError, type SmtpStage } from './smtp-sender.ts';

/** One e-mail to one recipient, ready to go. */
export interface OutgoingMessage extends Pick<Mail.Options, 'from' | 'replyTo' | 'subject' | 'html' | 'text' | 'headers' | 'messageId' | 'icalEvent' | 'attachments' | 'list' | 'inReplyTo' | 'references' | 'envelope'> {
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
    /** The message may have been accepted (the connection was lost after the final dot): not to be resent. */
    readonly uncertain = false,
    /** Where in the SMTP exchange it failed. */
    readonly stage?: SmtpStage,
  ) {
    super(message);
  }
}

export interface Transport {
  readonly kind: 'outbox' | 'smtp';
  /**
   * Sends one message. `beforeHandOver` runs just before the message is complete at the server
   * (before SMTP's final dot): the ledger records it, so a crash after it is "outcome unknown"
   * and a crash before it is safely retried.
   */
  send(message: OutgoingMessage, hooks?: { beforeHandOver?: () => Promise<void> }): Promise<SendResult>;
  close(): Promise<void>;
}

export interface TransportOptions {
  kind: 'outbox' | 'smtp';
  /** Folder of the outbox transport. */
  outbox: string;
  /** smtp:// or smtps:// URL for the smtp transport. */
  smtp?: string | null;
  pool: { maxConnections: number };
  /** DKIM signing (the key itself, read by the config loader). */
  dkim?: { domain: string; selector: string; privateKey?: string };
}

/**
 * Headers DKIM signs: nodemailer's defaults plus List-Unsubscribe-Post, so a relay cannot turn a
 * one-click link into something else (RFC 8058 §4 asks for both List-Unsubscribe headers to be signed).
 */
const SIGNED_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:In-Reply-To:References:List-Id:List-Unsubscribe:List-Unsubscribe-Post:Auto-Submitted';

/** nodemailer's DKIM options for the config's key, if there is one. */
function dkimOptions(dkim: TransportOptions['dkim']) {
  return dkim?.privateKey ? { dkim: { domainName: dkim.domain, keySelector: dkim.selector, privateKey: dkim.privateKey, headerFieldNames: SIGNED_HEADERS } } : {};
}

export function createTransport(opts: TransportOptions): Transport {
  return opts.kind === 'smtp' ? smtpTransport(opts) : outboxTransport(opts.outbox, opts.dkim);
}

/** The default: the whole message as .eml plus its .html and .txt parts, nothing leaves the machine. */
export function outboxTransport(dir: string, dkim?: TransportOptions['dkim']): Transport {
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', ...dkimOptions(dkim) });
  return {
    kind: 'outbox',
    async send(message, hooks = {}) {
      const { fileStem, ...mail } = message;
      await hooks.beforeHandOver?.();
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
  const sender = new SmtpSender({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    maxConnections: opts.pool.maxConnections,
    // A local test server or relay without a certificate for its name still gets STARTTLS when offered.
    rejectUnauthorized: url.searchParams.get('tlsRejectUnauthorized') !== 'false',
  });
  // Built first (headers, MIME, Message-ID), then sent by a sender that knows the SMTP stage.
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...dkimOptions(opts.dkim) });
  return {
    kind: 'smtp',
    async send(message, hooks = {}) {
      const { fileStem: _stem, ...mail } = message;
      const built = await builder.sendMail(mail);
      const envelope = { from: built.envelope.from || '', to: built.envelope.to.map(String) };
      let info;
      try {
        info = await sender.send(envelope, built.message as Buffer, hooks.beforeHandOver ?? (async () => undefined));
      } catch (e) {
        const err = e as SmtpSendError;
        const code = err.responseCode;
        // After the final dot, with no answer: the server may have it. Before it: it cannot.
        if (err.stage === 'dot' && code === undefined) throw new SendError(`no answer after the message was handed over (${err.code ?? err.message})`, false, undefined, true, err.stage);
        // 5xx is final except 503 (bad sequence, a server-side state problem worth a retry).
        const permanent = code !== undefined && code >= 500 && code !== 503;
        throw new SendError(`${code ? `SMTP ${code}: ` : ''}${err.message}${code === undefined ? ` (at ${err.stage})` : ''}`, permanent, code, false, err.stage);
      }
      if (info.rejected.length) throw new SendError(`the SMTP server rejected ${info.rejected.join(', ')}`, true, undefined, false, 'envelope');
      return { messageId: built.messageId };
    },
    async close() {
      await sender.close();
    },
  };
}
