import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { Platform } from '../src/platform/platform.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { roundReader } from '../src/inbound/rounds.ts';
import type { RoundReader } from '../src/kit/rounds.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { renderMessage, viewContext } from '../src/delivery/message.ts';
import { Formatter } from '../src/render/format.ts';
import { resolveAudience } from '../src/delivery/audience.ts';
import type { CrierConfig, ScheduleConfig } from '../src/config/load.ts';
import type { JobKind, Recipient } from '../src/kit/contract.ts';
import type { CouncilData } from '../jobs/council-update.ts';
import type { LaunchCheckInData } from '../jobs/launch-check-in.ts';
import { crier } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * The cases of a real Go Vocal platform that a mayor or a department head would notice when
 * Crier gets them wrong, on the platform's real tables, every figure counted by hand in the
 * comments. Council period: Q4 2026 in Europe/Brussels; department digest: December 2026.
 *
 * Folder F "Mobiliteit": P1 (ideation + multiple voting), P2 (budgeting). P3: no folder.
 * CM: the community monitor (hidden, internal_role community_monitor).
 * People: residents r1, r2, r3; fm manages folder F and holds no project role (as newer
 * platforms store it); pm moderates P3; admin (a project reviewer); vendor, an admin at
 * govocal.com; sm, a space moderator.
 */
