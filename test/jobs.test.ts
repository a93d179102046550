import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crier } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * Every job kind of DESIGN.md's cadence table, end to end: config → `crier check` →
 * `crier preview` → `crier run` → the SMTP server, on a small organisation whose every row the
 * test knows (the platform's real schema, Europe/Brussels, launched 2 March 2026).
 */
const name = uniqueName('crier_jobs');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let config: string;
const ids: Record<string, string> = {};

const MODERATOR_DIGEST = 'EmailCampaigns::Campaigns::ModeratorDigest';

beforeAll(async () => {
  tenant = await createTenant(host);
  const t = tenant;
  const f1 = await t.folder({ 'nl-BE': 'Mobiliteit', 'fr-BE': 'Mobilité' }, 'mobility');
  const f2 = await t.folder({ 'nl-BE': 'Groen' }, 'green');
  const f3 = await t.folder({ 'nl-BE': 'Wijken' }, 'neighbourhoods'); // nobody manages it on the platform
  Object.assign(ids, { f1: f1.id, f2: f2.id, f3: f3.id });
  ids.p1 = await t.project({ 'nl-BE': 'Fietsstraten' }, 'published', f1.publication, 'cycle-streets');
  ids.p2 = await t.project({ 'nl-BE': 'Schoolstraten', 'fr-BE': 'Rues scolaires' }, 'published', f1.publication, 'school-streets');
  ids.p3 = await t.project({ 'nl-BE': 'Parkbudget' }, 'published', f2.publication, 'park-budget');
  ids.p4 = await t.project({ 'nl-BE': 'Wijkplan (concept)' }, 'draft', f3.publication, 'district-plan');
  ids.p5 = await t.project({ 'nl-BE': 'Oude markthal' }, 'archived', undefined, 'old-market');
  ids.p6 = await t.project({ 'nl-BE': 'Open ideeënbus' }, 'published', undefined, 'idea-box');

  const staff = (email: string, roles: unknown[], extra: Record<string, unknown> = {}) => t.user({ email, first_name: email.split('@')[0], last_name: 'Test', roles, ...extra });
  ids.admin = await staff('admin@example.org', [{ type: 'admin' }]);
  ids.blockedAdmin = await staff('blocked@example.org', [{ type: 'admin' }], { block_end_at: '9999-12-31 00:00:00' });
  ids.fm1 = await staff('fm1@example.org', [{ type: 'project_folder_moderator', project_folder_id: f1.id }, { type: 'project_moderator', project_id: ids.p1 }, { type: 'project_moderator', project_id: ids.p2 }], { locale: 'fr-BE' });
  ids.fm2 = await staff('fm2@example.org', [{ type: 'project_folder_moderator', project_folder_id: f2.id }, { type: 'project_moderator', project_id: ids.p3 }]);
  ids.pm1 = await staff('pm1@example.org', [{ type: 'project_moderator', project_id: ids.p1 }]);
  ids.pm2 = await staff('pm2@example.org', [{ type: 'project_moderator', project_id: ids.p4 }]);
  ids.pm3 = await staff('pm3@example.org', [{ type: 'project_moderator', project_id: ids.p5 }]);
  ids.unregistered = await staff('invited@example.org', [{ type: 'project_moderator', project_id: ids.p1 }], { registration_completed_at: null });
  // Roles Crier does not know, or malformed, are ignored rather than fatal.
  await staff('odd@example.org', [{ type: 'project_reviewer', project_id: ids.p1 }, { type: 'project_moderator' }, 'admin']);
  await t.insert('email_campaigns_consents', { campaign_type: MODERATOR_DIGEST, user_id: ids.fm2, consented: false });
  await t.insert('email_campaigns_consents', { campaign_type: MODERATOR_DIGEST, user_id: ids.pm1, consented: true });

  const r1 = await t.user({ registration_completed_at: '2026-03-05 10:00:00' });
  const r2 = await t.user({ registration_completed_at: '2026-03-20 10:00:00' });
  const ideation = await t.phase(ids.p1, 'ideation', { start_at: '2026-10-01', end_at: '2026-12-10' });
  const survey = await t.phase(ids.p2, 'native_survey', { start_at: '2026-11-01', end_at: '2026-11-27' });
  await t.phase(ids.p3, 'voting', { start_at: '2026-12-05', end_at: '2027-01-15', voting_method: 'budgeting' });
  ids.i1 = await t.idea({ project_id: ids.p1, author_id: r1, published_at: '2026-11-18 10:00:00', title_multiloc: { 'nl-BE': 'Fietsstraat <b>Kortrijksesteenweg</b>' } });
  ids.i2 = await t.idea({ project_id: ids.p1, author_id: r2, published_at: '2026-11-05 10:00:00', title_multiloc: { 'nl-BE': 'Meer fietsenstallingen' } });
  ids.i0 = await t.idea({ project_id: ids.p1, author_id: r1, published_at: '2026-03-10 10:00:00', title_multiloc: { 'nl-BE': 'Eerste idee' } });
  for (const i of [ids.i1, ids.i2, ids.i0]) await t.insert('ideas_phases', { idea_id: i, phase_id: ideation });
  await t.insert('official_feedbacks', { idea_id: ids.i2, body_multiloc: { 'nl-BE': 'Dank je' } });
  await t.insert('official_feedbacks', { idea_id: ids.i0, body_multiloc: { 'nl-BE': 'Dank je' } });
  await t.idea({ project_id: ids.p2, author_id: r2, creation_phase_id: survey, published_at: '2026-11-20 10:00:00' });
  await t.comment({ idea_id: ids.i1, author_id: r2, created_at: '2026-11-19 10:00:00' });
  await t.comment({ idea_id: ids.i1, author_id: r1, created_at: '2026-11-20 10:00:00' });
  await t.insert('events', { project_id: ids.p1, title_multiloc: { 'nl-BE': 'Fietsavond' }, start_at: '2026-12-15 18:00:00', end_at: '2026-12-15 20:00:00' });

  smtp = await startSmtpServer();
  config = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    launch: '2026-03-02',
    audiences: {
      council: [{ name: 'Mathias De Clercq', email: 'burgemeester@example.org', locale: 'nl-BE' }],
      'core-team': [{ platformRole: 'admin' }, { name: 'IT Dienst', email: 'it@example.org', locale: 'en', copy: 'it' }],
      steering: [
        { name: 'Sara Steering', email: 'sara@example.org', locale: 'nl-BE' },
        { name: 'Admin again', email: 'ADMIN@example.org' },
      ],
      'department-heads': [{ platformRole: 'folder-manager' }],
      moderators: [{ platformRole: 'project-manager' }, { name: 'Jan Peeters', email: 'jan@jeugdraad.example.org', locale: 'nl-BE', projects: ['school-streets'] }, { name: 'PM one', email: 'PM1@example.org' }],
      communication: [{ name: 'Wim Communicatie', email: 'wim@example.org', locale: 'nl-BE' }],
    },
    schedules: {
      council: { job: 'council-update', audience: 'council', cron: '0 9 * 1,4,7,10 1#1', afterLaunch: ['P0D'], timezone: 'Europe/Brussels' },
      'check-ins': { job: 'launch-check-in', audience: 'core-team', afterLaunch: ['P1W', 'P1M', 'P3M', 'P6M'], time: '10:00', widget: true },
      steering: { job: 'steering-meeting', audience: 'steering', dates: ['2026-12-08 14:00', '2027-03-09 14:00'], location: 'Stadhuis' },
      'project-call': { job: 'project-call', cron: '0 9 * 2,5,8,11 1#1', deadline: 'P21D' },
      departments: { job: 'department-digest', audience: 'department-heads', cron: '0 8 1 * *' },
      moderators: { job: 'moderator-digest', audience: 'moderators', cron: '0 8 * * 1' },
      communication: { job: 'communication-brief', audience: 'communication', cron: '0 9 * * 1#4' },
    },
  });
  // departments: is a top-level key the helper does not write; add it to the file.
  const { appendFileSync } = await import('node:fs');
  appendFileSync(config, 'departments:\n  neighbourhoods: { name: Leen Wijken, email: wijken@example.org, locale: nl-BE }\n');
});

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

