/*
 * `npm run bench`: what the design's speed claims rest on, measured side by side in one run
 * and reported as ratios (absolute times vary with the machine; the ratios hold).
 */
import { DateTime } from 'luxon';
import { loadJobKinds } from '../src/job-registry.ts';
import { viewContext } from '../src/delivery/message.ts';
import { compileFresh, compileTemplate } from '../src/render/template.ts';
import type { PlatformInfo } from '../src/platform/platform.ts';
import { fallbackChain } from '../src/render/catalog.ts';
import type { CouncilData } from '../jobs/council-update.ts';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 200);
const jobs = await loadJobKinds();
const job = jobs.get('council-update')!;
const platform: PlatformInfo = { host: 'bench.local', schema: 'bench_local', timezone: 'Europe/Brussels', locales: ['nl-BE', 'fr-BE'], organizationName: { 'nl-BE': 'Stad Gent' }, url: 'https://bench.local', currency: 'EUR' };
const occurrence = DateTime.fromISO('2027-01-04T09:00', { zone: 'Europe/Brussels' });
const period = job.period({ occurrence, timezone: 'Europe/Brussels', options: {} });
const totals: CouncilData['totals'] = { newUsers: 120, inputs: 840, surveyResponses: 310, comments: 2210, reactions: 6400, ballots: 640, voters: 610, offlineVoters: 40, votes: 1900, offlineVotes: 120, budget: 350_000, offlineBudget: 0, participants: 2428 };
// Typed as the job kind's snapshot, so the type check keeps the benchmark in step with it.
const data: CouncilData = {
  period: { start: period.start.toISO()!, end: period.end.toISO()!, timezone: 'Europe/Brussels' },
  previousPeriod: null,
  sinceLaunch: false,
  totals,
  previous: { ...totals, inputs: 700 },
  projects: Array.from({ length: 14 }, (_, i) => ({ id: `p${i}`, slug: `p${i}`, title: { 'nl-BE': `Project ${i}` }, status: 'published' as const, folderId: null, folderTitle: { 'nl-BE': 'Mobiliteit' }, firstPublishedAt: null, hidden: false, listed: true, ...totals })),
  newProjects: [],
  months: Array.from({ length: 12 }, (_, i) => ({ month: `2026-${String(i + 1).padStart(2, '0')}`, participants: 100 * i, inputs: 10 * i })),
};
const recipient = (i: number) => ({ email: `r${i}@example.org`, name: `Recipient ${i}`, locale: 'nl-BE' });
const viewFor = (i: number) => {
  const ctx = viewContext({ recipient: recipient(i), platform, period, timezone: 'Europe/Brussels' });
  return { ...job.view(data, ctx), _chain: fallbackChain('nl-BE', platform.locales), recipient: recipient(i), organization: 'Stad Gent', platformUrl: platform.url, color: '#0f4c81', replyTo: 'p@example.org' };
};

async function time(label: string, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up
  const t0 = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label.padEnd(58)} ${ms.toFixed(1).padStart(9)} ms  (${(ms / RECIPIENTS).toFixed(3)} ms per recipient)`);
  return ms;
}

console.log(`Rendering the council update for ${RECIPIENTS} recipients (nl-BE, 14 projects, a 12-month chart)\n`);
const perRecipient = await time('MJML compiled for every recipient', async () => {
  for (let i = 0; i < RECIPIENTS; i++) (await compileFresh('council-update', { locale: 'nl-BE', color: '#0f4c81' }))(viewFor(i));
});
const once = await time('MJML compiled once, Handlebars filled per recipient', async () => {
  const template = await compileTemplate('council-update', { locale: 'nl-BE', color: '#0f4c81' });
  for (let i = 0; i < RECIPIENTS; i++) template(viewFor(i));
});
const view = viewFor(0);
const fill = await time('the fill alone (view built once)', async () => {
  const template = await compileTemplate('council-update', { locale: 'nl-BE', color: '#0f4c81' });
  for (let i = 0; i < RECIPIENTS; i++) template(view);
});
console.log(`\nratio: MJML per recipient is ${(perRecipient / fill).toFixed(0)}× the cost of the Handlebars fill alone`);
console.log(`ratio: compile-once is ${(perRecipient / once).toFixed(0)}× faster than compiling per recipient`);
