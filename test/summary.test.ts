import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { Platform } from '../src/platform/platform.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { roundReader } from '../src/inbound/rounds.ts';
import type { RoundReader } from '../src/kit/rounds.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import type { CouncilData } from '../jobs/council-update.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * Every count of the council update's activity summary on a fixture whose every row is known,
 * on the platform's real schema. Period: Q4 2026 in Europe/Brussels, i.e.
 * [2026-09-30 22:00:00 UTC, 2026-12-31 23:00:00 UTC).
 */
const host = `${uniqueName('summary').replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let platform: Platform;
let ledger: Ledger;
let rounds: RoundReader;
const ids: Record<string, string> = {};

beforeAll(async () => {
  tenant = await createTenant(host);
  const t = tenant;
  // Users: registration_completed_at decides "new"; fixture defaults are 2025-01-01.
  ids.u1 = await t.user({ registration_completed_at: '2026-10-05 10:00:00' });
  ids.u2 = await t.user({ registration_completed_at: '2026-09-30 21:59:59' }); // 23:59:59 local, 30 Sep: Q3
  ids.u3 = await t.user({ registration_completed_at: '2026-09-30 22:00:00' }); // 00:00 local, 1 Oct: Q4
  ids.u4 = await t.user({ registration_completed_at: '2026-12-31 23:00:00' }); // 00:00 local, 1 Jan: next year
  ids.u5 = await t.user({ registration_completed_at: null });

  const folder = await t.folder({ 'nl-BE': 'Mobiliteit', 'fr-BE': 'Mobilité' });
  ids.A = await t.project({ 'nl-BE': '<b>Fietsstraten</b> & "pleinen"', en: 'Cycle streets' }, 'published', folder.publication);
  ids.B = await t.project({ 'fr-BE': 'Budget participatif' }, 'archived');
  ids.C = await t.project({ 'nl-BE': 'Nog niet klaar' }, 'draft');
  ids.D = await t.project({ 'nl-BE': 'Concept met activiteit' }, 'draft');
  const ideation = await t.phase(ids.A, 'ideation');
  const survey = await t.phase(ids.A, 'native_survey');
  const voting = await t.phase(ids.B, 'voting', { voting_method: 'budgeting' });

  // Inputs: ideation inputs are transitive (no creation phase); survey responses have one.
  ids.i1 = await t.idea({ project_id: ids.A, author_id: ids.u1, published_at: '2026-09-30 22:30:00' }); // Q4 (00:30 local, 1 Oct)
  ids.i2 = await t.idea({ project_id: ids.A, author_id: ids.u2, published_at: '2026-09-30 21:30:00' }); // Q3
  await t.insert('ideas_phases', { idea_id: ids.i1, phase_id: ideation });
  await t.insert('ideas_phases', { idea_id: ids.i2, phase_id: ideation });
  ids.i3 = await t.idea({ project_id: ids.A, author_id: ids.u3, creation_phase_id: survey, published_at: '2026-11-01 09:00:00' });
  ids.i4 = await t.idea({ project_id: ids.A, author_id: null, anonymous: true, author_hash: 'h1', published_at: '2026-11-02 09:00:00' });
  ids.i5 = await t.idea({ project_id: ids.A, author_id: null, anonymous: true, author_hash: 'h1', published_at: '2026-11-03 09:00:00' });
  ids.i6 = await t.idea({ project_id: ids.B, author_id: ids.u1, publication_status: 'draft', published_at: null });
  ids.i7 = await t.idea({ project_id: ids.B, author_id: ids.u2, publication_status: 'submitted', published_at: null });
  ids.i8 = await t.idea({ project_id: ids.B, author_id: ids.u4, published_at: '2026-12-31 22:59:59' }); // 23:59:59 local, 31 Dec: Q4
  ids.i9 = await t.idea({ project_id: ids.D, author_id: ids.u5, published_at: '2026-10-10 12:00:00' });

  ids.c1 = await t.comment({ idea_id: ids.i2, author_id: ids.u3, created_at: '2026-10-02 08:00:00' }); // on a Q3 idea, in Q4
  ids.c2 = await t.comment({ idea_id: ids.i1, author_id: ids.u2, created_at: '2026-10-03 08:00:00', publication_status: 'deleted' });
  ids.c3 = await t.comment({ idea_id: ids.i8, author_id: null, anonymous: true, author_hash: 'h2', created_at: '2026-11-10 08:00:00' });
  ids.c4 = await t.comment({ idea_id: ids.i1, author_id: ids.u1, created_at: '2026-09-15 08:00:00' }); // Q3

  await t.insert('reactions', { reactable_type: 'Idea', reactable_id: ids.i1, user_id: ids.u2, mode: 'up', created_at: '2026-10-04 08:00:00' });
  await t.insert('reactions', { reactable_type: 'Comment', reactable_id: ids.c3, user_id: ids.u3, mode: 'up', created_at: '2026-10-05 08:00:00' }); // B, via the comment's idea
  await t.insert('reactions', { reactable_type: 'Idea', reactable_id: ids.i2, user_id: ids.u3, mode: 'down', created_at: '2026-08-01 08:00:00' }); // Q3
  await t.insert('reactions', { reactable_type: 'Comment', reactable_id: ids.c2, user_id: ids.u4, mode: 'neutral', created_at: '2026-10-06 08:00:00' }); // A

  // A budgeting phase: baskets_ideas.votes holds each chosen idea's price (i8 €70,000, i7 €25,000).
  const b1 = await t.insert('baskets', { user_id: ids.u4, phase_id: voting, submitted_at: '2026-10-20 08:00:00' });
  await t.insert('baskets_ideas', { basket_id: b1, idea_id: ids.i8, votes: 70_000 });
  await t.insert('baskets_ideas', { basket_id: b1, idea_id: ids.i7, votes: 25_000 });
  const b2 = await t.insert('baskets', { user_id: ids.u5, phase_id: voting, submitted_at: null }); // never submitted
  await t.insert('baskets_ideas', { basket_id: b2, idea_id: ids.i8, votes: 70_000 });
  const b3 = await t.insert('baskets', { user_id: ids.u1, phase_id: voting, submitted_at: '2026-09-01 08:00:00' }); // Q3
  await t.insert('baskets_ideas', { basket_id: b3, idea_id: ids.i8, votes: 70_000 });

  // A went public on 2 Oct (in Q4); B in June (before it).
  await t.client.query(`UPDATE admin_publications SET first_published_at = '2026-10-02 08:00:00' WHERE publication_id = $1`, [ids.A]);
  await t.client.query(`UPDATE admin_publications SET first_published_at = '2026-06-02 08:00:00' WHERE publication_id = $1`, [ids.B]);
  platform = await Platform.connect({ database: PG_URL, tenant: host });
  ledger = Ledger.connect(PG_URL, host.replace(/[.-]/g, '_'));
  await ledger.migrate();
  rounds = roundReader(ledger.pool);
});

afterAll(async () => {
  await ledger?.pool.query(`DROP SCHEMA IF EXISTS ${ledger.schema} CASCADE`);
  await ledger?.close();
  await platform?.close();
  await tenant?.drop();
});

async function councilData(occurrence: string): Promise<CouncilData> {
  const job = (await loadJobKinds()).get('council-update')!;
  const at = DateTime.fromISO(occurrence, { zone: 'Europe/Brussels' });
  const period = job.period({ scheduleId: 'council', occurrence: at, timezone: 'Europe/Brussels', options: {} });
  return (await job.collect({ scheduleId: 'council', occurrence: at, timezone: 'Europe/Brussels', options: {}, period, platform, recipients: [], rounds })) as CouncilData;
}

describe('council update activity summary (Q4 2026, Europe/Brussels)', () => {
  it('reports the previous quarter as [1 Oct, 1 Jan) local', async () => {
    const data = await councilData('2027-01-04T09:00');
    expect(data.period).toEqual({ start: '2026-10-01T00:00:00.000+02:00', end: '2027-01-01T00:00:00.000+01:00', timezone: 'Europe/Brussels' });
    expect(data.previousPeriod).toEqual({ start: '2026-07-01T00:00:00.000+02:00', end: '2026-10-01T00:00:00.000+02:00' });
  });

  it('counts every kind of activity in the period', async () => {
    const { totals } = await councilData('2027-01-04T09:00');
    expect(totals).toEqual({
      newUsers: 2, // u1, u3 (00:00 local on 1 Oct); not u2 (23:59:59 on 30 Sep) nor u4 (1 Jan)
      inputs: 5, // i1 (00:30 local on 1 Oct), i4, i5, i8 (23:59:59 on 31 Dec), i9; not draft/submitted i6, i7
      surveyResponses: 1, // i3, created in a native-survey phase
      comments: 2, // c1, c3; not the deleted c2 nor Q3's c4
      reactions: 3, // on i1, on comment c3, on deleted comment c2
      ballots: 1, // b1; b2 never submitted; b3 in Q3
      voters: 1, // u4
      offlineVoters: 0,
      votes: 0, // a budgeting phase has no votes …
      offlineVotes: 0,
      budget: 95_000, // … it allocates money: b1's €70,000 + €25,000
      offlineBudget: 0,
      participants: 7, // u1, u2, u3, u4, u5, anonymous h1 (twice), anonymous h2
    });
  });

  it('compares with the quarter before', async () => {
    const { previous } = await councilData('2027-01-04T09:00');
    expect(previous).toEqual({ newUsers: 1, inputs: 1, surveyResponses: 0, comments: 1, reactions: 1, ballots: 1, voters: 1, offlineVoters: 0, votes: 0, offlineVotes: 0, budget: 70_000, offlineBudget: 0, participants: 3 });
  });

  it('breaks the counts down per project, a reaction on a comment counting for the comment’s idea’s project', async () => {
    const { projects } = await councilData('2027-01-04T09:00');
    const byId = Object.fromEntries(projects.map((p) => [p.id, p]));
    expect(projects.map((p) => p.id)).toEqual([ids.A, ids.B, ids.D]); // busiest first; draft C without activity left out
    expect(byId[ids.A]).toMatchObject({ status: 'published', inputs: 3, surveyResponses: 1, comments: 1, reactions: 2, votes: 0, participants: 5, folderTitle: { 'nl-BE': 'Mobiliteit', 'fr-BE': 'Mobilité' } });
    expect(byId[ids.B]).toMatchObject({ status: 'archived', inputs: 1, surveyResponses: 0, comments: 1, reactions: 1, ballots: 1, votes: 0, budget: 95_000, participants: 3, folderTitle: null });
    expect(byId[ids.D]).toMatchObject({ status: 'draft', inputs: 1, participants: 1 });
  });

  it('names the projects that went public in the period', async () => {
    expect((await councilData('2027-01-04T09:00')).newProjects.map((p) => p.id)).toEqual([ids.A]);
    expect((await councilData('2026-07-06T09:00')).newProjects.map((p) => p.id)).toEqual([ids.B]);
  });

  it('puts an input published at 2026-09-30 22:30 UTC in Q4 and one at 21:30 UTC in Q3', async () => {
    const q4 = await councilData('2027-01-04T09:00');
    const q3 = await councilData('2026-10-05T09:00');
    expect(q4.totals.inputs).toBe(5);
    expect(q3.totals.inputs).toBe(1); // i2 only
    expect(q3.period.start).toBe('2026-07-01T00:00:00.000+02:00');
  });

  it('resolves titles to the recipient’s locale, falling back to another platform locale', async () => {
    const job = (await loadJobKinds()).get('council-update')!;
    const data = await councilData('2027-01-04T09:00');
    const { viewContext } = await import('../src/delivery/message.ts');
    const period = job.period({ scheduleId: 'council', occurrence: DateTime.fromISO('2027-01-04T09:00', { zone: 'Europe/Brussels' }), timezone: 'Europe/Brussels', options: {} });
    const summary = (locale: string) =>
      job.summary!(data, viewContext({ recipient: { email: 'x@example.org', name: 'X', locale }, platform: platform.info, period, timezone: 'Europe/Brussels' })) as { projects: { title: string; folder: string | null }[] };
    expect(summary('nl-BE').projects.map((p) => p.title)).toEqual(['<b>Fietsstraten</b> & "pleinen"', 'Budget participatif', 'Concept met activiteit']);
    expect(summary('en').projects[0]).toMatchObject({ title: 'Cycle streets', folder: 'Mobiliteit' });
    expect(summary('fr-BE').projects[0].folder).toBe('Mobilité');
  });

  it('reads the platform through a read-only connection with the tenant schema on the search_path', async () => {
    const [row] = await platform.query<{ search_path: string; ro: string }>(`SELECT current_setting('search_path') AS search_path, current_setting('transaction_read_only') AS ro`);
    expect(row.search_path).toContain(tenant.schema);
    expect(row.ro).toBe('on');
    await expect(platform.query(`UPDATE users SET first_name = 'hacked'`)).rejects.toThrow(/read-only transaction/);
    await expect(platform.query(`CREATE TABLE crier_was_here (id int)`)).rejects.toThrow(/read-only transaction/);
  });
});