const name = uniqueName('realdata');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
let tenant: Awaited<ReturnType<typeof createTenant>>;
let platform: Platform;
let ledger: Ledger;
let rounds: RoundReader;
let jobs: Map<string, JobKind>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  tenant = await createTenant(host, { currency: 'EUR' });
  const t = tenant;
  jobs = await loadJobKinds();
  for (const r of ['r1', 'r2', 'r3']) ids[r] = await t.user({ email: `${r}@example.org` });
  const folder = await t.folder({ 'nl-BE': 'Mobiliteit', en: 'Mobility' }, 'mobiliteit');
  ids.F = folder.id;
  ids.P1 = await t.project({ 'nl-BE': 'Fietsstraten', en: 'Cycle streets' }, 'published', folder.publication, 'fietsstraten');
  ids.P2 = await t.project({ 'nl-BE': 'Wijkbudget', en: 'Neighbourhood budget' }, 'published', folder.publication, 'wijkbudget');
  ids.P3 = await t.project({ 'nl-BE': 'Open ideeënbus', en: 'Open idea box' }, 'published', undefined, 'ideeenbus');
  ids.CM = await t.project({ 'nl-BE': 'Gemeentemonitor', en: 'Community monitor' }, 'published', undefined, 'community-monitor');
  await t.client.query(`UPDATE projects SET hidden = true, internal_role = 'community_monitor' WHERE id = $1`, [ids.CM]);

  ids.fm = await t.user({ email: 'fm@stad.example.org', first_name: 'Fien', last_name: 'Mertens', roles: [{ type: 'project_folder_moderator', project_folder_id: ids.F }] });
  ids.pm = await t.user({ email: 'pm@stad.example.org', first_name: 'Pieter', roles: [{ type: 'project_moderator', project_id: ids.P3 }] });
  ids.admin = await t.user({ email: 'admin@stad.example.org', first_name: 'Ada', roles: [{ type: 'admin', project_reviewer: true }] });
  ids.vendor = await t.user({ email: 'support@govocal.com', first_name: 'Go Vocal support', roles: [{ type: 'admin' }] });
  ids.sm = await t.user({ email: 'sm@stad.example.org', first_name: 'Sam', roles: [{ type: 'space_moderator', space_id: '7f1c1d0e-0000-4000-8000-000000000001' }] });

  const ideation = await t.phase(ids.P1, 'ideation');
  const multiple = await t.phase(ids.P1, 'voting', { voting_method: 'multiple_voting', start_at: '2026-11-01' });
  const budgeting = await t.phase(ids.P2, 'voting', { voting_method: 'budgeting', start_at: '2026-11-15' });
  // A second voting round in P1: i2 is in both rounds; its offline votes count once.
  const secondRound = await t.phase(ids.P1, 'voting', { voting_method: 'multiple_voting', start_at: '2026-12-01' });
  const box = await t.phase(ids.P3, 'ideation');
  const monitor = await t.phase(ids.CM, 'community_monitor_survey');

  // Inputs. Ideation and voting inputs have no creation phase; ideas_phases links them.
  ids.i1 = await t.idea({ project_id: ids.P1, author_id: ids.r1, published_at: '2026-10-10 10:00:00' });
  ids.i2 = await t.idea({ project_id: ids.P1, author_id: ids.r2, published_at: '2026-10-11 10:00:00' });
  ids.i3 = await t.idea({ project_id: ids.P2, author_id: ids.admin, published_at: '2026-06-01 10:00:00', budget: 70_000 }); // Q2: a budget option
  ids.i4 = await t.idea({ project_id: ids.P2, author_id: ids.admin, published_at: '2026-06-01 10:00:00', budget: 30_000 });
  ids.i5 = await t.idea({ project_id: ids.P3, author_id: ids.r1, published_at: '2026-10-15 10:00:00' });
  for (const [idea, phase] of [[ids.i1, ideation], [ids.i2, ideation], [ids.i1, multiple], [ids.i2, multiple], [ids.i2, secondRound], [ids.i3, budgeting], [ids.i4, budgeting], [ids.i5, box]]) await t.insert('ideas_phases', { idea_id: idea, phase_id: phase });
  // The community monitor: survey responses, never inputs, never waiting for an answer.
  await t.idea({ project_id: ids.CM, author_id: ids.r1, creation_phase_id: monitor, published_at: '2026-11-01 10:00:00', title_multiloc: { 'nl-BE': 'Monitorantwoord' } });
  await t.idea({ project_id: ids.CM, author_id: ids.r2, creation_phase_id: monitor, published_at: '2026-11-02 10:00:00', title_multiloc: { 'nl-BE': 'Monitorantwoord' } });

  // Answered: i1 by a status change only (no official feedback), i3 by an official feedback.
  // The real activities table has no updated_at.
  await t.client.query(`INSERT INTO activities (item_type, item_id, action, user_id, acted_at, created_at) VALUES ('Idea', $1, 'changed_status', $2, '2026-10-20 10:00:00', '2026-10-20 10:00:00')`, [ids.i1, ids.fm]);
  await t.insert('official_feedbacks', { idea_id: ids.i3, body_multiloc: { 'nl-BE': 'Bedankt' }, author_multiloc: { 'nl-BE': 'Stad' }, created_at: '2026-07-01 10:00:00' });

  // Multiple voting: r3 puts 3 votes on i1 and 2 on i2; an admin enters 40 offline votes for i1
  // and 12 offline voters for the phase, both on 20 Nov.
  const b1 = await t.insert('baskets', { user_id: ids.r3, phase_id: multiple, submitted_at: '2026-11-05 10:00:00' });
  await t.insert('baskets_ideas', { basket_id: b1, idea_id: ids.i1, votes: 3 });
  await t.insert('baskets_ideas', { basket_id: b1, idea_id: ids.i2, votes: 2 });
  await t.client.query(`UPDATE ideas SET manual_votes_amount = 40, manual_votes_last_updated_at = '2026-11-20 10:00:00' WHERE id = $1`, [ids.i1]);
  await t.client.query(`UPDATE phases SET manual_voters_amount = 12, manual_voters_last_updated_at = '2026-11-20 10:00:00' WHERE id = $1`, [multiple]);
  await t.client.query(`UPDATE ideas SET manual_votes_amount = 10, manual_votes_last_updated_at = '2026-11-25 10:00:00' WHERE id = $1`, [ids.i2]);
  // P3 and the monitor went public in Q4; P3 is for a group of residents only (not promoted).
  await t.client.query(`UPDATE admin_publications SET first_published_at = '2026-10-02 10:00:00' WHERE publication_id = ANY($1::uuid[])`, [[ids.P3, ids.CM]]);
  await t.client.query(`UPDATE projects SET visible_to = 'groups' WHERE id = $1`, [ids.P3]);
  // Budgeting: baskets_ideas.votes holds the price. r1 picks i3 (€70,000), r2 i3 and i4
  // (€100,000), both in December; 3 offline ballots for i4 entered on 15 Dec (3 × €30,000).
  const b2 = await t.insert('baskets', { user_id: ids.r1, phase_id: budgeting, submitted_at: '2026-12-01 10:00:00' });
  await t.insert('baskets_ideas', { basket_id: b2, idea_id: ids.i3, votes: 70_000 });
  const b3 = await t.insert('baskets', { user_id: ids.r2, phase_id: budgeting, submitted_at: '2026-12-02 10:00:00' });
  await t.insert('baskets_ideas', { basket_id: b3, idea_id: ids.i3, votes: 70_000 });
  await t.insert('baskets_ideas', { basket_id: b3, idea_id: ids.i4, votes: 30_000 });
  await t.client.query(`UPDATE ideas SET manual_votes_amount = 3, manual_votes_last_updated_at = '2026-12-15 10:00:00' WHERE id = $1`, [ids.i4]);
  // December in P1: r1 comments on i2, r2 reacts to i1. So r1 and r2 are active in both P1 and P2.
  await t.comment({ idea_id: ids.i2, author_id: ids.r1, created_at: '2026-12-03 10:00:00' });
  await t.insert('reactions', { reactable_type: 'Idea', reactable_id: ids.i1, user_id: ids.r2, mode: 'up', created_at: '2026-12-04 10:00:00' });

  platform = await Platform.connect({ database: PG_URL, tenant: host });
  ledger = Ledger.connect(PG_URL, name);
  await ledger.migrate();
  rounds = roundReader(ledger.pool);
});

