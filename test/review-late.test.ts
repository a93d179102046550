import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { crier as cli, crierJson } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { tickAndWork } from './helpers/worker.ts';
import { fixture, header, plainReply, receiveAt, thread } from './helpers/review.ts';

/*
 * A reviewer who answers after the deadline: the chair of the steering committee hears at the
 * deadline that the agenda goes out as drafted, and replies the next morning to leave a point out
 * and add a note. Crier keeps the reply with its message and tells her it came too late and what
 * applies; the reply counts for nothing, and the committee gets the agenda as drafted.
 */
const name = uniqueName('crier_rvl');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const local = (iso: string) => DateTime.fromISO(iso, { zone }).toJSDate();
// The committee meets on 14 April: round 7 Apr 14:00, decisions by 9 Apr 14:00, agenda 12 Apr 14:00.
const MEETING = '2027-04-14T14:00';
const CHAIR = 'pieter.peeters@city.example';
const MEMBERS = { schepen: 'schepen@city.example', directrice: 'directrice@city.example' };
const DRAFTS = ['Buurtbudget Noord', 'Skatepark Muide', 'Zwemvijver Blaarmeersen'];
const NOTE = "The swimming pond goes to the June meeting, after the environment department's advice.";

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

const text = (m: Received) => m.parsed.text ?? '';

const runCli = (args: string[]) => crierJson(configFile, args);

/** What Crier sent during one worker minute at `at` (local time). */
async function minute(at: string): Promise<Received[]> {
  const before = smtp.received.length;
  await tickAndWork(configFile, local(at));
  return smtp.received.slice(before);
}

