import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier as cli, crierJson } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { smtpDeliver } from './helpers/smtp-client.ts';
import { startSmtpReceiver } from '../src/inbound/smtp-receiver.ts';
import { tickAndWork } from './helpers/worker.ts';

/*
 * The management team reviews the council update before the council sees it, by e-mail: the
 * draft goes to the reviewers with real SMTP, their replies come back through Crier's own SMTP
 * receiver, and the send at the occurrence carries their decision.
 */
const name = uniqueName('crier_rev');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const SECRET = 'test-secret-for-review-tokens-0123';
const INBOUND = 'review@city.example';
// The first Monday of 2027: the council update reports Q4 2026.
const OCCURRENCE = '2027-01-04T09:00:00+01:00';
const local = (iso: string) => DateTime.fromISO(iso, { zone }).toJSDate();
// When the reviewers reply (the rounds above are sent by hand, so they can): before the deadline
// of 1 January 09:00, and before the quiet schedule's round of 30 December 09:00, which the last
// test ticks to. Crier's clock is pinned there, whatever the date the suite runs on.
const REPLIED = local('2026-12-29T10:00');
const REVIEWERS = { secretaris: 'secretaris@city.example', directeur: 'directeur@city.example', chef: 'chef@city.example' };
const FIXTURES = path.resolve('test/fixtures/review');
const PROJECTS = ['Fietsstraten', 'Speelpleinen', 'Stadspark', 'Bibliotheek', 'Marktplein'];

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

const header = (m: Received, key: string) => m.parsed.headers.find((h) => h.key === key)?.value ?? '';
const sentTo = (email: string, subject: RegExp) => smtp.received.filter((m) => m.envelopeTo.includes(email) && subject.test(m.parsed.subject ?? ''));

const runCli = (args: string[]) => crierJson(configFile, args);

