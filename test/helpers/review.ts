import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { Crier } from '../../src/deployment/deployment.ts';
import { loadJobKinds } from '../../src/job-registry.ts';
import { startSmtpReceiver } from '../../src/inbound/smtp-receiver.ts';
import { smtpDeliver } from './smtp-client.ts';
import type { Received } from './smtp.ts';

/*
 * What the review tests share: reading the e-mails Crier sent, and handing reviewers' replies to
 * Crier's own SMTP receiver at a given time, as the receivers of a running deployment would.
 */

export const FIXTURES = path.resolve('test/fixtures/review');

export const header = (m: Received, key: string) => m.parsed.headers.find((h) => h.key === key)?.value ?? '';

/** A fixture's bytes with the reply address and the thread it answers filled in. */
export function fixture(file: string, to: string, inReplyTo: string, dir = FIXTURES): Buffer {
  return Buffer.from(readFileSync(path.join(dir, file), 'latin1').replaceAll('{{TO}}', to).replaceAll('{{IN_REPLY_TO}}', inReplyTo), 'latin1');
}

/** A plain-text reply as a mail client sends it, in the thread of `inReplyTo` when given. */
export function plainReply(o: { from: string; to: string; subject: string; text: string; inReplyTo?: string }): Buffer {
  const thread = o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`, `References: ${o.inReplyTo}`] : [];
  return Buffer.from(
    [`From: ${o.from}`, `To: ${o.to}`, `Subject: ${o.subject}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${Math.random().toString(36).slice(2)}@mail.example>`, ...thread, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', o.text.replace(/\n/g, '\r\n'), ''].join('\r\n'),
    'utf8',
  );
}

/** An e-mail Crier sent a person: its Message-ID and their personal reply address, what a reply needs. */
export function thread(m: Received): { messageId: string; replyTo: string } {
  return { messageId: header(m, 'message-id'), replyTo: m.parsed.replyTo?.[0]?.address ?? '' };
}

/** An attachment's text. */
export function attachmentText(m: Received, filename: string): string {
  const a = m.parsed.attachments.find((x) => x.filename === filename);
  expect(a, `${filename} attached`).toBeTruthy();
  return typeof a!.content === 'string' ? a!.content : Buffer.from(a!.content as ArrayBuffer).toString('utf8');
}

/**
 * Hands replies to Crier's SMTP receiver with Crier's clock at `now` (when Crier received them:
 * what decides whether a reply is late), each one processed before the next is sent (the
 * receiver answers 250 once a message is stored and processes it right after). Returns the
 * ledger ids of the messages, in order.
 */
export async function receiveAt(configFile: string, now: Date, replies: { to: string; raw: Buffer; from?: string }[]): Promise<number[]> {
  const jobs = await loadJobKinds();
  const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }), now: () => now });
  const receiver = await startSmtpReceiver(crier, { host: '127.0.0.1', port: 0, maxSize: 1024 * 1024 });
  const ids: number[] = [];
  try {
    for (const r of replies) {
      const answer = await smtpDeliver(receiver.port, r.to, r.raw, r.from);
      expect(answer).toMatch(/^250 /);
      const id = Number(/queued as (\d+)/.exec(answer)?.[1]);
      for (let i = 0; ; i++) {
        const { rows } = await crier.ledger.pool.query(`SELECT processed_at FROM inbound_messages WHERE id = $1`, [id]);
        if (rows[0]?.processed_at) break;
        if (i === 100) throw new Error(`inbound message ${id} was not processed`);
        await new Promise((res) => setTimeout(res, 50));
      }
      ids.push(id);
    }
  } finally {
    await receiver.close();
    await crier.close();
  }
  return ids;
}