beforeAll(async () => {
  tenant = await createTenant(host);
  for (const title of DRAFTS) await tenant.project({ 'nl-BE': title, 'fr-BE': `${title} (fr)`, en: title }, 'draft');
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      steering: [
        { name: 'Pieter Peeters', email: CHAIR, locale: 'en' },
        { name: 'Sam Schepen', email: MEMBERS.schepen, locale: 'nl-BE' },
        { name: 'Danielle Directrice', email: MEMBERS.directrice, locale: 'fr-BE' },
      ],
      chair: [{ name: 'Pieter Peeters', email: CHAIR, locale: 'en' }],
    },
    schedules: {
      steering: { job: 'steering-meeting', audience: ['steering'], dates: [MEETING.replace('T', ' ')], timezone: zone, location: 'City hall', review: { audience: ['chair'], before: 'P5D', decide: 'P2D', default: 'send' } },
    },
    extra: { inbound: { address: 'review@city.example', secret: 'test-secret-for-late-review-replies' } },
  });
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('a reply after the deadline', () => {
  it('comes after the round and the notice that, without a decision, the agenda goes out as drafted', async () => {
    // The invitation, unreviewed, to the committee, the chair among them.
    expect((await minute('2027-03-31T14:01')).map((m) => m.envelopeTo[0]).sort()).toEqual([MEMBERS.directrice, CHAIR, MEMBERS.schepen].sort());
    const round = await minute('2027-04-07T14:01');
    expect(round.map((m) => [m.envelopeTo[0], m.parsed.subject])).toEqual([[CHAIR, 'For review: Agenda: participation steering committee, April 14, 2027 at 2:00 PM']]);
    expect(text(round[0])).toContain('Decide by April 9, 2027. Without a decision by then it goes out as it is.');
    expect([...text(round[0]).matchAll(/^- (\d+)\. (.+?)\s*$/gm)].map((m) => m[2])).toEqual(DRAFTS);
    const notice = await minute('2027-04-09T14:01');
    expect(notice.map((m) => [m.envelopeTo[0], m.parsed.subject])).toEqual([[CHAIR, 'No decision came: it goes out as drafted']]);
    expect(text(notice[0])).toContain('No reviewer decided by April 9, 2027, so the e-mail goes out as drafted on April 12, 2027.');
  });

  it('is kept with its message, answered in the chair’s thread that it came too late and what applies, and counts for nothing', async () => {
    const round = thread(smtp.received.find((m) => m.envelopeTo.includes(CHAIR) && m.parsed.subject?.startsWith('For review: '))!);
    // The next morning, the day after the deadline.
    const [inbound] = await receiveAt(configFile, local('2027-04-10T09:15'), [{ to: round.replyTo, raw: fixture('gmail-late-leave-out-add.eml', round.replyTo, round.messageId) }]);
    const answers = await minute('2027-04-10T09:16');
    expect(answers.map((m) => m.envelopeTo)).toEqual([[CHAIR]]);
    const [answer] = answers;
    expect(answer.parsed.subject).toBe('Your reply came after the deadline');
    expect(text(answer)).toContain('The deadline was April 9, 2027; without a decision by then the rule is sending it as drafted. Your reply was kept but not applied.');
    // Nothing in it reads as applied.
    expect(text(answer)).not.toMatch(/Left out|Zwemvijver/);
    expect(header(answer, 'in-reply-to')).toBe('<CAGmail-late-chair-0001@mail.gmail.com>');
    expect(answer.parsed.replyTo?.[0]?.address).toBe(round.replyTo);

    const review = await runCli(['review', 'steering']);
    // The agenda goes out two days before the meeting it is for.
    expect(review.review).toMatchObject({ schedule: 'steering', variant: 'agenda', sendAt: '2027-04-12T14:00:00.000+02:00', occurrence: '2027-04-14T14:00:00.000+02:00', deadline: '2027-04-09T14:00:00.000+02:00', default: 'send' });
    const printed = await cli(['review', 'steering', '--config', configFile]);
    expect(printed.stdout.split('\n')[0]).toBe('steering: the agenda of Mon 12 Apr 2027 14:00, for Wed 14 Apr 2027 14:00, decisions due Fri 9 Apr 2027 14:00 (default: send)');
    expect(review.decisions).toEqual([
      {
        receivedAt: '2027-04-10T09:15:00.000+02:00',
        from: CHAIR,
        verified: true,
        outcome: 'late',
        effective: false,
        // What she asked is read and kept, not applied.
        decision: { action: 'send', leaveOut: [3], note: NOTE },
        problem: null,
        message: { inbound, subject: 'Re: For review: Agenda: participation steering committee, April 14, 2027 at 2:00 PM', text: expect.stringContaining('Leave out 3') },
      },
    ]);
    expect(review.applies).toMatchObject({ action: 'send', leaveOut: [], note: null, by: null, byDefault: true });
  });

  it('answers an unreadable reply after the deadline as late, not with a request to rephrase that could only come later still', async () => {
    const round = thread(smtp.received.find((m) => m.envelopeTo.includes(CHAIR) && m.parsed.subject?.startsWith('For review: '))!);
    await receiveAt(configFile, local('2027-04-10T11:00'), [{ to: round.replyTo, raw: plainReply({ from: `Pieter Peeters <${CHAIR}>`, to: round.replyTo, subject: 'Re: For review', text: 'Which of these was the pond again?', inReplyTo: round.messageId }) }]);
    const [answer] = await minute('2027-04-10T11:01');
    expect(answer.parsed.subject).toBe('Your reply came after the deadline');
    const review = await runCli(['review', 'steering']);
    expect(review.decisions.map((d: { outcome: string; effective: boolean; problem: string | null }) => [d.outcome, d.effective, d.problem])).toEqual([
      ['late', false, null],
      ['late', false, 'none'],
    ]);
  });

  it('leaves the agenda as drafted: every point listed, no note', async () => {
    const sent = await minute('2027-04-12T14:01');
    const agenda = Object.fromEntries(sent.map((m) => [m.envelopeTo[0], m]));
    expect(Object.keys(agenda).sort()).toEqual([MEMBERS.directrice, CHAIR, MEMBERS.schepen].sort());
    expect(agenda[CHAIR].parsed.subject).toBe('Agenda: participation steering committee, April 14, 2027 at 2:00 PM');
    expect(text(agenda[CHAIR])).toMatch(/Projects waiting for a placement decision\s+- Buurtbudget Noord\s.+\s+- Skatepark Muide\s.+\s+- Zwemvijver Blaarmeersen\s/);
    for (const m of Object.values(agenda)) {
      for (const draft of DRAFTS) expect(text(m)).toContain(draft);
      expect(text(m)).not.toContain('swimming pond');
      expect(m.parsed.html).not.toContain('swimming pond');
      expect(text(m)).not.toMatch(/not listed|niet vermeld|non listé/);
    }
    const review = await runCli(['review', 'steering']);
    expect(review.sendRun).toMatchObject({ status: 'done' });
  });
});