afterAll(async () => {
  await ledger?.pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await ledger?.close();
  await platform?.close();
  await tenant?.drop();
});

const at = (iso: string) => DateTime.fromISO(iso, { zone });

async function collect<T>(job: string, occurrence: string, recipients: Recipient[] = [], extra: Record<string, unknown> = {}): Promise<T> {
  const kind = jobs.get(job)!;
  const ctx = { scheduleId: job, occurrence: at(occurrence), timezone: zone, options: {}, ...extra };
  return JSON.parse(JSON.stringify(await kind.collect({ ...ctx, period: kind.period(ctx), platform, recipients, rounds }))) as T;
}

function fakeConfig(audiences: Record<string, unknown[]>): CrierConfig {
  return { audiences, departments: {} } as unknown as CrierConfig;
}
const schedule = (audience: string[]) => ({ id: 's', job: 'x', audience }) as unknown as ScheduleConfig;

describe('a council update on a real Go Vocal tenant (Q4 2026)', () => {
  it('reports ballots, voters, votes and the budget apart, offline ones included and counted', async () => {
    const { totals } = await collect<CouncilData>('council-update', '2027-01-04T09:00');
    expect(totals).toEqual({
      newUsers: 0,
      inputs: 3, // i1, i2, i5; not the June budget options i3, i4, nor the monitor's responses
      surveyResponses: 2, // the community monitor's two responses
      comments: 1, // r1 on i2
      reactions: 1, // r2 on i1
      ballots: 3, // r3 (multiple voting), r1 and r2 (budgeting)
      voters: 3, // r1, r2, r3
      offlineVoters: 12,
      votes: 55, // 3 + 2 online + 40 + 10 offline (i2's 10 once, though it is in two rounds); never the budget's euros
      offlineVotes: 50,
      budget: 260_000, // €70,000 + €100,000 online + 3 × €30,000 offline
      offlineBudget: 90_000,
      participants: 3, // r1, r2, r3 (offline voters are not known by name)
    });
  });

  it('names the projects that went public, never the hidden monitor', async () => {
    const { newProjects } = await collect<CouncilData>('council-update', '2027-01-04T09:00');
    expect(newProjects.map((p) => p.id)).toEqual([ids.P3]); // the monitor also went public on 2 Oct
  });

  it('lists the projects without the community monitor, whose responses stay in the totals', async () => {
    const { projects } = await collect<CouncilData>('council-update', '2027-01-04T09:00');
    expect(projects.map((p) => p.id)).toEqual([ids.P1, ids.P2, ids.P3]); // busiest first; CM never
    const p = Object.fromEntries(projects.map((x) => [x.id, x]));
    expect(p[ids.P1]).toMatchObject({ inputs: 2, comments: 1, reactions: 1, ballots: 1, voters: 1, votes: 55, offlineVotes: 50, offlineVoters: 12, budget: 0, participants: 3 });
    expect(p[ids.P2]).toMatchObject({ inputs: 0, ballots: 2, voters: 2, votes: 0, budget: 260_000, offlineBudget: 90_000, participants: 2 });
    expect(p[ids.P3]).toMatchObject({ inputs: 1, participants: 1 });
  });

  it('says so in the e-mail: money in the tenant’s currency, offline votes named', async () => {
    const job = jobs.get('council-update')!;
    const data = await collect<CouncilData>('council-update', '2027-01-04T09:00');
    const period = job.period({ scheduleId: 'x', occurrence: at('2027-01-04T09:00'), timezone: zone, options: {} });
    const render = (locale: string) =>
      renderMessage({ job, data, recipient: { email: 'mayor@example.org', name: 'Mayor', locale }, platform: platform.info, period, timezone: zone, color: '#0f4c81', replyTo: 'p@example.org' });
    const en = await render('en-GB');
    expect(en.text).toMatch(/Budget allocated\s+€260,000/);
    expect(en.text).toMatch(/Votes\s+55/);
    expect(en.text).toMatch(/Voters\s+15/); // 3 online + 12 entered by hand, as the platform shows them
    expect(en.text).toMatch(/Ballots\s+3/);
    expect(en.text).toContain('Entered by hand from offline voting, and included above: 50 votes, 12 voters, €90,000 of the budget.');
    expect(en.html).toContain('€260,000');
    expect(en.text).not.toContain('Community monitor');
    // A tile shortens millions; the text keeps every figure up to then.
    expect(Formatter.for('nl-BE', zone).money(26_250_000, 'EUR', { compact: true })).toMatch(/^€\s26,3\smln\.$/); // Intl puts no-break spaces
    expect(Formatter.for('en-GB', zone).money(260_000, 'EUR', { compact: true })).toBe('€260,000');
    const nl = await render('nl-BE');
    expect(nl.text).toMatch(/Toegewezen budget\s+€\s?260\.000/);
    expect(nl.text).not.toContain('Gemeentemonitor');
  });
});

