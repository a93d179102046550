import type { Socket } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/**
 * Where in the SMTP exchange a send is: a failure before `dot` means the server cannot have
 * the message (a retry is safe); after the final dot and before the server's answer, it may.
 */
export type SmtpStage = 'connect' | 'envelope' | 'data' | 'dot';

/** A failed SMTP send, with the stage it failed at and the server's answer, if any. */
export class SmtpSendError extends Error {
  constructor(
    message: string,
    readonly stage: SmtpStage,
    readonly responseCode: number | undefined,
    readonly code: string | undefined,
    /** The server's reply line, e.g. "550 5.1.1 <x@y>: Recipient address rejected". */
    readonly response?: string,
    /** The SMTP command it answered (MAIL FROM, RCPT TO, DATA, AUTH …). */
    readonly command?: string,
  ) {
    super(message);
  }
}

export interface SmtpSenderOptions {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  rejectUnauthorized: boolean;
  maxConnections: number;
  /** How long to wait for the server at any step (connect, greeting, a reply). */
  timeoutMs?: number;
  /** Messages per connection before it is renewed. */
  maxMessages?: number;
}

/** The end of DATA: a line with a single dot. Dot-stuffing makes it impossible inside a body. */
const TERMINATOR = '\r\n.\r\n';

interface Conn {
  smtp: SMTPConnection;
  sent: number;
  broken: boolean;
  /** The send in progress on this connection. */
  current?: { stage: SmtpStage; tail: string; beforeDot: () => Promise<void> };
  patched?: Socket;
}

/**
 * SMTP sending that knows exactly where it is in the exchange. Each connection's socket writes
 * are watched: the DATA command, the body, and the final dot, whose write waits until
 * `beforeDot` (the ledger recording that the message is handed over) has completed. So a
 * crash can leave "outcome unknown" only for a message whose final dot was sent.
 */
export class SmtpSender {
  private readonly idle: Conn[] = [];
  /** Every open connection, idle or busy: closing the sender cuts off sends under way. */
  private readonly all = new Set<Conn>();
  private open = 0;
  private readonly waiting: ((c: Conn | Error) => void)[] = [];
  private closed = false;

  constructor(private readonly opts: SmtpSenderOptions) {}

  async send(envelope: { from: string; to: string[] }, raw: Buffer, beforeDot: () => Promise<void>): Promise<{ accepted: string[]; rejected: string[]; response: string }> {
    let conn: Conn;
    try {
      conn = await this.acquire();
    } catch (e) {
      const err = e as Error & { responseCode?: number; code?: string; response?: string; command?: string };
      throw new SmtpSendError(err.message, 'connect', err.responseCode, err.code, err.response, err.command);
    }
    // 'connect' until the first command of this message is written (a reused connection may have died idle).
    const current = { stage: 'connect' as SmtpStage, tail: '', beforeDot };
    conn.current = current;
    this.watch(conn);
    try {
      const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) => conn.smtp.send(envelope, raw, (err, info) => (err ? reject(err) : resolve(info))));
      conn.sent++;
      return { accepted: info.accepted.map(String), rejected: info.rejected.map(String), response: info.response };
    } catch (e) {
      conn.broken = true;
      const err = e as Error & { responseCode?: number; code?: string; response?: string; command?: string };
      throw new SmtpSendError(err.message, current.stage, err.responseCode, err.code, err.response, err.command);
    } finally {
      conn.current = undefined;
      this.release(conn);
    }
  }

  /** Quits idle connections and cuts off sends under way (they fail at the stage they were in). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(new Error('the SMTP sender is closed'));
    this.idle.splice(0);
    for (const c of this.all) {
      if (c.current) c.smtp.close();
      else c.smtp.quit();
    }
    this.all.clear();
  }

  private async acquire(): Promise<Conn> {
    if (this.closed) throw new Error('the SMTP sender is closed');
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.open < this.opts.maxConnections) {
      this.open++;
      try {
        return await this.connect();
      } catch (e) {
        this.open--;
        throw e;
      }
    }
    return new Promise<Conn>((resolve, reject) => this.waiting.push((c) => (c instanceof Error ? reject(c) : resolve(c))));
  }

  private release(conn: Conn): void {
    const retire = conn.broken || conn.sent >= (this.opts.maxMessages ?? 100) || this.closed;
    if (retire) {
      this.all.delete(conn);
      if (conn.broken) conn.smtp.close();
      else conn.smtp.quit();
      this.open--;
      const next = this.waiting.shift();
      if (next) {
        this.open++;
        this.connect().then(next, (e: Error) => {
          this.open--;
          next(e);
        });
      }
      return;
    }
    const next = this.waiting.shift();
    if (next) next(conn);
    else this.idle.push(conn);
  }

  private async connect(): Promise<Conn> {
    const smtp = new SMTPConnection({
      host: this.opts.host,
      port: this.opts.port,
      secure: this.opts.secure,
      tls: { rejectUnauthorized: this.opts.rejectUnauthorized },
      connectionTimeout: this.opts.timeoutMs ?? 60_000,
      greetingTimeout: this.opts.timeoutMs ?? 60_000,
      socketTimeout: this.opts.timeoutMs ?? 60_000,
    });
    const conn: Conn = { smtp, sent: 0, broken: false };
    this.all.add(conn);
    smtp.on('error', () => {
      conn.broken = true;
    });
    smtp.on('end', () => {
      conn.broken = true;
      if (!conn.current) this.all.delete(conn);
      const i = this.idle.indexOf(conn);
      if (i >= 0) {
        this.idle.splice(i, 1);
        this.open--;
      }
    });
    await new Promise<void>((resolve, reject) => {
      smtp.once('error', reject);
      smtp.connect(() => {
        smtp.removeListener('error', reject);
        resolve();
      });
    });
    if (this.opts.auth) await new Promise<void>((resolve, reject) => smtp.login(this.opts.auth!, (err) => (err ? reject(err) : resolve())));
    return conn;
  }

  /**
   * Watches the connection's current socket (after STARTTLS it is the TLS socket, which sees the
   * plain SMTP lines): which command was written, and holds the final dot until beforeDot is done.
   */
  private watch(conn: Conn): void {
    const socket = (conn.smtp as unknown as { _socket: Socket })._socket;
    if (!socket || conn.patched === socket) return;
    conn.patched = socket;
    const write = socket.write.bind(socket) as (chunk: Buffer | string, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
      const current = conn.current;
      if (!current) return write(chunk, ...rest);
      const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      if (current.stage === 'connect' && /^(MAIL|RSET)/i.test(text)) current.stage = 'envelope';
      if (current.stage === 'connect' || current.stage === 'envelope') {
        if (text === 'DATA\r\n') current.stage = 'data';
        return write(chunk, ...rest);
      }
      if (current.stage !== 'data') return write(chunk, ...rest);
      const seen = current.tail + text;
      current.tail = seen.slice(-TERMINATOR.length);
      if (!seen.endsWith(TERMINATOR)) return write(chunk, ...rest);
      // The final dot: the ledger first, then the server may have the message.
      current.beforeDot().then(
        () => {
          current.stage = 'dot';
          if (write(chunk, ...rest)) socket.emit('drain');
        },
        (e: Error) => socket.destroy(new Error(`not handed over: ${e.message}`)),
      );
      return false;
    }) as typeof socket.write;
  }
}
