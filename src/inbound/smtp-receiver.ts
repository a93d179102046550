import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { inboundMailboxes, processStored, storeMessage, type InboundDeps } from './process.ts';
import { tokenIn } from './token.ts';

/** Settings of the built-in receiver (config inbound.smtp). */
export interface ReceiverOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  maxSize: number;
}

/**
 * A small SMTP server for replies and bounces, behind a forwarding rule or an MX: it accepts mail
 * for the inbound address and the bounce address (mail.bounces) and their `+token` forms only,
 * up to maxSize, stores each message in the ledger before it answers 250 (so an accepted message
 * is never lost), then processes it.
 */
export async function startSmtpReceiver(deps: InboundDeps, opts: ReceiverOptions): Promise<{ port: number; idle(): Promise<void>; close(): Promise<void> }> {
  const inbound = deps.config.inbound;
  if (!inbound) throw new Error('inbound.smtp needs inbound.address and inbound.secret');
  const mailboxes = inboundMailboxes(deps);
  const accepts = (address: string) => mailboxes.some((m) => address.toLowerCase() === m || tokenIn(address, m) !== null);
  const pending = new Set<Promise<unknown>>();
  const server = new SMTPServer({
    name: inbound.address.split('@')[1],
    banner: 'Crier inbound',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: opts.maxSize,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (accepts(address.address)) return callback();
      const err = new Error(`5.1.1 <${address.address}>: this server takes mail for ${mailboxes.join(' and ')} only`) as Error & { responseCode: number };
      err.responseCode = 550;
      callback(err);
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const err = new Error(`5.3.4 message larger than ${opts.maxSize} bytes`) as Error & { responseCode: number };
          err.responseCode = 552;
          return callback(err);
        }
        const envelope = session.envelope.rcptTo.map((r) => r.address);
        // The envelope recipients are kept with the message, as a mail server does at final
        // delivery (Delivered-To), so processing it again later (after a crash) still sees the
        // address it came to: a bounce's VERP token, a reply's token.
        const trace = envelope.map((a) => `Delivered-To: ${a.replace(/[\r\n]/g, '')}\r\n`).join('');
        const raw = Buffer.concat([Buffer.from(trace, 'latin1'), ...chunks]);
        storeMessage(deps, raw, 'smtp').then(
          (stored) => {
            callback(null, `2.0.0 queued as ${stored.id}`);
            if (stored.duplicate) return;
            const work = processStored(deps, stored.id, stored.parsed, envelope)
              .catch((e: Error) => deps.log.error({ inbound: stored.id, err: e.message }, 'inbound message stored but not processed; retried at the next start'))
              .finally(() => pending.delete(work));
            pending.add(work);
          },
          (e: Error) => {
            deps.log.error({ err: e.message }, 'inbound message could not be stored; the sender will retry');
            const err = new Error('4.3.0 could not store the message, try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            callback(err);
          },
        );
      });
    },
  });
  server.on('error', (e) => deps.log.error({ err: e.message }, 'inbound SMTP receiver error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  deps.log.info({ host: opts.host, port, address: mailboxes }, 'inbound SMTP receiver listening');
  return {
    port,
    /** Once every message accepted so far is processed (they are processed after the 250). */
    async idle() {
      await Promise.allSettled([...pending]);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...pending]);
    },
  };
}
