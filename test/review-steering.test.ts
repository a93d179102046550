import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { crierJson } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { tickAndWork } from './helpers/worker.ts';
import { attachmentText, fixture, header, receiveAt, thread } from './helpers/review.ts';

/*
 * The chair reviews the steering committee's agenda before the committee gets it: the round goes
 * to her alone, with the agenda's points numbered and the drafts attached; she leaves two points
 * out and adds a note by replying through Crier's own SMTP receiver; the agenda the committee
 * gets carries her decision, and the meeting's invitation, which no review covers, does not.
 */
const name = uniqueName('crier_rvs');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const local = (iso: string) => DateTime.fromISO(iso, { zone }).toJSDate();
// The departments were asked in January (the inbound fixtures answer that call) …
const CALL = '2027-01-04T09:00';
// … and the committee meets on 10 March: invitation 24 Feb, round 3 Mar, decisions by 5 Mar, agenda 8 Mar.
const MEETING = '2027-03-10T14:00';
const CHAIR = 'voorzitter@city.example';
const COMMITTEE = { chair: CHAIR, schepen: 'schepen@city.example', directrice: 'directrice@city.example' };
const HEADS = { ann: 'ann.verhaeghe@gent.example.org', tom: 'tom.devos@gent.example.org' };
const DRAFTS = ['Buurtbudget Noord', 'Skatepark Muide', 'Zwemvijver Blaarmeersen'];
const ANSWERS = {
  ann: 'Ann Verhaeghe: Rénovation de la bibliothèque de quartier à Sint-Amandsberg; Fête de quartier du 21 juin à la Bijloke',
  tom: 'Tom Devos: Fietsstraat rond het Sint-Pietersplein',
};
const NOTE = 'We beginnen met de antwoorden op de projectvraag; de conceptprojecten komen na de pauze aan bod.';

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

const mailsTo = (email: string, subject: RegExp) => smtp.received.filter((m) => m.envelopeTo.includes(email) && subject.test(m.parsed.subject ?? ''));
const text = (m: Received) => m.parsed.text ?? '';

const runCli = (args: string[]) => crierJson(configFile, args);

beforeAll(async () => {
  tenant = await createTenant(host);
  // Two department heads, each managing their department's folder.
  for (const [first, last, email, folder, locale] of [
    ['Ann', 'Verhaeghe', HEADS.ann, 'Cultuur', 'fr-BE'],
    ['Tom', 'Devos', HEADS.tom, 'Mobiliteit', 'nl-BE'],
  ]) {
    const f = await tenant.folder({ 'nl-BE': folder, en: folder });
    await tenant.user({ email, first_name: first, last_name: last, locale, roles: [{ type: 'project_folder_moderator', project_folder_id: f.id }] });
  }
  // Activity since the previous meeting, and three draft projects waiting for a placement decision.
  const resident = await tenant.user({ first_name: 'Eva' });
  const park = await tenant.project({ 'nl-BE': 'Stadspark', 'fr-BE': 'Parc de la ville', en: 'City park' }, 'published');
  for (const day of ['2027-01-12', '2027-02-03']) await tenant.idea({ project_id: park, author_id: resident, published_at: `${day} 10:00:00`, title_multiloc: { 'nl-BE': `Idee van ${day}` } });
  for (const title of DRAFTS) await tenant.project({ 'nl-BE': title, 'fr-BE': `${title} (fr)`, en: title }, 'draft');
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      heads: [{ platformRole: 'folder-manager' }],
      steering: [
        { name: 'Veerle Van Acker', email: COMMITTEE.chair, locale: 'nl-BE' },
        { name: 'Sam Schepen', email: COMMITTEE.schepen, locale: 'nl-BE' },
        { name: 'Danielle Directrice', email: COMMITTEE.directrice, locale: 'fr-BE' },
      ],
      chair: [{ name: 'Veerle Van Acker', email: CHAIR, locale: 'nl-BE' }],
    },
    schedules: {
      calls: { job: 'project-call', audience: ['heads'], dates: [CALL.replace('T', ' ')], timezone: zone, deadline: 'P21D', reminders: [] },
      steering: { job: 'steering-meeting', audience: ['steering'], dates: [MEETING.replace('T', ' ')], timezone: zone, location: 'Stadhuis, Pacificatiezaal', review: { audience: ['chair'], before: 'P5D', decide: 'P2D', default: 'send' } },
    },
    extra: { inbound: { address: 'calls@city.example', secret: 'test-secret-for-steering-reviews-01' } },
  });
  // The departments answer the project call: what the agenda lists first.
  await runCli(['run', 'calls', '--at', CALL, '--wait']);
  const call = (email: string) => thread(smtp.received.find((m) => m.envelopeTo.includes(email))!);
  const inbound = path.resolve('test/fixtures/inbound');
  await receiveAt(configFile, local('2027-01-05T16:48'), [
    { to: call(HEADS.ann).replyTo, raw: fixture('apple-mail.eml', call(HEADS.ann).replyTo, call(HEADS.ann).messageId, inbound) },
    { to: call(HEADS.tom).replyTo, raw: fixture('iphone.eml', call(HEADS.tom).replyTo, call(HEADS.tom).messageId, inbound) },
  ]);
  // Their acknowledgements go out.
  await tickAndWork(configFile, local('2027-01-05T16:49'));
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

