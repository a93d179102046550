import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { parseInbound } from '../src/inbound/parse.ts';
import { startSmtpReceiver } from '../src/inbound/smtp-receiver.ts';
import { bounceAddress, verifyBounceToken } from '../src/inbound/token.ts';
import type { DeliveryRow } from '../src/ledger/ledger.ts';
import { crier as cli, crierJson } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { smtpDeliver } from './helpers/smtp-client.ts'; // DSNs come with the null sender: from ''
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * Bounces through the real channels: Crier sends a run to a real SMTP server with a personal,
 * signed envelope sender (VERP) per delivery; the delivery status notifications a relay sends
 * back (real-shaped: Postfix, Exchange Online, a Postfix delay warning) come in through the
 * built-in SMTP receiver, addressed to that envelope sender; a failed one marks its delivery
 * bounced and suppresses the address, and the next run skips it.
 */
const name = uniqueName('crier_bnc');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const SECRET = 'test-secret-for-bounce-tokens-0123';
const INBOUND = 'calls@city.example';
const BOUNCES = 'bounces@city.example';
const FIXTURES = path.resolve('test/fixtures/bounces');
const CLAIRE = 'claire@example.org';
const ANNA = 'anna@example.org';
const MAYOR = 'burgemeester@example.org';

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;
let crier: Crier;
let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
let firstRun: number;
let deliveries: DeliveryRow[];

/** What a delivery's e-mail looked like at the SMTP server, to fill into a bounce. */
interface Sent {
  delivery: DeliveryRow;
  message: Received;
  /** MAIL FROM as the server got it: the VERP address. */
  returnPath: string;
  messageId: string;
  subject: string;
}
const sent: Record<string, Sent> = {};

/** A fixture with the address it comes to, the recipient, and the bounced message's details filled in. */
function fixture(file: string, to: string, s: Sent, returnPath = s.returnPath): Buffer {
  const text = readFileSync(path.join(FIXTURES, file), 'latin1')
    .replaceAll('{{TO}}', to)
    .replaceAll('{{RETURN_PATH}}', returnPath)
    .replaceAll('{{RECIPIENT}}', s.delivery.email)
    .replaceAll('{{MESSAGE_ID}}', s.messageId)
    .replaceAll('{{SUBJECT}}', s.subject);
  return Buffer.from(text, 'latin1');
}

/** Another copy of a message (a second report on the same delivery): only its Message-ID differs. */
const withMessageId = (raw: Buffer, id: string) => Buffer.from(raw.toString('latin1').replace(/^Message-I[dD]:.*(\r?\n[ \t].*)*$/m, `Message-Id: <${id}>`), 'latin1');

/** The receiver answers 250 once a message is stored and processes it right after: waits for that. */
async function processed(reply: string): Promise<{ kind: string; delivery_id: number | null; head_email: string | null }> {
  const id = Number(/queued as (\d+)/.exec(reply)?.[1]);
  expect(id, reply).toBeGreaterThan(0);
  for (let i = 0; i < 100; i++) {
    const { rows } = await crier.ledger.pool.query(`SELECT kind, delivery_id, head_email, processed_at FROM inbound_messages WHERE id = $1`, [id]);
    if (rows[0]?.processed_at) return { kind: rows[0].kind, delivery_id: rows[0].delivery_id === null ? null : Number(rows[0].delivery_id), head_email: rows[0].head_email };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`inbound message ${id} was not processed`);
}

const delivery = async (id: number) => (await crier.ledger.deliveries(firstRun)).find((d) => d.id === id)!;

const runCli = (args: string[]) => crierJson(configFile, args);

