import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { startImapPoller } from '../src/inbound/imap-poller.ts';
import { answerItems, parseInbound } from '../src/inbound/parse.ts';
import { startSmtpReceiver } from '../src/inbound/smtp-receiver.ts';
import { replyAddress, tokenIn, verifyToken } from '../src/inbound/token.ts';
import { crier as cli, crierJson } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { smtpDeliver } from './helpers/smtp-client.ts';
import { startImapServer, type ImapServer } from './helpers/imap.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { tickAndWork } from './helpers/worker.ts';

/*
 * A whole project-call round answered by e-mail, through the real channels: Crier sends the
 * call to a real SMTP server; the department heads' replies (real-shaped messages written by
 * Outlook, Gmail, Apple Mail, an iPhone, Gmail on Android, Thunderbird) come back through the
 * built-in SMTP receiver, a real Dovecot IMAP mailbox and `crier inbound`; then the reminders,
 * the acknowledgements, the steering committee's overview and `crier calls`.
 */
const name = uniqueName('crier_inb');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const SECRET = 'test-secret-for-reply-tokens-0123';
const INBOUND = 'calls@city.example';
const FIXTURES = path.resolve('test/fixtures/inbound');
// The round: its call went out three days ago, its first reminder a day later; answers are due in 18 days.
const CALL = DateTime.now().setZone(zone).minus({ days: 3 }).startOf('minute');
const CALL_LOCAL = CALL.toFormat('yyyy-MM-dd HH:mm');
// An older round whose deadline has passed: a reply to it now is late.
const OLD = CALL.minus({ days: 40 });
const OLD_LOCAL = OLD.toFormat('yyyy-MM-dd HH:mm');

const HEADS = {
  koen: { email: 'koen.vandamme@gent.example.org', first: 'Koen', folder: 'Mobiliteit', locale: 'nl-BE' },
  griet: { email: 'griet.lievens@gent.example.org', first: 'Griet', folder: 'Parks and green', locale: 'en' },
  ann: { email: 'ann.verhaeghe@gent.example.org', first: 'Ann', folder: 'Culture', locale: 'fr-BE' },
  tom: { email: 'tom.devos@gent.example.org', first: 'Tom', folder: 'Jeugd', locale: 'nl-BE' },
  hilde: { email: 'hilde.maenhout@gent.example.org', first: 'Hilde', folder: 'Soziales', locale: 'de-DE' },
  lies: { email: 'lies.baert@gent.example.org', first: 'Lies', folder: 'Youth', locale: 'en' },
  nobody: { email: 'nobody@gent.example.org', first: 'Nobody', folder: 'Archive', locale: 'en' },
} as const;
type Head = keyof typeof HEADS;

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let imap: ImapServer;
let configFile: string;
let crier: Crier;
let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
const calls: Partial<Record<Head, { messageId: string; replyTo: string }>> = {};

/** The fixture's bytes with the reply address and the thread it answers filled in. */
function fixture(file: string, to: string, inReplyTo: string): Buffer {
  return Buffer.from(readFileSync(path.join(FIXTURES, file), 'latin1').replaceAll('{{TO}}', to).replaceAll('{{IN_REPLY_TO}}', inReplyTo), 'latin1');
}

/** The expected answer and items the corpus README states for a fixture. */
function expected(file: string): { text: string; items: { title: string; description: string }[] } {
  const readme = readFileSync(path.join(FIXTURES, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\`${file}\``, readme.indexOf('### ')));
  const text = /Expected answer text:\s*```text\n([\s\S]*?)```/.exec(section)![1].trim();
  const items = JSON.parse(/Expected items:\s*```json\n([\s\S]*?)```/.exec(section)![1]);
  return { text, items };
}

const sentTo = (email: string, subject: RegExp) => smtp.received.filter((m) => m.envelopeTo.includes(email) && subject.test(m.parsed.subject ?? ''));
const header = (m: Received, key: string) => m.parsed.headers.find((h) => h.key === key)?.value ?? '';

const runCli = (args: string[]) => crierJson(configFile, args);