const mails = (schedule: string): Received[] => smtp.received.filter((m) => m.parsed.headers.find((h) => h.key === 'x-crier-schedule')?.value === schedule);
const to = (list: Received[]) => list.map((m) => m.envelopeTo[0]).sort();
const text = (m: Received | undefined) => (m?.parsed.text ?? '').replace(/\s+/g, ' ');

async function preview(schedule: string, ...args: string[]) {
  const res = await crier(['preview', schedule, '--json', '--out', mkdtempSync(path.join(tmpdir(), 'crier-jobs-')), '--config', config, ...args]);
  expect(res.stderr).toBe('');
  return JSON.parse(res.stdout);
}

async function run(schedule: string, ...args: string[]) {
  const res = await crier(['run', schedule, '--wait', '--json', '--config', config, ...args]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout);
}

describe('crier check lists every kind', () => {
  it('with the steering meeting’s invitation and agenda sends', async () => {
    const res = await crier(['check', '--json', '--from', '2026-11-01T00:00', '--count', '2', '--config', config]);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.schedules.map((s: { job: string }) => s.job)).toEqual(['council-update', 'launch-check-in', 'steering-meeting', 'project-call', 'department-digest', 'moderator-digest', 'communication-brief']);
    const steering = out.schedules.find((s: { id: string }) => s.id === 'steering');
    expect(steering.sends).toEqual([
      { at: '2026-11-24T14:00:00.000+01:00', variant: 'invitation', occurrence: '2026-12-08T14:00:00.000+01:00' },
      { at: '2026-12-06T14:00:00.000+01:00', variant: 'agenda', occurrence: '2026-12-08T14:00:00.000+01:00' },
    ]);
    expect(out.schedules.find((s: { id: string }) => s.id === 'project-call').audience).toEqual([]); // the job kind's default: folder managers
  });
});