describe('promotion', () => {
  it('the communication brief promotes only what every resident can see', async () => {
    const data = await collect<{ projects: { id: string }[]; starting: { projectId: string }[] }>('communication-brief', '2026-12-20T09:00');
    // P3 is visible to a group only, the monitor is hidden: neither is promoted.
    expect(data.projects.map((p) => p.id).sort()).toEqual([ids.P1, ids.P2].sort());
  });
});

describe('backlogs', () => {
  it('hold only inputs moderators answer, answered as the platform counts it', async () => {
    const data = await collect<{ agenda: { backlog: { id: string }[]; backlogCount: number } }>('steering-meeting', '2027-01-06T14:00', [], { variant: 'agenda', meta: { uid: 'm', sequence: 0, start: '2027-01-06T14:00:00+01:00', end: '2027-01-06T16:00:00+01:00', location: null } });
    // i2 (P1), i4 (P2) and i5 (P3) wait; i1 had its status changed, i3 an official feedback;
    // the community monitor's responses are survey responses and never wait.
    expect(data.agenda.backlog.map((i) => i.id).sort()).toEqual([ids.i2, ids.i4, ids.i5].sort());
    expect(data.agenda.backlogCount).toBe(3);
  });
});

describe('audiences on a real tenant', () => {
  it('the moderator digest reaches a folder manager for the projects of their folder, as the platform’s does', async () => {
    const job = jobs.get('moderator-digest')!;
    const recipients = await resolveAudience(fakeConfig({}), schedule([]), job, platform, new Date('2027-01-04T08:00:00Z'));
    expect(recipients.map((r) => r.email)).toEqual(['fm@stad.example.org', 'pm@stad.example.org']); // not the admins, the vendor, the space moderator
    const data = await collect<Parameters<typeof job.view>[0]>('moderator-digest', '2027-01-04T09:00', recipients);
    const fm = recipients[0];
    const summary = job.summary!(data, viewContext({ recipient: fm, platform: platform.info, period: job.period({ scheduleId: 'x', occurrence: at('2027-01-04T09:00'), timezone: zone, options: {} }), timezone: zone })) as { projects: string[]; waiting: number };
    expect(summary.projects.sort()).toEqual([ids.P1, ids.P2].sort());
    expect(summary.waiting).toBe(2); // i2 in P1, i4 in P2
  });

  it('a launch check-in does not call a folder manager’s projects unmoderated, nor list the hidden monitor', async () => {
    const data = await collect<LaunchCheckInData>('launch-check-in', '2026-12-01T09:00', [], { launch: at('2026-09-01T00:00') });
    expect(data.published.map((p) => p.id).sort()).toEqual([ids.P1, ids.P2, ids.P3].sort());
    expect(data.unmoderated).toEqual([]); // P1, P2 through fm's folder; P3 through pm
  });

  it('platformRole admin leaves the vendor’s support staff out unless the audience says includeVendorStaff', async () => {
    const job = jobs.get('council-update')!;
    const now = new Date('2027-01-04T08:00:00Z');
    const plain = await resolveAudience(fakeConfig({ a: [{ platformRole: 'admin', includeVendorStaff: false }] }), schedule(['a']), job, platform, now);
    expect(plain.map((r) => r.email)).toEqual(['admin@stad.example.org']);
    const all = await resolveAudience(fakeConfig({ a: [{ platformRole: 'admin', includeVendorStaff: true }] }), schedule(['a']), job, platform, now);
    expect(all.map((r) => r.email)).toEqual(['admin@stad.example.org', 'support@govocal.com']);
    const reviewers = await resolveAudience(fakeConfig({ a: [{ platformRole: 'project-reviewer', includeVendorStaff: false }] }), schedule(['a']), job, platform, now);
    expect(reviewers.map((r) => r.email)).toEqual(['admin@stad.example.org']);
  });
});