beforeAll(async () => {
  tenant = await createTenant(host);
  for (const [key, h] of Object.entries(HEADS)) {
    const folder = await tenant.folder({ en: h.folder, 'nl-BE': h.folder }, `folder-${key}`);
    await tenant.user({ email: h.email, first_name: h.first, last_name: 'Head', locale: h.locale, roles: [{ type: 'project_folder_moderator', project_folder_id: folder.id }] });
  }
  smtp = await startSmtpServer();
  imap = await startImapServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      heads: [{ platformRole: 'folder-manager' }],
      steering: [{ name: 'Sara Stuurgroep', email: 'stuurgroep@gent.example.org', locale: 'en' }],
    },
    schedules: {
      calls: { job: 'project-call', audience: ['heads'], dates: [CALL_LOCAL], timezone: zone, deadline: 'P21D', reminders: ['P1D', 'P10D'], overview: ['steering'] },
      'calls-old': { job: 'project-call', audience: ['heads'], dates: [OLD_LOCAL], timezone: zone, deadline: 'P21D', reminders: [] },
      // The agenda goes out two days before the meeting: a week after the call keeps it ahead of now at any hour.
      steering: { job: 'steering-meeting', audience: ['steering'], dates: [CALL.plus({ days: 7 }).set({ hour: 14, minute: 0 }).toFormat('yyyy-MM-dd HH:mm')], timezone: zone },
    },
    extra: {
      inbound: { address: INBOUND, secret: SECRET, imap: { url: imap.url, mailbox: 'INBOX', every: 'PT1H' } },
      deputies: { [HEADS.tom.email]: ['secretariaat.jeugd@gent.example.org'] },
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
  await imap?.stop();
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('reading answers', () => {
  it('finds what each client’s head wrote, in the right characters, and its items', async () => {
    for (const file of ['outlook-html-cp1252.eml', 'gmail-multipart.eml', 'apple-mail.eml', 'iphone.eml', 'android-gmail-nothing.eml', 'reply-to-reminder.eml', 'late-reply.eml', 'forwarded-call.eml']) {
      const parsed = await parseInbound(fixture(file, 'calls+1.x@city.example', '<a@b>'));
      const want = expected(file);
      const squash = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean).join('\n');
      expect(squash(parsed.answer), file).toBe(squash(want.text));
      expect(answerItems(parsed.answer), file).toEqual(want.items);
    }
  });

  it('keeps a short answer that mentions "geen" or "keine" as a project, and only "nothing" as nothing', () => {
    expect(answerItems('Heraanleg van de Vrijdagmarkt, nog geen datum voor de werken.')).toEqual([{ title: 'Heraanleg van de Vrijdagmarkt, nog geen datum voor de werken', description: '' }]);
    expect(answerItems('Spielplatz an der Muide erneuern, noch keine Termine.')).toHaveLength(1);
    expect(answerItems('Niets dit kwartaal.')).toEqual([]);
    expect(answerItems('No new projects this quarter, sorry.')).toEqual([]);
  });

  it('finds the token when the inbound address itself has a + in it', () => {
    const address = replyAddress('team+calls@city.example', SECRET, 7);
    expect(tokenIn(address, 'team+calls@city.example')).toBe(address.slice('team+calls+'.length, address.indexOf('@')));
    expect(verifyToken(SECRET, tokenIn(address, 'team+calls@city.example')!)).toBe(7);
    expect(tokenIn('team+calls@city.example', 'team+calls@city.example')).toBeNull();
  });

  it('signs reply addresses so that a forged or altered token names nothing', () => {
    const address = replyAddress(INBOUND, SECRET, 42);
    expect(address).toMatch(/^calls\+42\.[a-z2-7]{16}@city\.example$/);
    const token = address.slice('calls+'.length, address.indexOf('@'));
    expect(verifyToken(SECRET, token)).toBe(42);
    expect(verifyToken(SECRET, token.replace(/^42/, '43'))).toBeNull();
    expect(verifyToken('another-secret-of-enough-length', token)).toBeNull();
    expect(verifyToken(SECRET, token.toUpperCase())).toBe(42); // a server that upper-cases the local part
  });
});

describe('a project-call round answered by e-mail', () => {
  it('sends the call with a personal, signed Reply-To', async () => {
    const out = await runCli(['run', 'calls', '--at', CALL.toISO()!, '--variant', 'call', '--wait']);
    expect(out.deliveries).toMatchObject({ sent: 7, failed: 0 });
    for (const [key, h] of Object.entries(HEADS) as [Head, (typeof HEADS)[Head]][]) {
      const [m] = sentTo(h.email, /./);
      expect(m, key).toBeDefined();
      calls[key] = { messageId: header(m, 'message-id'), replyTo: m.parsed.replyTo?.[0]?.address ?? '' };
      expect(calls[key]!.replyTo).toMatch(/^calls\+\d+\.[a-z2-7]{16}@city\.example$/);
    }
    // The older round, whose deadline has passed, for a late answer.
    await runCli(['run', 'calls-old', '--at', OLD.toISO()!, '--variant', 'call', '--wait']);
  });

  it('takes replies through the SMTP receiver, the IMAP mailbox and `crier inbound`, each once', async () => {
    const { koen, ann, tom } = { koen: calls.koen!, ann: calls.ann!, tom: calls.tom! };
    // Outlook, HTML only in windows-1252, through the receiver (the envelope carries the token).
    expect(await smtpDeliver(receiver.port, koen.replyTo, fixture('outlook-html-cp1252.eml', koen.replyTo, koen.messageId))).toMatch(/^250 /);
    // The receiver takes only the inbound address and its + forms.
    expect(await smtpDeliver(receiver.port, 'postmaster@city.example', fixture('outlook-html-cp1252.eml', koen.replyTo, koen.messageId))).toMatch(/^550 /);
    // Apple Mail, and the same Outlook message again, through the shared mailbox.
    await imap.append('INBOX', fixture('apple-mail.eml', ann.replyTo, ann.messageId));
    await imap.append('INBOX', fixture('outlook-html-cp1252.eml', koen.replyTo, koen.messageId));
    await imap.append('INBOX', fixture('out-of-office.eml', koen.replyTo, koen.messageId));
    const poller = startImapPoller(crier, { url: imap.url, mailbox: 'INBOX', every: 'PT1H' });
    expect(await poller.pollOnce()).toBe(2); // the Outlook message had come by SMTP already: a duplicate
    expect(await poller.pollOnce()).toBe(0); // read once
    await poller.close();
    // The iPhone reply through `crier inbound FILE`, as a pipe transport or a person replays it.
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-inbound-'));
    const file = path.join(dir, 'iphone.eml');
    writeFileSync(file, fixture('iphone.eml', tom.replyTo, tom.messageId));
    const result = await runCli(['inbound', file]);
    expect(result).toMatchObject({ kind: 'answer', duplicate: false, round: { schedule: 'calls', head: HEADS.tom.email }, late: false, items: [{ title: 'Fietsstraat rond het Sint-Pietersplein' }] });
    expect((await runCli(['inbound', file])).duplicate).toBe(true);
    // A spoofed sender with Koen's token, a bounce, a message with no token and no thread.
    await runCli(['inbound', await write(dir, 'spoofed.eml', fixture('spoofed.eml', koen.replyTo, koen.messageId))]);
    const bounce = await runCli(['inbound', await write(dir, 'dsn.eml', fixture('dsn.eml', INBOUND, calls.nobody!.messageId))]);
    expect(bounce).toMatchObject({ kind: 'bounce', round: { head: HEADS.nobody.email } });
    expect((await runCli(['inbound', await write(dir, 'unmatched.eml', fixture('no-token-no-thread.eml', INBOUND, '<none@x>'))])).kind).toBe('unmatched');
    // A deputy answers for Tom: verified too.
    // A forged token, even with a genuine thread, matches nothing.
    const forged = fixture('gmail-multipart.eml', tom.replyTo.replace(/\.[a-z2-7]{16}@/, '.aaaaaaaaaaaaaaaa@'), tom.messageId).toString('latin1').replace(/^Message-ID: .*$/im, 'Message-ID: <forged-1@gent.example.org>');
    expect((await runCli(['inbound', await write(dir, 'forged.eml', Buffer.from(forged, 'latin1'))])).kind).toBe('unmatched');
    const deputy = fixture('iphone.eml', tom.replyTo, tom.messageId).toString('latin1').replace(/^From: .*$/m, 'From: Secretariaat Jeugd <secretariaat.jeugd@gent.example.org>').replace(/^Message-ID: .*$/im, 'Message-ID: <deputy-1@gent.example.org>');
    expect((await runCli(['inbound', await write(dir, 'deputy.eml', Buffer.from(deputy, 'latin1'))])).kind).toBe('answer');
  });

  it('reminds exactly the heads still missing, in the call’s thread', async () => {
    const before = smtp.received.length;
    const out = await runCli(['run', 'calls', '--at', CALL.toISO()!, '--variant', 'reminder-1', '--wait']);
    // (The same worker also sends the acknowledgements that are due; they are checked below.)
    const reminders = smtp.received.slice(before).filter((m) => header(m, 'x-crier-run') === String(out.run.id));
    // Koen, Ann and Tom answered; Nobody's call bounced; Griet, Hilde and Lies have not answered.
    expect(reminders.map((m) => m.envelopeTo[0]).sort()).toEqual([HEADS.griet.email, HEADS.hilde.email, HEADS.lies.email].sort());
    expect(out.deliveries).toMatchObject({ sent: 3, skipped: 4 });
    for (const m of reminders) {
      const head = (Object.keys(HEADS) as Head[]).find((k) => HEADS[k].email === m.envelopeTo[0])!;
      expect(header(m, 'in-reply-to')).toBe(calls[head]!.messageId);
      expect(header(m, 'references')).toContain(calls[head]!.messageId);
      expect(m.parsed.replyTo?.[0]?.address).toBe(calls[head]!.replyTo);
    }
    const griet = reminders.find((m) => m.envelopeTo[0] === HEADS.griet.email)!;
    expect(griet.parsed.subject).toMatch(/^Reminder: what is your department working on\? Please answer by/);
    const status = JSON.parse((await cli(['status', '--json', '--config', configFile])).stdout);
    expect(status.skipped).toContainEqual(expect.objectContaining({ email: HEADS.koen.email, reason: expect.stringMatching(/^answered on \d{4}-\d\d-\d\d/) }));
    expect(status.skipped).toContainEqual(expect.objectContaining({ email: HEADS.nobody.email, reason: expect.stringMatching(/bounced/) }));
  });

  it('matches a reply to the reminder by its thread, keeps a second answer, and marks a late one', async () => {
    const reminder = smtp.received.find((m) => m.envelopeTo[0] === HEADS.griet.email && /^Reminder/.test(m.parsed.subject ?? ''))!;
    // Thunderbird, to the plain inbound address (no token): matched by In-Reply-To/References.
    expect(await smtpDeliver(receiver.port, INBOUND, fixture('reply-to-reminder.eml', INBOUND, header(reminder, 'message-id')))).toMatch(/^250 /);
    expect(await smtpDeliver(receiver.port, calls.griet!.replyTo, fixture('gmail-multipart.eml', calls.griet!.replyTo, calls.griet!.messageId))).toMatch(/^250 /);
    await imap.append('INBOX', fixture('android-gmail-nothing.eml', calls.hilde!.replyTo, calls.hilde!.messageId));
    await startImapPoller(crier, { url: imap.url, mailbox: 'INBOX', every: 'PT1H' }).pollOnce();
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-inbound-'));
    expect((await runCli(['inbound', await write(dir, 'fwd.eml', fixture('forwarded-call.eml', calls.lies!.replyTo, calls.lies!.messageId))])).kind).toBe('answer');
    // Ann answers the older round, whose deadline passed: it counts, marked late.
    const [oldCall] = smtp.received.filter((m) => m.envelopeTo[0] === HEADS.ann.email && header(m, 'message-id') !== calls.ann!.messageId);
    const late = await runCli(['inbound', await write(dir, 'late.eml', fixture('late-reply.eml', oldCall.parsed.replyTo![0].address!, header(oldCall, 'message-id')))]);
    expect(late).toMatchObject({ kind: 'answer', late: true, round: { schedule: 'calls-old', head: HEADS.ann.email } });
    await waitForReceiver();
  });

  it('`crier calls` shows the round as the contract says', async () => {
    const out = await runCli(['calls', 'calls']);
    expect(out.round).toEqual({ schedule: 'calls', occurrence: CALL.toISO(), deadline: CALL.plus({ days: 21 }).toISO() });
    const head = (key: Head) => out.heads.find((h: { email: string }) => h.email === HEADS[key].email);
    expect(head('koen')).toMatchObject({ status: 'answered', answers: [{ from: HEADS.koen.email, verified: true, late: false, items: expected('outlook-html-cp1252.eml').items }] });
    expect(head('koen').unverified).toEqual([expect.objectContaining({ from: 'koen.vandamme@gmail-lookalike.example' })]);
    expect(head('koen').answers[0].items[1].description).toContain('€ 150.000'); // windows-1252, decoded right
    expect(head('griet').answers.map((a: { items: { title: string }[] }) => a.items[0].title)).toEqual(['Wildflower verges along the Coupure', 'Gentbrugse Meersen play forest']);
    expect(head('hilde')).toMatchObject({ status: 'answered', answers: [{ items: [] }] });
    expect(head('ann').answers[0].items.map((i: { title: string }) => i.title)).toEqual(expected('apple-mail.eml').items.map((i) => i.title));
    expect(head('tom').answers.map((a: { from: string }) => a.from)).toEqual([HEADS.tom.email, 'secretariaat.jeugd@gent.example.org']);
    expect(head('nobody')).toMatchObject({ status: 'missing', answers: [] });
    expect(out.unmatched.map((u: { from: string }) => u.from).sort()).toEqual(['griet.lievens@gent.example.org', 'someone@example.com']); // the forged token, and no token nor thread
    expect(out.ignored.map((i: { kind: string; from: string }) => `${i.kind} ${i.from}`).sort()).toEqual(['auto-reply koen.vandamme@gent.example.org', 'bounce mailer-daemon@relay.city.example']);
    // The Outlook message came by SMTP and by IMAP: one answer.
    expect(head('koen').answers).toHaveLength(1);
    const old = await runCli(['calls', 'calls-old']);
    expect(old.heads.find((h: { email: string }) => h.email === HEADS.ann.email)).toMatchObject({ status: 'late', answers: [{ late: true }] });
  });

  it('acknowledges each verified answer once, in the head’s language, listing its items', async () => {
    await tickAndWork(configFile, new Date());
    const ackSubject = /^(Thank you|Bedankt|Merci|Danke)\s?: /; // French puts a space before the colon
    const acks = smtp.received.filter((m) => ackSubject.test(m.parsed.subject ?? ''));
    // Koen, Ann, Tom and his deputy, Griet twice, Hilde, Lies, Ann's late answer: one each.
    expect(acks.map((m) => m.envelopeTo[0]).sort()).toEqual(
      [HEADS.koen.email, HEADS.ann.email, HEADS.ann.email, HEADS.tom.email, 'secretariaat.jeugd@gent.example.org', HEADS.griet.email, HEADS.griet.email, HEADS.hilde.email, HEADS.lies.email].sort(),
    );
    const koen = acks.find((m) => m.envelopeTo[0] === HEADS.koen.email)!;
    expect(koen.parsed.subject).toBe('Bedankt: we hebben je antwoord op de projectoproep ontvangen');
    expect(koen.parsed.text).toContain('Heraanleg van de Vrijdagmarkt');
    // In the head's thread, with their personal address: "reply again to correct" reaches Crier.
    expect(koen.parsed.replyTo?.[0]?.address).toBe(calls.koen!.replyTo);
    expect(header(koen, 'in-reply-to')).toMatch(/^<.+@.+>$/);
    expect(koen.parsed.text).toContain('Buurtcafé in het oude politiekantoor aan de Sleepstraat');
    expect(acks.find((m) => m.envelopeTo[0] === HEADS.ann.email && /retard/.test(m.parsed.text ?? ''))).toBeDefined();
    expect(acks.find((m) => m.envelopeTo[0] === HEADS.hilde.email)!.parsed.text).toContain('Kein Projekt in diesem Quartal');
    await tickAndWork(configFile, new Date());
    expect(smtp.received.filter((m) => ackSubject.test(m.parsed.subject ?? ''))).toHaveLength(acks.length); // once
  });

  it('puts one overview in front of the steering committee at the deadline', async () => {
    const before = smtp.received.length;
    await runCli(['run', 'calls', '--at', CALL.toISO()!, '--variant', 'overview', '--wait']);
    const [overview] = smtp.received.slice(before);
    expect(overview.envelopeTo).toEqual(['stuurgroep@gent.example.org']);
    expect(overview.parsed.subject).toBe('Project call: 6 of 7 departments answered');
    const text = overview.parsed.text ?? '';
    for (const item of ['Heraanleg van de Vrijdagmarkt', 'Gentbrugse Meersen play forest', 'Rénovation de la bibliothèque de quartier à Sint-Amandsberg', 'Fietsstraat rond het Sint-Pietersplein', 'Playground renewal at the Muide']) expect(text).toContain(item);
    expect(text).not.toContain('Wildflower verges'); // Griet's latest answer replaces her first
    expect(text).toContain('Soziales: nothing this quarter');
    expect(text).toMatch(/No answer yet[\s\S]*Archive/);
    expect(text).toMatch(/Replies we could not verify[\s\S]*koen\.vandamme@gmail-lookalike\.example for Mobiliteit/);
    expect(text).toMatch(/Replies we could not match to a department[\s\S]*Question about the platform/);
  });

  it('shows the latest round’s answers, and the late one, on the steering agenda', async () => {
    const out = await runCli(['preview', 'steering', '--variant', 'agenda', '--out', mkdtempSync(path.join(tmpdir(), 'crier-agenda-'))]);
    const txt = readFileSync(out.files.find((f: string) => f.endsWith('.txt')), 'utf8');
    expect(txt).toContain('Heraanleg van de Vrijdagmarkt');
    expect(txt).toMatch(/Open-air cinema in Citadelpark[^\n]*after the deadline|after the deadline[\s\S]*Open-air cinema/);
  });
});

async function write(dir: string, file: string, raw: Buffer): Promise<string> {
  const full = path.join(dir, file);
  writeFileSync(full, raw);
  return full;
}

/** The receiver answers 250 once a message is stored and processes it right after. */
async function waitForReceiver(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const { rows } = await crier.ledger.pool.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE processed_at IS NULL`);
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