beforeAll(async () => {
  tenant = await createTenant(host);
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    schedules: {
      'council-bounce': { job: 'council-update', audience: 'council', dates: ['2027-02-01 09:00', '2027-05-03 09:00'], timezone: 'Europe/Brussels' },
    },
    extra: {
      mail: { from: 'Participatie Test <participatie@example.org>', transport: 'smtp', smtp: smtp.url, bounces: BOUNCES },
      inbound: { address: INBOUND, secret: SECRET },
    },
  });
  const jobs = await loadJobKinds();
  crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }) });
  await crier.ledger.migrate();
  receiver = await startSmtpReceiver(crier, { host: '127.0.0.1', port: 0, maxSize: 512 * 1024 });
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await crier?.close();
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('reading delivery status notifications', () => {
  const s = { delivery: { email: CLAIRE } as DeliveryRow, returnPath: bounceAddress(BOUNCES, SECRET, 7), messageId: '<crier.3.7@example.org>', subject: 'Kwartaalrapport' } as Sent;

  it('reads the failed recipient, Action, Status, Diagnostic-Code and the original Message-ID of each kind', async () => {
    const postfix = await parseInbound(fixture('postfix-failed.eml', s.returnPath, s));
    expect(postfix.kind).toBe('bounce');
    expect(postfix.bounce).toEqual({
      messageId: 'crier.3.7@example.org',
      recipient: CLAIRE,
      action: 'failed',
      status: '5.1.1',
      diagnostic: `smtp; 550 5.1.1 <${CLAIRE}>: Recipient address rejected: User unknown in virtual mailbox table`,
    });
    expect(postfix.recipients).toContain(s.returnPath);
    // Exchange Online: the original comes back as message/rfc822, and the NDR names it in References too.
    const exchange = await parseInbound(fixture('exchange-online-ndr.eml', BOUNCES, s));
    expect(exchange.bounce).toMatchObject({ messageId: 'crier.3.7@example.org', recipient: CLAIRE, action: 'failed', status: '5.1.10' });
    expect(exchange.bounce?.diagnostic).toMatch(/^smtp;550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound/);
    expect(exchange.thread).toContain('crier.3.7@example.org');
    const delayed = await parseInbound(fixture('postfix-delayed.eml', s.returnPath, s));
    expect(delayed.bounce).toMatchObject({ action: 'delayed', status: '4.4.7', messageId: 'crier.3.7@example.org' });
  });
});