describe('council-update', () => {
  it('fires at launch with a report from launch to the occurrence', async () => {
    const p = await preview('council', '--at', '2026-03-02T09:00');
    expect(p.period).toEqual({ start: '2026-03-02T00:00:00.000+01:00', end: '2026-03-02T09:00:00.000+01:00' });
    expect(p.subject).toBe('Het participatieplatform van Stad Test is gelanceerd');
    const r = await run('council', '--at', '2026-03-02T09:00');
    expect(r.deliveries).toMatchObject({ sent: 1 });
    expect(mails('council')[0].parsed.subject).toBe('Het participatieplatform van Stad Test is gelanceerd');
  });

  it('counts the first quarter from launch, without comparing with before launch', async () => {
    const p = await preview('council', '--at', '2026-04-06T09:00');
    expect(p.period).toEqual({ start: '2026-03-02T00:00:00.000+01:00', end: '2026-04-01T00:00:00.000+02:00' });
    expect(p.summary.totals).toMatchObject({ inputs: 1, newUsers: 2 });
    expect(p.summary.previous).toBeNull();
  });
});

describe('launch-check-in', () => {
  it('reports adoption against the previous check-in and a checklist; the IT copy carries the embed snippet', async () => {
    const p = await preview('check-ins', '--at', '2026-04-02T10:00');
    expect(p.period).toEqual({ start: '2026-03-02T00:00:00.000+01:00', end: '2026-04-02T10:00:00.000+02:00' });
    // The blocked admin is not an active account.
    expect(p.recipients.map((r: { email: string }) => r.email).sort()).toEqual(['admin@example.org', 'it@example.org']);
    expect(p.summary).toMatchObject({
      days: 31,
      totals: { newUsers: 2, inputs: 1, participants: 1 },
      previous: { newUsers: 1, inputs: 0 }, // at P1W (9 March): r1 had registered, r2 not yet; i0 came on 10 March
      published: 4,
      unmoderated: [ids.p6],
      unmanagedFolders: [ids.f3],
      manual: { widget: true, communicationPlan: false },
    });
    const r = await run('check-ins', '--at', '2026-04-02T10:00');
    expect(r.deliveries).toMatchObject({ sent: 2 });
    const it = mails('check-ins').find((m) => m.envelopeTo[0] === 'it@example.org')!;
    const admin = mails('check-ins').find((m) => m.envelopeTo[0] === 'admin@example.org')!;
    expect(it.parsed.text).toContain(`<iframe src="https://${host}/widgets/projects"`);
    expect(it.parsed.html).not.toContain('<iframe');
    expect(text(it)).toContain('For the IT department');
    expect(admin.parsed.html).not.toContain('iframe');
    expect(text(admin)).toMatch(/1 gepubliceerd project heeft geen moderator/); // the admin's account is nl-BE
    expect(text(admin)).toMatch(/1 map heeft geen mapbeheerder/);
  });
});