beforeAll(async () => {
  tenant = await createTenant(host);
  const resident = await tenant.user({ first_name: 'Eva' });
  // More activity the further down the list, so the table's order is known: Marktplein first.
  for (const [i, title] of PROJECTS.entries()) {
    const project = await tenant.project({ 'nl-BE': title, 'fr-BE': `${title} (fr)`, en: `${title} (en)` }, 'published');
    for (let n = 0; n <= i; n++) await tenant.idea({ project_id: project, author_id: resident, published_at: `2026-11-0${n + 1} 10:00:00`, title_multiloc: { 'nl-BE': `Idee ${n}` } });
  }
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      council: [
        { name: 'Mathias De Clercq', email: 'burgemeester@city.example', locale: 'nl-BE' },
        { name: 'Claire Dubois', email: 'claire@city.example', locale: 'fr-BE' },
        { name: 'Anna Schmidt', email: 'anna@city.example', locale: 'de-DE' },
      ],
      management: [
        { name: 'Sofie Secretaris', email: REVIEWERS.secretaris, locale: 'nl-BE' },
        { name: 'Dirk Directeur', email: REVIEWERS.directeur, locale: 'en' },
        { name: 'Chloé Chef', email: REVIEWERS.chef, locale: 'fr-BE' },
      ],
    },
    schedules: {
      council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'send' } },
      'council-hold': { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'send' } },
      // Nobody answers: at the deadline the reviewers hear that the default, hold, applies.
      'council-quiet': { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'hold' } },
    },
    extra: { inbound: { address: INBOUND, secret: SECRET }, operator: { name: 'Olga Operator', email: 'operator@city.example', locale: 'en' } },
  });
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('the review round', () => {
  it('is planned before the send, at `before`, and listed by crier check', async () => {
    const out = await runCli(['check', '--from', '2026-12-01T00:00']);
    const sends = out.schedules[0].sends.map((s: { at: string; variant: string }) => [s.variant, s.at]);
    expect(sends).toEqual([
      ['review', expect.stringMatching(/^2026-12-30T09:00/)],
      ['review-deadline', expect.stringMatching(/^2027-01-01T09:00/)],
      ['default', expect.stringMatching(/^2027-01-04T09:00/)],
    ]);
  });

  it('sends each reviewer the draft in every language the council reads, its projects numbered, with a personal signed Reply-To', async () => {
    const out = await runCli(['run', 'council', '--at', OCCURRENCE, '--variant', 'review', '--wait']);
    expect(out.deliveries).toMatchObject({ sent: 3, failed: 0 });
    // Nothing went to the council.
    expect(smtp.received.filter((m) => m.envelopeTo.some((a) => /burgemeester|claire|anna/.test(a)))).toEqual([]);

    const [nl] = sentTo(REVIEWERS.secretaris, /./);
    const [en] = sentTo(REVIEWERS.directeur, /./);
    expect(nl.parsed.subject).toMatch(/^Ter controle: /);
    expect(en.parsed.subject).toMatch(/^For review: /);
    // The reviewer reads the instructions in their own language.
    expect(nl.parsed.text).toContain('weglaten 3, 5');
    expect(en.parsed.text).toContain('leave out 3, 5');
    expect(en.parsed.text).toMatch(/Decide by January 1, 2027\. Without a decision by then it goes out as it is/);
    // Numbered as the council's table lists them: most active first.
    const numbered = [...en.parsed.text!.matchAll(/^- (\d+)\. (.+?)\s*$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(numbered).toEqual([...PROJECTS].reverse().map((p, i) => [i + 1, `${p} (en)`]));
    // The drafts, one per language the council reads, as the council will see them.
    const files = en.parsed.attachments.map((a) => a.filename).sort();
    expect(files).toEqual(['draft-de-DE.html', 'draft-fr-BE.html', 'draft-nl-BE.html']);
    const draft = (locale: string) => {
      const a = en.parsed.attachments.find((x) => x.filename === `draft-${locale}.html`)!;
      return typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('utf8');
    };
    expect(draft('nl-BE')).toContain('Mathias De Clercq');
    expect(draft('nl-BE')).toContain('Marktplein');
    expect(draft('fr-BE')).toContain('Claire Dubois');
    expect(draft('fr-BE')).toContain('Marktplein (fr)');
    expect(draft('de-DE')).toContain('Anna Schmidt');
    expect(nl.parsed.attachments.length).toBe(3);
    // Personal, signed reply addresses, one per reviewer.
    const replyTos = [nl, en].map((m) => m.parsed.replyTo?.[0]?.address ?? '');
    for (const r of replyTos) expect(r).toMatch(/^review\+\d+\.[a-z2-7]{16}@city\.example$/);
    expect(sentTo(REVIEWERS.chef, /./)[0].parsed.subject).toMatch(/^À relire : /);
    expect(new Set(replyTos).size).toBe(2);
    expect(header(en, 'x-crier-schedule')).toBe('council');
  });

  it('is recorded in the ledger: the send it reviews, the deadline, the reviewers and the numbering', async () => {
    const jobs = await loadJobKinds();
    const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }) });
    try {
      const { rows } = await crier.ledger.pool.query(`SELECT * FROM reviews WHERE schedule_id = 'council'`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ schedule_id: 'council', send_key: '2027-01-04T08:00:00.000Z', default_decision: 'send' });
      expect(rows[0].deadline.toISOString()).toBe('2027-01-01T08:00:00.000Z');
      expect(rows[0].reviewers.map((r: { email: string }) => r.email).sort()).toEqual([REVIEWERS.chef, REVIEWERS.directeur, REVIEWERS.secretaris]);
      expect(rows[0].items.map((i: { title: Record<string, string> }) => i.title['nl-BE'])).toEqual([...PROJECTS].reverse());
    } finally {
      await crier.close();
    }
  });
});

/** A fixture's bytes with the reply address and the thread it answers filled in. */
function fixture(file: string, to: string, inReplyTo: string): Buffer {
  return Buffer.from(readFileSync(path.join(FIXTURES, file), 'latin1').replaceAll('{{TO}}', to).replaceAll('{{IN_REPLY_TO}}', inReplyTo), 'latin1');
}