describe('bounces of a real run', () => {
  it('sends each delivery with its own signed envelope sender (VERP)', async () => {
    const out = await runCli(['run', 'council-bounce', '--at', '2027-02-01T09:00', '--wait']);
    expect(out.deliveries).toMatchObject({ sent: 3, failed: 0 });
    firstRun = out.run.id;
    deliveries = await crier.ledger.deliveries(firstRun);
    for (const d of deliveries) {
      const message = smtp.received.find((m) => m.envelopeTo.includes(d.email))!;
      expect(message, d.email).toBeDefined();
      const m = /^bounces\+(b\d+\.[a-z2-7]{16})@city\.example$/.exec(message.envelopeFrom);
      expect(m, message.envelopeFrom).not.toBeNull();
      expect(verifyBounceToken(SECRET, m![1])).toBe(d.id);
      expect(message.envelopeFrom).toBe(bounceAddress(BOUNCES, SECRET, d.id));
      const messageId = message.parsed.headers.find((h) => h.key === 'message-id')!.value;
      expect(messageId).toBe(d.message_id);
      sent[d.email] = { delivery: d, message, returnPath: message.envelopeFrom, messageId, subject: message.parsed.subject ?? '' };
    }
  });

  it('the receiver takes the bounce address and its + forms, besides the inbound address', async () => {
    const s = sent[MAYOR];
    // Refused at RCPT: nothing is stored.
    expect(await smtpDeliver(receiver.port, 'postmaster@city.example', fixture('postfix-delayed.eml', 'postmaster@city.example', s), '')).toMatch(/^550 /);
    expect(await smtpDeliver(receiver.port, 'bounces@elsewhere.example', fixture('postfix-delayed.eml', 'bounces@elsewhere.example', s), '')).toMatch(/^550 /);
  });

  it('a Postfix DSN to the VERP address marks the delivery bounced and suppresses the address for every e-mail', async () => {
    const s = sent[CLAIRE];
    expect(s.delivery.status).toBe('sent'); // settled before the bounce came
    const dsn = fixture('postfix-failed.eml', s.returnPath, s);
    const reply = await smtpDeliver(receiver.port, s.returnPath, dsn, '');
    expect(reply).toMatch(/^250 /);
    expect(await processed(reply)).toEqual({ kind: 'bounce', delivery_id: s.delivery.id, head_email: CLAIRE });
    // Stored with the address it came to (as a mail server's Delivered-To), so processing it again after a crash still finds the token.
    const stored = (await crier.ledger.pool.query(`SELECT raw FROM inbound_messages WHERE id = $1`, [Number(/queued as (\d+)/.exec(reply)![1])])).rows[0].raw as Buffer;
    expect(stored.toString('latin1')).toMatch(new RegExp(`^Delivered-To: ${s.returnPath.replace(/[.+]/g, '\\$&')}\r\n`));
    const d = await delivery(s.delivery.id);
    expect(d.status).toBe('bounced');
    expect(d.last_error).toContain('5.1.1 smtp; 550 5.1.1');
    const suppressions = (await crier.ledger.suppressions()).filter((x) => x.email === CLAIRE);
    expect(suppressions).toEqual([
      expect.objectContaining({
        email: CLAIRE,
        scope: 'all',
        target: '',
        reason: 'bounced',
        delivery_id: s.delivery.id,
        detail: `5.1.1 smtp; 550 5.1.1 <${CLAIRE}>: Recipient address rejected: User unknown in virtual mailbox table`,
      }),
    ]);

    // The same report again is a duplicate; a second report on the same delivery changes nothing more.
    expect(await smtpDeliver(receiver.port, s.returnPath, dsn, '')).toMatch(/^250 /);
    const again = await smtpDeliver(receiver.port, s.returnPath, withMessageId(dsn, 'second-report@relay.city.example'), '');
    expect(await processed(again)).toMatchObject({ kind: 'bounce', delivery_id: s.delivery.id });
    expect((await delivery(s.delivery.id)).status).toBe('bounced');
    expect((await crier.ledger.suppressions()).filter((x) => x.email === CLAIRE)).toHaveLength(1);
  });

  it('an Exchange Online NDR to the plain bounce address (no VERP token) is matched by the original Message-ID', async () => {
    const s = sent[ANNA];
    // A relay that rewrote the envelope sender: nothing in the report carries the token any more.
    const reply = await smtpDeliver(receiver.port, BOUNCES, fixture('exchange-online-ndr.eml', BOUNCES, s, BOUNCES), '');
    expect(reply).toMatch(/^250 /);
    expect(await processed(reply)).toEqual({ kind: 'bounce', delivery_id: s.delivery.id, head_email: ANNA });
    expect((await delivery(s.delivery.id)).status).toBe('bounced');
    expect(await crier.ledger.suppressions()).toContainEqual(expect.objectContaining({ email: ANNA, scope: 'all', reason: 'bounced', detail: expect.stringMatching(/^5\.1\.10 smtp;550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound/) }));
  });

  it('a delayed DSN is recorded but changes neither the delivery nor the suppressions', async () => {
    const s = sent[MAYOR];
    const before = await crier.ledger.suppressions();
    const reply = await smtpDeliver(receiver.port, s.returnPath, fixture('postfix-delayed.eml', s.returnPath, s), '');
    expect(await processed(reply)).toEqual({ kind: 'bounce', delivery_id: s.delivery.id, head_email: MAYOR });
    expect((await delivery(s.delivery.id)).status).toBe('sent');
    expect(await crier.ledger.suppressions()).toEqual(before);
  });

  it('a DSN with a forged VERP token matches nothing, not even through the Message-ID it names', async () => {
    const s = sent[MAYOR];
    const forged = s.returnPath.replace(/\.[a-z2-7]{16}@/, '.aaaaaaaaaaaaaaaa@');
    expect(verifyBounceToken(SECRET, forged.slice('bounces+'.length, forged.indexOf('@')))).toBeNull();
    const before = await crier.ledger.suppressions();
    const reply = await smtpDeliver(receiver.port, forged, withMessageId(fixture('postfix-failed.eml', forged, s, forged), 'forged-1@relay.city.example'), '');
    expect(reply).toMatch(/^250 /);
    expect(await processed(reply)).toEqual({ kind: 'bounce', delivery_id: null, head_email: null });
    // A token for another delivery, signed with another secret: the same.
    const other = bounceAddress(BOUNCES, 'another-secret-of-enough-length', s.delivery.id);
    const reply2 = await smtpDeliver(receiver.port, other, withMessageId(fixture('postfix-failed.eml', other, s, other), 'forged-2@relay.city.example'), '');
    expect(await processed(reply2)).toMatchObject({ delivery_id: null });
    expect((await delivery(s.delivery.id)).status).toBe('sent');
    expect(await crier.ledger.suppressions()).toEqual(before);
  });

  it('`crier status` lists the bounced deliveries among the problems, with the reason', async () => {
    const status = await runCli(['status']);
    expect(status.problems).toContainEqual(expect.objectContaining({ delivery: sent[CLAIRE].delivery.id, email: CLAIRE, status: 'bounced', error: expect.stringContaining('5.1.1') }));
    expect(status.problems).toContainEqual(expect.objectContaining({ delivery: sent[ANNA].delivery.id, email: ANNA, status: 'bounced', error: expect.stringContaining('5.1.10') }));
    expect(status.problems.map((p: { email: string }) => p.email)).not.toContain(MAYOR);
  });

  it('the next run to that audience skips the bounced addresses, with the reason', async () => {
    const before = smtp.received.length;
    const out = await runCli(['run', 'council-bounce', '--at', '2027-05-03T09:00', '--wait']);
    const next = await crier.ledger.deliveries(out.run.id);
    for (const email of [CLAIRE, ANNA]) {
      expect(next.find((d) => d.email === email), email).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/bounce/i) });
    }
    expect(next.find((d) => d.email === MAYOR)).toMatchObject({ status: 'sent' });
    expect(smtp.received.slice(before).map((m) => m.envelopeTo[0])).toEqual([MAYOR]);
  });
});