// The agenda, the invitation's calendar part and the moved/cancelled flows.
describe('steering-meeting', () => {
  it('sends an invitation with a calendar REQUEST and an agenda with the facts', async () => {
    const inv = await run('steering', '--at', '2026-12-08T14:00', '--variant', 'invitation');
    expect(inv.run.variant).toBe('invitation');
    expect(inv.deliveries).toMatchObject({ sent: 2 });
    const invitation = mails('steering').find((m) => m.envelopeTo[0] === 'sara@example.org')!;
    expect(invitation.parsed.subject).toMatch(/^Uitnodiging: stuurgroep participatie, 8 december 2026/);
    expect(invitation.raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i);
    const ics = invitation.parsed.attachments.find((a) => a.mimeType === 'text/calendar') ?? { content: Buffer.from(invitation.raw.slice(invitation.raw.indexOf('BEGIN:VCALENDAR'))) };
    // Unfold RFC 5545 continuation lines before matching.
    const body = (typeof ics.content === 'string' ? ics.content : Buffer.from(ics.content as ArrayBuffer).toString()).replace(/\r?\n /g, '');
    expect(body).toMatch(/METHOD:REQUEST/);
    expect(body).toMatch(/UID:steering-20261208T1300Z@example\.org/);
    expect(body).toMatch(/SEQUENCE:0/);
    expect(body).toMatch(/DTSTART:20261208T130000Z/);
    expect(body).toMatch(/DTEND:20261208T150000Z/);
    expect(body).toMatch(/LOCATION:Stadhuis/);
    expect(body).toMatch(/ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE;CN="Sara Steering":MAILTO:sara@example\.org/);
    expect(body).toMatch(/ORGANIZER;CN="Participatie Test":mailto:participatie@example\.org/);

    const agenda = await preview('steering', '--at', '2026-12-08T14:00', '--variant', 'agenda');
    expect(agenda.period.end).toBe('2026-12-06T14:00:00.000+01:00');
    expect(agenda.summary.agenda).toMatchObject({ drafts: 1, backlog: 1 }); // draft p4; i1 has no official answer (i0, i2 do)
    await run('steering', '--at', '2026-12-08T14:00', '--variant', 'agenda');
    const agendaMail = mails('steering').find((m) => m.parsed.subject?.startsWith('Agenda'))!;
    expect(text(agendaMail)).toContain('Wijkplan (concept)');
    expect(text(agendaMail)).toContain('Fietsstraat <b>Kortrijksesteenweg</b>');
    expect(agendaMail.raw).not.toMatch(/text\/calendar/);
  });
});

describe('project-call', () => {
  it('asks every department head, with the deadline and their folder’s projects; a folder nobody manages goes to its department head', async () => {
    const p = await preview('project-call', '--at', '2027-02-01T09:00');
    expect(p.recipients.map((r: { email: string }) => r.email).sort()).toEqual(['fm1@example.org', 'fm2@example.org', 'wijken@example.org']);
    expect(p.summary).toMatchObject({ deadline: '2027-02-22', folders: ['Mobilité'], projects: ['Fietsstraten', 'Rues scolaires'] }); // fm1 is fr-BE
    const r = await run('project-call', '--at', '2027-02-01T09:00');
    expect(r.deliveries).toMatchObject({ sent: 3, skipped: 0 });
    const fm1 = mails('project-call').find((m) => m.envelopeTo[0] === 'fm1@example.org')!;
    expect(fm1.parsed.subject).toBe('Sur quoi travaille votre service ? Merci de répondre avant le 22 février 2027');
    expect(text(fm1)).toContain('Rues scolaires');
    expect(text(fm1)).not.toContain('Parkbudget');
    expect(fm1.parsed.replyTo?.[0]?.address).toBe('participatie@example.org');
    const wijken = mails('project-call').find((m) => m.envelopeTo[0] === 'wijken@example.org')!;
    expect(text(wijken)).toContain('Wijkplan (concept)');
  });
});