/** What Crier sent during one worker minute at `at` (local time). */
async function minute(at: string): Promise<Received[]> {
  const before = smtp.received.length;
  await tickAndWork(configFile, local(at));
  return smtp.received.slice(before);
}

describe('a steering agenda reviewed by its chair', () => {
  it('is reviewed before the agenda goes out; the invitation is not', async () => {
    const out = await runCli(['check', '--from', '2027-02-01T00:00']);
    const steering = out.schedules.find((s: { id: string }) => s.id === 'steering');
    expect(steering.sends.map((s: { at: string; variant: string }) => [s.variant, s.at.slice(0, 16)])).toEqual([
      ['invitation', '2027-02-24T14:00'],
      ['review', '2027-03-03T14:00'],
      ['review-deadline', '2027-03-05T14:00'],
      ['agenda', '2027-03-08T14:00'],
    ]);
    // The invitation goes out at its time to the committee, the chair among them, with nothing to review first.
    const sent = await minute('2027-02-24T14:01');
    expect(sent.map((m) => [m.envelopeTo[0], m.parsed.subject]).sort()).toEqual([
      [COMMITTEE.directrice, 'Invitation : comité de pilotage de la participation, 10 mars 2027 à 14:00'],
      [COMMITTEE.schepen, 'Uitnodiging: stuurgroep participatie, 10 maart 2027 om 14:00'],
      [COMMITTEE.chair, 'Uitnodiging: stuurgroep participatie, 10 maart 2027 om 14:00'],
    ]);
  });

  it('sends the chair, and only her, the agenda’s points numbered, with the agenda attached as each language of the committee will read it', async () => {
    const sent = await minute('2027-03-03T14:01');
    expect(sent.map((m) => m.envelopeTo)).toEqual([[CHAIR]]);
    const [round] = sent;
    expect(round.parsed.subject).toBe('Ter controle: Agenda: stuurgroep participatie, 10 maart 2027 om 14:00');
    expect(header(round, 'x-crier-schedule')).toBe('steering');
    // The agenda's points as the agenda lists them: the departments' answers, then the drafts.
    const numbered = [...text(round).matchAll(/^- (\d+)\. (.+?)\s*$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(numbered).toEqual([ANSWERS.ann, ANSWERS.tom, ...DRAFTS].map((t, i) => [i + 1, t]));
    expect(text(round)).toContain('weglaten 3, 5');
    expect(text(round)).toContain('Beslis vóór 5 maart 2027. Zonder beslissing tegen dan vertrekt hij zoals hij is.');
    expect(text(round)).toContain('Deze e-mail vertrekt op 8 maart 2027.');
    expect(text(round)).toContain('in elke taal die ze lezen (fr-BE, nl-BE)');
    // The agenda itself, as the committee will get it, in both languages it reads.
    expect(round.parsed.attachments.map((a) => a.filename).sort()).toEqual(['draft-fr-BE.html', 'draft-nl-BE.html']);
    const nl = attachmentText(round, 'draft-nl-BE.html');
    const fr = attachmentText(round, 'draft-fr-BE.html');
    expect(nl).toContain('Agenda voor 10 maart 2027 om 14:00');
    expect(nl).toContain('Stadhuis, Pacificatiezaal');
    expect(fr).toContain('Ordre du jour du 10 mars 2027 à 14:00');
    expect(fr).toContain('Danielle Directrice');
    for (const draft of [nl, fr]) {
      for (const t of ['Rénovation de la bibliothèque de quartier à Sint-Amandsberg', 'Fietsstraat rond het Sint-Pietersplein', 'Skatepark Muide', 'Zwemvijver Blaarmeersen']) expect(draft).toContain(t);
    }
    // A personal, signed reply address.
    expect(round.parsed.replyTo?.[0]?.address).toMatch(/^calls\+\d+\.[a-z2-7]{16}@city\.example$/);
  });

  it('reads the chair’s reply (Outlook, above the quoted round) and answers her in her thread: two points left out, her note added', async () => {
    const round = thread(mailsTo(CHAIR, /^Ter controle: /)[0]);
    await receiveAt(configFile, local('2027-03-04T09:47'), [{ to: round.replyTo, raw: fixture('outlook-chair-leave-out-add.eml', round.replyTo, round.messageId) }]);
    const answers = await minute('2027-03-04T09:48');
    expect(answers.map((m) => m.envelopeTo)).toEqual([[CHAIR]]);
    const [answer] = answers;
    expect(answer.parsed.subject).toBe('Uw beslissing is genoteerd');
    expect(text(answer)).toContain(`Dank u. Uw beslissing geldt: versturen; zonder 2, 5; met de noot „${NOTE}”`);
    expect(text(answer)).toMatch(/Weggelaten\s+- 2\. Tom Devos: Fietsstraat rond het Sint-Pietersplein\s+- 5\. Zwemvijver Blaarmeersen/);
    expect(header(answer, 'in-reply-to')).toBe('<DB9PR02MB7745C1A0E2F3B4D5@DB9PR02MB7745.eurprd02.prod.outlook.com>');
    expect(answer.parsed.replyTo?.[0]?.address).toBe(round.replyTo);
    const review = await runCli(['review', 'steering']);
    expect(review.decisions.map((d: { from: string; outcome: string; effective: boolean; decision: unknown }) => [d.from, d.outcome, d.effective, d.decision])).toEqual([[CHAIR, 'taken', true, { action: 'send', leaveOut: [2, 5], note: NOTE }]]);
    expect(review.applies).toMatchObject({ action: 'send', leaveOut: [2, 5], note: NOTE, by: CHAIR, byDefault: false });
    // She decided: at the deadline nobody is told that a default applies.
    expect(await minute('2027-03-05T14:01')).toEqual([]);
  });

  it('sends the committee the agenda without the points the chair left out, saying how many, with her note on top', async () => {
    const sent = await minute('2027-03-08T14:01');
    const agenda = Object.fromEntries(sent.map((m) => [m.envelopeTo[0], m]));
    expect(Object.keys(agenda).sort()).toEqual([COMMITTEE.directrice, COMMITTEE.schepen, COMMITTEE.chair].sort());
    const nl = agenda[COMMITTEE.schepen];
    const fr = agenda[COMMITTEE.directrice];
    expect(nl.parsed.subject).toBe('Agenda: stuurgroep participatie, 10 maart 2027 om 14:00');
    expect(fr.parsed.subject).toBe('Ordre du jour : comité de pilotage de la participation, 10 mars 2027 à 14:00');
    for (const m of Object.values(agenda)) {
      // Gone from the lists: Tom's answer and the swimming pond.
      for (const gone of ['Fietsstraat rond het Sint-Pietersplein', 'Tom Devos', 'Zwemvijver']) {
        expect(text(m)).not.toContain(gone);
        expect(m.parsed.html).not.toContain(gone);
      }
      // Still there: Ann's answer, the other two drafts, the facts.
      for (const kept of ['Rénovation de la bibliothèque de quartier à Sint-Amandsberg', 'Buurtbudget Noord', 'Skatepark Muide', 'Idee van 2027-01-12']) expect(text(m)).toContain(kept);
      // The note, as written (one language), on top: above the facts.
      expect(text(m).indexOf(NOTE)).toBeGreaterThan(0);
      expect(text(m).indexOf(NOTE)).toBeLessThan(text(m).indexOf('Rénovation de la bibliothèque'));
      expect(m.parsed.html).toContain(NOTE);
    }
    expect(text(nl)).toContain('2 agendapunten niet vermeld, op vraag van de voorzitter.');
    expect(text(fr)).toContain('2 points de l’ordre du jour non listés, à la demande de la présidence.');
    expect(text(nl)).toMatch(/Antwoorden op de projectvraag\s+- Ann Verhaeghe\s+Rénovation de la bibliothèque[^\n]+\s+Projecten die wachten op een beslissing over plaatsing\s+- Buurtbudget Noord\s.+\s+- Skatepark Muide\s.+\s+Achterstand in moderatie/);
  });

  it('leaves the invitation as it was: no note, nothing left out, its calendar entry', async () => {
    const invitations = mailsTo(COMMITTEE.schepen, /^Uitnodiging: /).concat(mailsTo(COMMITTEE.directrice, /^Invitation : /));
    expect(invitations).toHaveLength(2);
    for (const m of invitations) {
      expect(text(m)).not.toContain(NOTE);
      expect(text(m)).not.toMatch(/niet vermeld|non listés/);
      expect(m.raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    }
    // What the chair got, in order: the invitation, the round, the answer to her reply, the agenda.
    expect(mailsTo(CHAIR, /./).map((m) => m.parsed.subject)).toEqual([
      'Uitnodiging: stuurgroep participatie, 10 maart 2027 om 14:00',
      'Ter controle: Agenda: stuurgroep participatie, 10 maart 2027 om 14:00',
      'Uw beslissing is genoteerd',
      'Agenda: stuurgroep participatie, 10 maart 2027 om 14:00',
    ]);
  });
});