/** The review e-mail a reviewer got for a schedule: its Message-ID and personal reply address. */
function roundOf(schedule: string, email: string) {
  const m = smtp.received.find((x) => x.envelopeTo.includes(email) && header(x, 'x-crier-schedule') === schedule && x.parsed.attachments.length > 0)!;
  return { messageId: header(m, 'message-id'), replyTo: m.parsed.replyTo![0].address! };
}

describe('decisions by reply', () => {
  it('reads each reply through the SMTP receiver, verifies its sender, keeps every one with its message, and lets the first decision win', async () => {
    await runCli(['run', 'council-hold', '--at', OCCURRENCE, '--variant', 'review', '--wait']);
    const jobs = await loadJobKinds();
    // Received before the deadline: the clock that decides whether a reply is late.
    const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }), now: () => REPLIED });
    const receiver = await startSmtpReceiver(crier, { host: '127.0.0.1', port: 0, maxSize: 1024 * 1024 });
    try {
      const sofie = roundOf('council', REVIEWERS.secretaris);
      const dirk = roundOf('council', REVIEWERS.directeur);
      const chloe = roundOf('council-hold', REVIEWERS.chef);
      const deliver = async (file: string, round: { replyTo: string; messageId: string }) => {
        expect(await smtpDeliver(receiver.port, round.replyTo, fixture(file, round.replyTo, round.messageId))).toMatch(/^250 /);
        // Processed after the 250: the order of decisions is the order they were received.
        await receiver.idle();
      };
      // A stranger writing to Sofie's personal address: kept, counts for nothing, not answered.
      await deliver('outsider-plain.eml', sofie);
      // Outlook, HTML only: she asks a question; the draft's "weglaten 3, 5" in the quoted history does not count.
      await deliver('outlook-html-unclear.eml', sofie);
      // Her iPhone, in Dutch, above the quoted draft: leave out 3 and 5, and a note.
      await deliver('iphone-leave-out-add.eml', sofie);
      // Thunderbird, plain text: Dirk approves, after Sofie decided.
      await deliver('thunderbird-approve.eml', dirk);
      // Gmail, in French: Chloé holds the other schedule's send, with her reason.
      await deliver('gmail-hold-fr.eml', chloe);

      const { rows } = await crier.ledger.pool.query(
        `SELECT r.schedule_id, d.from_address, d.verified, d.action, d.leave_out, d.note, d.reason, d.problem, d.outcome, d.effective, m.subject, m.kind, length(m.raw) > 0 AS raw
           FROM review_decisions d JOIN reviews r ON r.id = d.review_id JOIN inbound_messages m ON m.id = d.inbound_id ORDER BY d.id`,
      );
      expect(rows).toEqual([
        { schedule_id: 'council', from_address: 'pers@krant.example', verified: false, action: 'send', leave_out: [], note: null, reason: null, problem: null, outcome: 'unverified', effective: false, subject: 'Re: For review: Q4 2026 on the platform', kind: 'review', raw: true },
        { schedule_id: 'council', from_address: REVIEWERS.secretaris, verified: true, action: null, leave_out: [], note: null, reason: null, problem: 'none', outcome: 'unclear', effective: false, subject: 'RE: Ter controle: Q4 2026', kind: 'review', raw: true },
        { schedule_id: 'council', from_address: REVIEWERS.secretaris, verified: true, action: 'send', leave_out: [3, 5], note: 'De parkcijfers tellen het zomerfeest van augustus mee.', reason: null, problem: null, outcome: 'taken', effective: true, subject: 'Re: Ter controle: Q4 2026', kind: 'review', raw: true },
        { schedule_id: 'council', from_address: REVIEWERS.directeur, verified: true, action: 'send', leave_out: [], note: null, reason: null, problem: null, outcome: 'already', effective: false, subject: 'Re: For review: Q4 2026', kind: 'review', raw: true },
        { schedule_id: 'council-hold', from_address: REVIEWERS.chef, verified: true, action: 'hold', leave_out: [], note: null, reason: "les chiffres du Stadspark sont sous embargo jusqu'à la conférence de presse du 8 janvier.", problem: null, outcome: 'taken', effective: true, subject: 'Re: À relire : Q4 2026', kind: 'review', raw: true },
      ]);
    } finally {
      await receiver.close();
      await crier.close();
    }
  });

  it('answers each reviewer in their language and thread: recorded, already taken, or please rephrase; a stranger gets nothing', async () => {
    const before = smtp.received.length;
    // A minute after the replies: before any round of the schedules is due, so only the answers go out.
    await tickAndWork(configFile, new Date(REPLIED.getTime() + 60_000));
    const answers = smtp.received.slice(before);
    expect(answers.filter((m) => m.envelopeTo.includes('pers@krant.example'))).toEqual([]);
    const to = (email: string) => answers.filter((m) => m.envelopeTo.includes(email));
    // Two answers, sent as two runs: in either order.
    const sofie = ['Graag uw beslissing anders verwoorden', 'Uw beslissing is genoteerd'].map((subject) => to(REVIEWERS.secretaris).find((m) => m.parsed.subject === subject)!);
    expect(to(REVIEWERS.secretaris)).toHaveLength(2);
    expect(sofie.every(Boolean)).toBe(true);
    expect(sofie[0].parsed.text).toContain('We konden geen beslissing lezen in uw antwoord: we vonden er geen beslissing in. Het telt niet mee.');
    expect(sofie[0].parsed.text).toContain('weglaten 3, 5');
    expect(sofie[1].parsed.text).toContain('Dank u. Uw beslissing geldt: versturen; zonder 3, 5; met de noot „De parkcijfers tellen het zomerfeest van augustus mee.”');
    expect(sofie[1].parsed.text).toMatch(/Weggelaten\s+- 3\. Stadspark\s+- 5\. Fietsstraten/);
    // In her thread, with her personal address: a correction comes back to Crier.
    expect(header(sofie[1], 'in-reply-to')).toBe('<7C1F3C2E-5B7D-4E60-8C4A-2F1D0B9E7A99@city.example>');
    expect(sofie[1].parsed.replyTo![0].address).toBe(roundOf('council', REVIEWERS.secretaris).replyTo);
    const [dirk] = to(REVIEWERS.directeur);
    expect(dirk.parsed.subject).toBe('A decision had already been taken');
    expect(dirk.parsed.text).toContain(`${REVIEWERS.secretaris} had already decided: send; leaving out 3, 5; with the note`);
    const [chloe] = to(REVIEWERS.chef);
    expect(chloe.parsed.subject).toBe('Votre décision est enregistrée');
    expect(chloe.parsed.text).toContain("Merci. Votre décision s’applique : suspendre : les chiffres du Stadspark sont sous embargo");
    expect(answers).toHaveLength(4);
  });
});