describe('department-digest', () => {
  it('counts November for the head’s folders only', async () => {
    const p = await preview('departments', '--at', '2026-12-01T08:00');
    expect(p.period).toEqual({ start: '2026-11-01T00:00:00.000+01:00', end: '2026-12-01T00:00:00.000+01:00' });
    expect(p.recipients.map((r: { email: string }) => r.email)).toEqual(['fm1@example.org', 'wijken@example.org']);
    expect(p.skipped).toEqual([{ email: 'fm2@example.org', name: 'fm2 Test', reason: "opted out of the platform's ModeratorDigest e-mails" }]);
    // fm1's folder (p1, p2): i1 and i2 published in November, one survey response, two comments;
    // i1 waits for an answer; p1's ideation phase ends in December (p3's start is another folder's).
    expect(p.summary).toMatchObject({ projects: 2, totals: { inputs: 2, surveyResponses: 1, comments: 2, reactions: 0, votes: 0 }, waiting: 1, starting: 0, ending: 1 });
  });

  it('covers all of a head’s folders in one e-mail and skips the one who opted out of the platform’s digest', async () => {
    const r = await run('departments', '--at', '2026-12-01T08:00');
    expect(r.deliveries).toMatchObject({ sent: 2, skipped: 1 });
    expect(to(mails('departments'))).toEqual(['fm1@example.org', 'wijken@example.org']);
    const fm1 = text(mails('departments').find((m) => m.envelopeTo[0] === 'fm1@example.org'));
    expect(fm1).toContain('novembre 2026'); // last month, in French
    expect(fm1).toMatch(/Fietsstraat <b>Kortrijksesteenweg<\/b>/); // waiting for an answer
    expect(fm1).not.toContain('Meer fietsenstallingen'); // answered
    expect(fm1).toMatch(/Phases qui se terminent en décembre 2026.*Fietsstraten/);
    const wijken = text(mails('departments').find((m) => m.envelopeTo[0] === 'wijken@example.org'));
    expect(wijken).toContain('Een rustige maand');
    const status = JSON.parse((await crier(['status', '--json', '--config', config])).stdout);
    expect(status.skipped).toContainEqual(expect.objectContaining({ schedule: 'departments', email: 'fm2@example.org', reason: "opted out of the platform's ModeratorDigest e-mails" }));
  });
});

describe('moderator-digest', () => {
  it('counts the week before the digest for the moderator’s projects', async () => {
    const p = await preview('moderators', '--at', '2026-11-23T08:00');
    expect(p.period).toEqual({ start: '2026-11-16T08:00:00.000+01:00', end: '2026-11-23T08:00:00.000+01:00' });
    // fm1 moderates p1 and p2: i1 (18 Nov) is new and unanswered; p2's survey ends on 27 Nov; no drafts.
    expect(p.summary).toEqual({ projects: [ids.p1, ids.p2], newInputs: 1, waiting: 1, ending: 1, drafts: 0 });
  });

  it('goes to internal and external moderators for their projects and skips those with nothing to report', async () => {
    const r = await run('moderators', '--at', '2026-11-23T08:00');
    // pm1 (listed twice), fm1 (moderates p1, p2), pm2 (a draft), Jan (external, p2's survey ends in 4 days);
    // pm3's archived project has nothing; fm2 opted out of the platform's moderator digest.
    expect(to(mails('moderators'))).toEqual(['fm1@example.org', 'jan@jeugdraad.example.org', 'pm1@example.org', 'pm2@example.org']);
    expect(r.deliveries).toMatchObject({ sent: 4, skipped: 2 });
    const pm1 = text(mails('moderators').find((m) => m.envelopeTo[0] === 'pm1@example.org'));
    expect(pm1).toMatch(/Nieuwe bijdragen.*Fietsstraat <b>Kortrijksesteenweg<\/b>/);
    expect(pm1).not.toContain('Schoolstraten');
    const jan = text(mails('moderators').find((m) => m.envelopeTo[0] === 'jan@jeugdraad.example.org'));
    expect(jan).toMatch(/Fases die binnen een week eindigen.*Schoolstraten/);
    const pm2 = text(mails('moderators').find((m) => m.envelopeTo[0] === 'pm2@example.org'));
    expect(pm2).toMatch(/Je conceptprojecten.*Wijkplan \(concept\)/);
    const status = JSON.parse((await crier(['status', '--json', '--config', config])).stdout);
    expect(status.skipped).toContainEqual(expect.objectContaining({ schedule: 'moderators', email: 'pm3@example.org', reason: 'nothing to report' }));
  });
});