describe('a department digest (December 2026)', () => {
  it('counts a department’s participants as distinct people across its projects, in SQL', async () => {
    const job = jobs.get('department-digest')!;
    const fm: Recipient = { email: 'fm@stad.example.org', name: 'Fien', locale: 'en', scope: { folders: [ids.F] } };
    const data = await collect<Parameters<typeof job.view>[0]>('department-digest', '2027-01-04T09:00', [fm]);
    const summary = job.summary!(data, viewContext({ recipient: fm, platform: platform.info, period: job.period({ scheduleId: 'x', occurrence: at('2027-01-04T09:00'), timezone: zone, options: {} }), timezone: zone })) as { totals: { participants: number; ballots: number; budget: number; comments: number } };
    // December: P1 has r1 (comment) and r2 (reaction), P2 has r1 and r2 (ballots): 2 + 2 per
    // project, but two people.
    expect(summary.totals).toMatchObject({ participants: 2, ballots: 2, budget: 260_000, comments: 1 });
  });
});

describe('crier check and crier preview on a real tenant', () => {
  it('lists role holders no audience reaches: unknown role types and the vendor’s staff', async () => {
    const file = writeTestConfig({ tenant: host, name, schedules: { c: { job: 'council-update', cron: '0 9 1 1 *', audience: ['council'] } } });
    const res = await crier(['check', '--json', '--config', file]);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.roles).toEqual({ unknown: [{ type: 'space_moderator', count: 1, emails: ['sm@stad.example.org'] }], vendorStaff: ['support@govocal.com'] });
    const text = await crier(['check', '--config', file]);
    expect(text.stdout).toContain("the platform role 'space_moderator', which no platformRole maps to (sm@stad.example.org)");
  });

  it('preview --json summarises an e-mail that is sent, not the first recipient when they are skipped', async () => {
    const file = writeTestConfig({
      tenant: host,
      name,
      audiences: {
        // aaa moderates only the hidden community monitor: nothing to report, skipped.
        // zzz moderates P3, where i5 waits for an answer.
        team: [
          { name: 'Aaa', email: 'aaa@example.org', projects: ['community-monitor'] },
          { name: 'Zzz', email: 'zzz@example.org', projects: ['ideeenbus'] },
        ],
      },
      schedules: { team: { job: 'moderator-digest', cron: '0 9 * * MON', audience: ['team'] } },
    });
    const out = mkdtempSync(path.join(tmpdir(), 'crier-preview-'));
    const res = await crier(['preview', 'team', '--at', '2026-12-14T09:00', '--out', out, '--json', '--config', file]);
    expect(res.code, res.stderr).toBe(0);
    const team = JSON.parse(res.stdout);
    expect(team.skipped).toEqual([{ email: 'aaa@example.org', name: 'Aaa', reason: 'nothing to report' }]);
    expect(team.recipients.map((r: { email: string }) => r.email)).toEqual(['zzz@example.org']);
    expect(team.summary).toMatchObject({ projects: [ids.P3], waiting: 1 });
  });
});
