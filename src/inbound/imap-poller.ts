import { ImapFlow } from 'imapflow';
import { Duration } from 'luxon';
import { redact } from '../redact.ts';
import { receive, type InboundDeps } from './process.ts';

/** Settings of the polled mailbox (config inbound.imap). */
export interface PollerOptions {
  url: string;
  mailbox: string;
  every: string;
}

/**
 * Polls a mailbox (a city's shared mailbox on Exchange Online or Google Workspace), processes
 * each message like the receiver does, and marks it \Seen once stored. \Seen is not what
 * decides: a person may open a reply before Crier polls. Every message is read once per
 * process (by UID) and the ledger counts each once, so one opened by a person is still read.
 */
export function startImapPoller(deps: InboundDeps, opts: PollerOptions): { pollOnce(): Promise<number>; close(): Promise<void> } {
  const url = new URL(opts.url);
  const where = redact(opts.url);
  let running: Promise<number> | undefined;
  /** UIDs this process has stored, per UIDVALIDITY of the mailbox. */
  const done = new Set<string>();
  let reported = '';

  async function poll(): Promise<number> {
    const client = new ImapFlow({
      host: url.hostname,
      port: Number(url.port) || (url.protocol === 'imaps:' ? 993 : 143),
      secure: url.protocol === 'imaps:',
      auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
      logger: false,
    });
    // ImapFlow also reports a dropped connection as an event; the poll's own error says it.
    client.on('error', () => undefined);
    await client.connect();
    let count = 0;
    try {
      const lock = await client.getMailboxLock(opts.mailbox);
      try {
        const validity = String(client.mailbox && client.mailbox.uidValidity);
        const uids = (await client.search({ all: true }, { uid: true })) || [];
        for (const uid of uids) {
          if (done.has(`${validity}:${uid}`)) continue;
          const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (!message || !message.source) continue;
          const result = await receive(deps, message.source, 'imap');
          await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          done.add(`${validity}:${uid}`);
          if (!result.duplicate) count++;
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => undefined);
    }
    return count;
  }

  const pollOnce = () => {
    running ??= poll().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    pollOnce().then(
      () => (reported = ''),
      (e: Error) => {
        // Said once per outage, not every minute.
        if (reported !== e.message) deps.log.warn({ mailbox: where, err: e.message }, 'inbound mailbox could not be read; trying again');
        reported = e.message;
      },
    );
  }, Duration.fromISO(opts.every).toMillis());
  timer.unref();
  return {
    pollOnce,
    async close() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
