import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import PostalMime, { type Email } from 'postal-mime';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** MAIL FROM: the envelope sender (Return-Path), '' for a null sender. */
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  parsed: Email;
}

/**
 * A real SMTP server (smtp-server, in process) that keeps what it accepts. `failNext` makes the
 * next DATA commands answer with a given code, to exercise retries and permanent failures.
 */
export async function startSmtpServer(opts: { delayMs?: number } = {}) {
  const received: Received[] = [];
  const failures: { code: number; message: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const failure = failures.shift();
        if (failure) {
          const err = Object.assign(new Error(failure.message), { responseCode: failure.code });
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        // The server has the whole message from here (a slow one answers later).
        received.push({ envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed: await PostalMime.parse(raw) });
        if (opts.delayMs) setTimeout(() => callback(), opts.delayMs);
        else callback();
      });
    },
  });
  // A client killed mid-session (the reliability tests kill workers with -9) resets its
  // connection; smtp-server reports that as an 'error' event, uncaught without a listener.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    failNext(code: number, message = 'test failure', times = 1) {
      for (let i = 0; i < times; i++) failures.push({ code, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