describe('communication-brief', () => {
  it('lists next month’s phases and events to promote and the past month’s highlights, with links', async () => {
    const p = await preview('communication', '--at', '2026-11-23T09:00');
    expect(p.summary).toMatchObject({ starting: 1, events: 1, busiest: [ids.p1, ids.p2] });
    await run('communication', '--at', '2026-11-23T09:00');
    const m = mails('communication')[0];
    expect(m.parsed.subject).toBe('Te promoten in december 2026: wat er opent op het participatieplatform');
    expect(text(m)).toMatch(/Opent in december 2026.*Parkbudget/);
    expect(text(m)).toContain('Fietsavond');
    expect(m.parsed.html).toContain(`https://${host}/projects/park-budget`);
  });
});

describe('steering-meeting: a moved meeting updates the calendar entry, a cancelled one is cancelled', () => {
  it('sends SEQUENCE 0, then 1 with the same UID at once when moved, then METHOD:CANCEL; a meeting not yet announced is dropped silently', async () => {
    const { tickAndWork } = await import('./helpers/worker.ts');
    const movesName = uniqueName('crier_moves');
    const file = (options: Record<string, unknown>) =>
      writeTestConfig({
        tenant: host,
        name: movesName,
        smtp: smtp.url,
        audiences: { steering: [{ name: 'Sara Steering', email: 'sara@example.org', locale: 'en-GB' }] }, // the en catalogue, British dates
        schedules: { 'steering-moves': { job: 'steering-meeting', audience: 'steering', dates: ['2026-12-08 14:00', '2027-03-09 14:00'], location: 'City hall', ...options } },
      });
    const ics = () =>
      mails('steering-moves').map((m) => {
        const raw = m.raw.replace(/=\r?\n/g, '');
        const cal = raw.slice(raw.indexOf('BEGIN:VCALENDAR'), raw.indexOf('END:VCALENDAR')).replace(/\r?\n /g, '');
        return { subject: m.parsed.subject, method: /METHOD:(\w+)/.exec(cal)?.[1], uid: /UID:(\S+)/.exec(cal)?.[1], sequence: Number(/SEQUENCE:(\d+)/.exec(cal)?.[1]), start: /DTSTART:(\S+)/.exec(cal)?.[1], status: /STATUS:(\w+)/.exec(cal)?.[1] };
      });

    // 25 Nov 12:00 UTC: the 8 December meeting's invitation (due 24 Nov 14:00) goes out.
    const first = await tickAndWork(file({}), new Date('2026-11-25T12:00:00Z'));
    expect(first.created.map((r) => r.variant)).toEqual(['invitation']);
    // Moved to 9 December 10:00: its invitation time (25 Nov 10:00) has passed, so it goes out at the next tick.
    await tickAndWork(file({ moved: { '2026-12-08 14:00': '2026-12-09 10:00' } }), new Date('2026-11-25T13:00:00Z'));
    // Then cancelled (by its original time); the March meeting, never announced, is cancelled without a word.
    await tickAndWork(file({ moved: { '2026-12-08 14:00': '2026-12-09 10:00' }, cancelled: ['2026-12-08 14:00', '2027-03-09 14:00'] }), new Date('2026-11-25T14:00:00Z'));

    // February: the cancelled March meeting's invitation time passes; it was never announced, so no cancellation.
    const later = await tickAndWork(file({ moved: { '2026-12-08 14:00': '2026-12-09 10:00' }, cancelled: ['2026-12-08 14:00', '2027-03-09 14:00'] }), new Date('2027-02-25T12:00:00Z'));
    expect(later.created).toEqual([]);

    const sent = ics();
    expect(sent).toEqual([
      { subject: 'Invitation: participation steering committee, 8 December 2026 at 14:00', method: 'REQUEST', uid: 'steering-moves-20261208T1300Z@example.org', sequence: 0, start: '20261208T130000Z', status: 'CONFIRMED' },
      { subject: 'Moved: participation steering committee now on 9 December 2026 at 10:00', method: 'REQUEST', uid: 'steering-moves-20261208T1300Z@example.org', sequence: 1, start: '20261209T090000Z', status: 'CONFIRMED' },
      { subject: 'Cancelled: participation steering committee of 9 December 2026 at 10:00', method: 'CANCEL', uid: 'steering-moves-20261208T1300Z@example.org', sequence: 2, start: '20261209T090000Z', status: 'CANCELLED' },
    ]);
    await dropRedisPrefix(movesName);
  });
});

