import type { Logger } from 'pino';
import type { Crier } from '../deployment/deployment.ts';

/*
 * What a running `crier start` process serves beside its workers, for one deployment or for
 * each tenant of many (start.ts, start-tenants.ts): the receivers of replies, and the wait for
 * the signal that stops it.
 */

/**
 * Reading replies, when the config says where they come in: messages stored but not processed
 * before a stop are processed first, then the SMTP receiver listens and the mailbox is polled.
 */
export async function startInbound(crier: Crier): Promise<{ close(): Promise<void> }> {
  const inbound = crier.config.inbound;
  if (!inbound) return { close: async () => undefined };
  const { processPending } = await import('../inbound/process.ts');
  await processPending(crier);
  const receiver = inbound.smtp ? await (await import('../inbound/smtp-receiver.ts')).startSmtpReceiver(crier, inbound.smtp) : undefined;
  const poller = inbound.imap ? (await import('../inbound/imap-poller.ts')).startImapPoller(crier, inbound.imap) : undefined;
  // Read the mailbox at once, not only after the first interval.
  poller?.pollOnce().catch((e: Error) => crier.log.warn({ err: e.message }, 'inbound mailbox could not be read; trying again'));
  return {
    async close() {
      await Promise.allSettled([receiver?.close(), poller?.close()]);
    },
  };
}

/** Resolves at SIGTERM or SIGINT, logged. */
export function untilSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