describe('crier review', () => {
  it('shows the current review: who was asked, every reply with its message, and what applies', async () => {
    const out = await runCli(['review', 'council']);
    expect(out.review).toMatchObject({ schedule: 'council', send: '2027-01-04T08:00:00.000Z', occurrence: '2027-01-04T09:00:00.000+01:00', deadline: '2027-01-01T09:00:00.000+01:00', default: 'send' });
    expect(out.reviewers.map((r: { email: string; status: string }) => [r.email, r.status]).sort()).toEqual([[REVIEWERS.chef, 'sent'], [REVIEWERS.directeur, 'sent'], [REVIEWERS.secretaris, 'sent']]);
    expect(out.items.map((i: { number: number; title: Record<string, string> }) => [i.number, i.title['nl-BE']])).toEqual([...PROJECTS].reverse().map((p, i) => [i + 1, p]));
    expect(out.decisions.map((d: { from: string; outcome: string; effective: boolean }) => [d.from, d.outcome, d.effective])).toEqual([
      ['pers@krant.example', 'unverified', false],
      [REVIEWERS.secretaris, 'unclear', false],
      [REVIEWERS.secretaris, 'taken', true],
      [REVIEWERS.directeur, 'already', false],
    ]);
    expect(out.decisions[2].message).toMatchObject({ subject: 'Re: Ter controle: Q4 2026', text: expect.stringContaining('Weglaten 3, 5') });
    expect(out.applies).toEqual({ action: 'send', leaveOut: [3, 5], note: 'De parkcijfers tellen het zomerfeest van augustus mee.', by: REVIEWERS.secretaris, byDefault: false, final: true });
    expect(out.sendRun).toBeNull();
    const held = await runCli(['review', 'council-hold']);
    expect(held.applies).toMatchObject({ action: 'hold', by: REVIEWERS.chef, byDefault: false });
    // Without a schedule: the latest round of any reviewed schedule.
    const res = await cli(['review', '--config', configFile]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^council-hold: the send of Mon 4 Jan 2027 09:00/);
    expect(res.stdout).toContain('applies: hold: les chiffres du Stadspark sont sous embargo');
  });
});