describe('steering-meeting plans', () => {
  it('announces a meeting moved later at once, and times the agenda from where the previous one stopped', async () => {
    const { loadJobKinds } = await import('../src/job-registry.ts');
    const { DateTime } = await import('luxon');
    const job = (await loadJobKinds()).get('steering-meeting')!;
    const zone = 'Europe/Brussels';
    const options = { invite: 'P14D', agenda: 'P2D', duration: 'PT2H', moved: { '2027-03-10 14:00': '2027-03-31 14:00' }, cancelled: [] };
    const original = DateTime.fromISO('2027-03-10T14:00', { zone });
    const runs = job.plan!([original], { scheduleId: 'sc', timezone: zone, options, now: DateTime.fromISO('2027-03-01T12:00', { zone }) });
    const invitation = runs.find((r) => r.variant === 'invitation')!;
    // Due from the original announcement (24 Feb), so "as soon as seen" sends it on 1 March, not on 17 March.
    expect(invitation.at.toISO()).toBe('2027-02-24T14:00:00.000+01:00');
    expect(invitation.meta).toMatchObject({ sequence: 1, start: '2027-03-31T14:00:00.000+02:00' });
    expect(runs.find((r) => r.variant === 'agenda')!.at.toISO()).toBe('2027-03-29T14:00:00.000+02:00');
    const cancelled = job.plan!([original], { scheduleId: 'sc', timezone: zone, options: { ...options, cancelled: ['2027-03-10 14:00'] }, now: DateTime.fromISO('2027-03-01T12:00', { zone }) });
    expect(cancelled).toEqual([expect.objectContaining({ variant: 'cancellation', requires: 'invitation:sc-20270310T1300Z:', asapUntil: DateTime.fromISO('2027-03-31T14:00', { zone }) })]);
    // The agenda of 9 March reports from the previous agenda's send (6 December, two days before 8 December).
    const period = job.period({ scheduleId: 'sc', occurrence: DateTime.fromISO('2027-03-09T14:00', { zone }), previous: DateTime.fromISO('2026-12-08T14:00', { zone }), timezone: zone, options, variant: 'agenda', meta: {} });
    expect([period.start.toISO(), period.end.toISO()]).toEqual(['2026-12-06T14:00:00.000+01:00', '2027-03-07T14:00:00.000+01:00']);
  });
});

describe('crier check against the platform', () => {
  it('refuses an audience naming a project the platform does not have, with the place in the file', async () => {
    const file = writeTestConfig({
      tenant: host,
      name: uniqueName('crier_badslug'),
      audiences: { moderators: [{ name: 'Jan Peeters', email: 'jan@jeugdraad.example.org', projects: ['school-streetz'] }] },
      schedules: { moderators: { job: 'moderator-digest', audience: 'moderators', cron: '0 8 * * 1' } },
    });
    const res = await crier(['check', '--json', '--config', file]);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toEqual({
      ok: false,
      errors: [expect.objectContaining({ path: 'schedules.moderators.audience', line: expect.any(Number), message: expect.stringMatching(/no project 'school-streetz'; projects: .*school-streets/) })],
    });
    const ok = JSON.parse((await crier(['check', '--json', '--config', config])).stdout);
    expect(ok.schedules.find((s: { id: string }) => s.id === 'departments').recipients).toBe(3); // fm1, fm2 (opted out, still an addressee) and the departments: head
  });
});

describe('a run that cannot be prepared', () => {
  it('fails at once with the reason, and `crier run` tries it again once the config is fixed', async () => {
    const failName = uniqueName('crier_fail');
    const file = (project: string) =>
      writeTestConfig({
        tenant: host,
        name: failName,
        smtp: smtp.url,
        audiences: { external: [{ name: 'Jan Peeters', email: 'jan.fail@example.org', locale: 'nl-BE', projects: [project] }] },
        schedules: { 'fail-once': { job: 'moderator-digest', audience: 'external', cron: '0 8 * * 1', skipWhenEmpty: false } },
      });
    const broken = await crier(['run', 'fail-once', '--at', '2026-11-23T08:00', '--wait', '--json', '--config', file('school-streetz')]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).run).toMatchObject({ status: 'failed', error: expect.stringMatching(/no project 'school-streetz'/) });
    const fixed = await crier(['run', 'fail-once', '--at', '2026-11-23T08:00', '--wait', '--json', '--config', file('school-streets')]);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ run: { status: 'done', created: false }, deliveries: { sent: 1 } });
    expect(mails('fail-once').map((m) => m.envelopeTo[0])).toEqual(['jan.fail@example.org']);
    await dropRedisPrefix(failName);
  });
});
