/*
 * `npm run bench`: what the design's speed claims rest on, measured side by side in one run
 * and reported as ratios (absolute times vary with the machine; the ratios hold).
 */
import { DateTime } from 'luxon';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { prepareRun } from '../src/delivery/prepare.ts';
import { viewContext } from '../src/delivery/message.ts';
import { ensureDemoTenant } from '../src/cli/demo.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { createLogger } from '../src/log.ts';
import { compileFresh, compileTemplate } from '../src/render/template.ts';
import { fallbackChain } from '../src/render/catalog.ts';
import { previousOccurrence } from '../src/schedule/occurrences.ts';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 200);
// The shipped demo config's council update, on a demo tenant of its own, prepared the way a run is.
const jobs = await loadJobKinds();
const shipped = loadConfig('config/crier.yaml', { jobs });
const config = { ...shipped, platform: { ...shipped.platform, tenant: process.env.BENCH_TENANT ?? 'bench.crier.local', demo: true } };
process.env.LOG_LEVEL ??= 'warn';
const crier = new Crier(config, jobs, { logger: createLogger() });
await ensureDemoTenant(crier);
const book = await crier.schedules();
const schedule = book.get('council-quarterly');
const now = DateTime.now();
const planned = book.pickRun(schedule, previousOccurrence(schedule.triggers, now)!, undefined, now);
const { period, data } = await prepareRun(crier, schedule, planned);
const platform = (await crier.platform()).info;
const job = book.job('council-update');
await crier.close();
const recipient = (i: number) => ({ email: `r${i}@example.org`, name: `Recipient ${i}`, locale: 'nl-BE' });
const viewFor = (i: number) => {
  const ctx = viewContext({ recipient: recipient(i), platform, period, timezone: schedule.timezone });
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