/** The council's e-mails of a schedule, by address. */
const councilMail = (schedule: string) => Object.fromEntries(smtp.received.filter((m) => header(m, 'x-crier-schedule') === schedule && m.envelopeTo.some((a) => /burgemeester|claire|anna/.test(a))).map((m) => [m.envelopeTo[0], m]));

describe('the send, with the decision applied', () => {
  it('leaves out the projects the reviewer named from the table, keeps them in the totals, says how many are not listed, and puts the note on top', async () => {
    const before = smtp.received.length;
    const out = await runCli(['run', 'council', '--at', OCCURRENCE, '--wait']);
    expect(out.deliveries).toMatchObject({ sent: 3, failed: 0 });
    expect(smtp.received.length - before).toBe(3);
    const mail = councilMail('council');
    const nl = mail['burgemeester@city.example'].parsed;
    const fr = mail['claire@city.example'].parsed;
    const de = mail['anna@city.example'].parsed;
    for (const m of [nl, fr, de]) {
      expect(m.text).not.toMatch(/Stadspark|Fietsstraten/);
      expect(m.html).not.toMatch(/Stadspark|Fietsstraten/);
      expect(m.text).toMatch(/Marktplein/);
      // The note, as written (one language), above the figures.
      expect(m.text!.indexOf('De parkcijfers tellen het zomerfeest van augustus mee.')).toBeGreaterThan(0);
      expect(m.text!.indexOf('De parkcijfers')).toBeLessThan(m.text!.indexOf('Marktplein'));
    }
    expect(nl.text).toContain('2 projecten niet vermeld, op vraag van het managementteam.');
    expect(fr.text).toContain('2 projets non listés');
    expect(de.text).toContain('2 Projekte nicht aufgeführt');
    // A total is a total: the 15 ideas of all five projects are still counted.
    const jobs = await loadJobKinds();
    const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }) });
    try {
      const { rows } = await crier.ledger.pool.query(`SELECT data FROM runs WHERE schedule_id = 'council' AND variant = 'default'`);
      expect(rows[0].data.totals.inputs).toBe(15);
      expect(rows[0].data.projects.map((p: { title: Record<string, string> }) => p.title['nl-BE'])).toEqual(['Marktplein', 'Bibliotheek', 'Speelpleinen']);
      expect(rows[0].data._review).toEqual({ note: 'De parkcijfers tellen het zomerfeest van augustus mee.', notListed: 2 });
    } finally {
      await crier.close();
    }
  });

  it('holds a send the reviewers held: not sent, the run recorded as held, the superadmin and the reviewers told how to send it anyway', async () => {
    const before = smtp.received.length;
    const out = await runCli(['run', 'council-hold', '--at', OCCURRENCE, '--wait']);
    expect(out.run.status).toBe('held');
    expect(out.deliveries).toMatchObject({ sent: 0 });
    expect(Object.keys(councilMail('council-hold'))).toEqual([]);
    // Told at once, recorded with the hold: not at the next sweep.
    const told = smtp.received.slice(before).filter((m) => header(m, 'x-crier-schedule') === 'council-hold');
    expect(told.map((m) => m.envelopeTo[0]).sort()).toEqual([REVIEWERS.chef, REVIEWERS.directeur, 'operator@city.example', REVIEWERS.secretaris]);
    const olga = told.find((m) => m.envelopeTo[0] === 'operator@city.example')!.parsed;
    expect(olga.subject).toBe('Held, not sent: council-hold of January 4, 2027');
    expect(olga.text).toContain(`${REVIEWERS.chef} decided to hold it (les chiffres du Stadspark sont sous embargo`);
    expect(olga.text).toContain('crier run council-hold --at 2027-01-04T09:00 --force');
    expect(told.find((m) => m.envelopeTo[0] === REVIEWERS.secretaris)!.parsed.subject).toBe('Tegengehouden, niet verstuurd: council-hold van 4 januari 2027');
  });

  it('sends a held send anyway with crier run --force, as the reviewers saw it, once', async () => {
    const out = await runCli(['run', 'council-hold', '--at', '2027-01-04T09:00', '--force', '--wait']);
    expect(out.run.status).toBe('done');
    expect(out.deliveries).toMatchObject({ sent: 3 });
    const nl = councilMail('council-hold')['burgemeester@city.example'].parsed;
    for (const p of PROJECTS) expect(nl.text).toContain(p);
    expect(nl.text).not.toMatch(/niet vermeld/);
    const again = await runCli(['run', 'council-hold', '--at', '2027-01-04T09:00', '--force', '--wait']);
    expect(again.deliveries).toMatchObject({ sent: 3 });
    expect(Object.keys(councilMail('council-hold'))).toHaveLength(3);
    // The review says it went out over the hold.
    const review = await runCli(['review', 'council-hold']);
    expect(review.sendRun).toMatchObject({ status: 'done', forced: true });
    expect(review.applies).toMatchObject({ action: 'hold', by: REVIEWERS.chef, final: true });
  });

  it('with no reply by the deadline, tells the reviewers which default applies, and at the occurrence applies it', async () => {
    // The tick reaches the rounds (the others' were sent by hand: nothing new), then the deadline, then the occurrence.
    let before = smtp.received.length;
    await tickAndWork(configFile, local('2026-12-30T09:01'));
    const rounds = smtp.received.slice(before);
    expect(rounds.map((m) => header(m, 'x-crier-schedule'))).toEqual(['council-quiet', 'council-quiet', 'council-quiet']);
    before = smtp.received.length;
    await tickAndWork(configFile, local('2027-01-01T09:01'));
    const notices = smtp.received.slice(before);
    // Only the review nobody decided: the other two had their decision.
    expect(notices.map((m) => header(m, 'x-crier-schedule'))).toEqual(['council-quiet', 'council-quiet', 'council-quiet']);
    const dirk = notices.find((m) => m.envelopeTo[0] === REVIEWERS.directeur)!.parsed;
    expect(dirk.subject).toBe('No decision came: it is held');
    expect(dirk.text).toContain('No reviewer decided by January 1, 2027, so the e-mail planned for January 4, 2027 is held and will not be sent.');
    expect(notices.find((m) => m.envelopeTo[0] === REVIEWERS.chef)!.parsed.subject).toBe('Aucune décision : il est suspendu');
    before = smtp.received.length;
    await tickAndWork(configFile, local('2027-01-04T09:01'));
    // The notice is made when the send is held, and goes out with the next tick's sweep.
    await tickAndWork(configFile, local('2027-01-04T09:02'));
    const sent = smtp.received.slice(before);
    expect(Object.keys(councilMail('council-quiet'))).toEqual([]);
    const held = sent.filter((m) => header(m, 'x-crier-schedule') === 'council-quiet');
    expect(held.find((m) => m.envelopeTo[0] === 'operator@city.example')!.parsed.text).toContain('no decision came by the deadline, and the rule then is to hold it');
    // The sends decided earlier were not sent again.
    expect(sent.filter((m) => m.envelopeTo.some((a) => /burgemeester|claire|anna/.test(a)))).toEqual([]);
    }, 180_000);
});