describe('a relay that only sends as the authenticated mailbox (Exchange Online)', () => {
  it('with mail.bounces: false, sends from mail.from, and still signs the Message-ID a bounce is matched by', async () => {
    const plain = `${name}_plain`;
    const file = writeTestConfig({
      tenant: host,
      name: plain,
      smtp: smtp.url,
      schedules: { 'council-plain': { job: 'council-update', audience: 'council', dates: ['2027-02-01 09:00'], timezone: 'Europe/Brussels' } },
      extra: {
        mail: { from: 'Participatie Test <participatie@example.org>', transport: 'smtp', smtp: smtp.url, bounces: false },
        inbound: { address: INBOUND, secret: SECRET },
      },
    });
    try {
      const before = smtp.received.length;
      const res = await cli(['run', 'council-plain', '--at', '2027-02-01T09:00', '--wait', '--json', '--config', file]);
      expect(res.code, res.stderr).toBe(0);
      const sent = smtp.received.slice(before);
      expect(sent).toHaveLength(3);
      for (const m of sent) {
        expect(m.envelopeFrom).toBe('participatie@example.org');
        expect(m.parsed.messageId).toMatch(/^<crier\.\d+\.\d+\.[A-Za-z0-9]{12}@example\.org>$/);
      }
    } finally {
      await dropRedisPrefix(plain);
    }
  });
});
