import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Duration } from 'luxon';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { SmtpSender, SmtpSendError, type SmtpStage } from './smtp-sender.ts';
import { enhancedStatus, isHardBounce } from '../smtp-status.ts';

/** One e-mail to one recipient, ready to go. */
export interface OutgoingMessage extends Pick<Mail.Options, 'from' | 'replyTo' | 'subject' | 'html' | 'text' | 'headers' | 'messageId' | 'icalEvent' | 'attachments' | 'list' | 'inReplyTo' | 'references' | 'envelope' | 'textEncoding'> {
  to: { name: string; address: string };
  /** File name stem for the outbox, e.g. "2027-01-04-council-quarterly-17". */
  fileStem: string;
}

export interface SendResult {
  messageId: string;
  /** Where the outbox wrote it (outbox transport only). */
  files?: string[];
}

/**
 * What a failed send means for the delivery and for sending as a whole:
 * - temporary: 4xx, connection refused, reset or timed out: retried with backoff and jitter;
 * - permanent: 5xx on the envelope or the message: failed at once, the reply kept;
 * - paused: the server refused Crier itself (authentication, TLS): nothing can be sent until a
 *   probe gets through; the delivery waits, it is not burned;
 * - uncertain: the connection was lost after the final dot: the server may have it.
 */
export type FailureClass = 'temporary' | 'permanent' | 'paused' | 'uncertain';

/** A failed send, classified. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly failure: FailureClass,
    readonly responseCode?: number,
    /** Where in the SMTP exchange it failed. */
    readonly stage?: SmtpStage,
    /** The server's own reply, when it gave one. */
    readonly reply?: string,
    /** The reply says the address itself is bad (a hard bounce): suppress it. */
    readonly hardBounce = false,
  ) {
    super(message);
  }

  /** Not retried: failed at once. */
  get permanent(): boolean {
    return this.failure === 'permanent';
  }

  /** The message may have been accepted (the connection was lost after the final dot): not to be resent. */
  get uncertain(): boolean {
    return this.failure === 'uncertain';
  }
}

/** TLS trouble at connect: a certificate the config does not accept, or no TLS where it was required. */
const TLS_TROUBLE = /certificate|self[- ]signed|CERT_|TLS|SSL|wrong version number|handshake/i;

/** Commands whose refusal is about Crier itself (its connection, its name, its sender), not one recipient. */
const ABOUT_CRIER = /^(CONN|EHLO|HELO|LHLO|MAIL)/i;

/**
 * Sorts an SMTP failure into its class. A 5xx is permanent for the delivery, and a hard bounce
 * (the address is suppressed) only when it says the address is bad (see isHardBounce). A 5xx to
 * the connection, EHLO or MAIL FROM refuses Crier itself (a blocklisted IP, a sender the
 * account may not use): every delivery would meet it, so sending pauses instead of burning
 * them; except a message too big for the server (552, 5.3.4), which only concerns that message.
 */
export function classifySmtpFailure(err: SmtpSendError): SendError {
  const code = err.responseCode;
  const reply = err.response?.trim() || undefined;
  const said = `${code ? `SMTP ${code}: ` : ''}${err.message}${code === undefined ? ` (at ${err.stage})` : ''}`;
  // After the final dot, with no answer: the server may have it. Before it: it cannot.
  if (err.stage === 'dot' && code === undefined) return new SendError(`no answer after the message was handed over (${err.code ?? err.message})`, 'uncertain', undefined, err.stage);
  if (err.code === 'EAUTH' || code === 530 || code === 534 || code === 535 || code === 538 || /^AUTH/i.test(err.command ?? '')) {
    return new SendError(`the SMTP server refused Crier's login (${said}); check the user and password in mail.smtp`, 'paused', code, err.stage, reply);
  }
  if (err.stage === 'connect' && (err.code === 'ETLS' || TLS_TROUBLE.test(err.message))) {
    return new SendError(`TLS with the SMTP server failed (${said}); check its certificate, the host name in mail.smtp, or tlsRejectUnauthorized`, 'paused', code, err.stage, reply);
  }
  // 5xx is final except 503 (bad sequence, a server-side state problem worth a retry).
  if (code !== undefined && code >= 500 && code !== 503) {
    const tooBig = code === 552 || enhancedStatus(reply ?? err.message)?.startsWith('5.3.');
    if (ABOUT_CRIER.test(err.command ?? '') && !tooBig) {
      return new SendError(`the SMTP server refuses Crier's ${/^MAIL/i.test(err.command ?? '') ? 'sender address' : 'connection'} (${said}); check mail.from and what the relay allows this account and IP`, 'paused', code, err.stage, reply);
    }
    return new SendError(said, 'permanent', code, err.stage, reply, isHardBounce({ code, command: err.command, text: reply ?? err.message }));
  }
  return new SendError(said, 'temporary', code, err.stage, reply);
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
  /** Connections at once, and how long to wait for the server at any step (ISO-8601, default PT1M). */
  pool: { maxConnections: number; timeout?: string };
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

/**
 * nodemailer, loaded when a transport is made: commands that only open the config (`crier
 * check`, `status`) load this module through cli/context.ts and need not pay for it at start.
 */
const nodemailer = (): typeof import('nodemailer') => createRequire(import.meta.url)('nodemailer');

export function createTransport(opts: TransportOptions): Transport {
  return opts.kind === 'smtp' ? smtpTransport(opts) : outboxTransport(opts.outbox, opts.dkim);
}

/** The default: the whole message as .eml plus its .html and .txt parts, nothing leaves the machine. */
export function outboxTransport(dir: string, dkim?: TransportOptions['dkim']): Transport {
  const writer = nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'unix', ...dkimOptions(dkim) });
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
    timeoutMs: opts.pool.timeout ? Duration.fromISO(opts.pool.timeout).toMillis() : 60_000,
    // A local test server or relay without a certificate for its name still gets STARTTLS when offered.
    rejectUnauthorized: url.searchParams.get('tlsRejectUnauthorized') !== 'false',
  });
  // Built first (headers, MIME, Message-ID), then sent by a sender that knows the SMTP stage.
  const builder = nodemailer().createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...dkimOptions(opts.dkim) });
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
        if (!(e instanceof SmtpSendError)) throw e;
        throw classifySmtpFailure(e);
      }
      if (info.rejected.length) throw new SendError(`the SMTP server rejected ${info.rejected.join(', ')}`, 'permanent', undefined, 'envelope', info.response, true);
      return { messageId: built.messageId };
    },
    async close() {
      await sender.close();
    },
  };
}
