/*
 * `npm run bench render`: what one recipient's e-mail costs to render, Crier's way against
 * compiling MJML for every recipient, side by side in one run, on the shipped demo config's
 * sends (bench/corpus.ts) on a demo tenant of the bench's own.
 *
 * (a) mjml2html per recipient: the template compiled by MJML for the recipient's language and
 *     filled (compileFresh), what a renderer without Crier's cache does. Only the compile and the
 *     fill are timed: the view it is filled with is built untimed, and no text part is made, so
 *     (a) is the cheapest it could be and the ratio errs against Crier.
 * (b) Crier's render exactly as a send makes it: renderMessage (what composeMessage calls) with
 *     the input composeMessage gives it, a new recipient object each time, both parts (HTML and
 *     text). Every pass starts from a fresh copy of the run's snapshot, as a new run read from
 *     the ledger would, so what is kept per run and language (the views, the shared parts of the
 *     templates) is worked out inside the pass, by the first recipient of each language. MJML
 *     itself is compiled once per template, language and colour for the life of the process
 *     (compileTemplate), before the passes.
 * (b′) the same with no view or template part kept between recipients (renderMessage's
 *     `memo: false`; the Formatter still keeps formatted dates for the process).
 *
 * Knobs: BENCH_RECIPIENTS (recipients of the council update, default 200), BENCH_OTHERS
 * (recipients per language for every other send, besides its own audience; default 2, 0 leaves
 * them out), BENCH_TENANT (default bench.crier.local), BENCH_SCHEMA (the ledger's schema,
 * project-call rounds are read from it; default crier_bench_render).
 */
import os from 'node:os';
import { Interval } from 'luxon';
import type { CrierConfig } from '../src/config/load.ts';
import { htmlPart, recipientView, renderMessage, textPart, type RenderInput } from '../src/delivery/message.ts';
import type { Recipient } from '../src/kit/contract.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
import { compileFresh } from '../src/render/template.ts';
import { renderCorpus, renderInputFor, variedRecipients, type CorpusRun } from './corpus.ts';
import type { Bench } from './section.ts';

const TARGET = 100;

/** Time of a loop: wall clock, and this process's CPU time (user + system, every thread: JIT and GC included). */
interface Took {
  wall: number;
  cpu: number;
}
const PER_ITEM = (t: Took, n: number): Took => ({ wall: t.wall / n, cpu: t.cpu / n });

async function took(fn: () => Promise<void> | void): Promise<Took> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const medianTook = (xs: Took[]): Took => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3));

/** Inputs for one pass: a fresh snapshot copy for the pass, a fresh recipient and period per input. */
function inputsOf(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): RenderInput[] {
  const data = structuredClone(run.data);
  return recipients.map((r) => renderInputFor(config, { ...run, period: Interval.fromDateTimes(run.period.start, run.period.end) as Interval<true> }, { ...r, scope: r.scope && structuredClone(r.scope) }, data));
}

/** (a): MJML compiled for the recipient's language and filled with their view (built before the timing); per recipient. */
async function mjmlPerRecipient(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): Promise<Took> {
  const views = inputsOf(config, run, recipients).map((input) => ({ input, full: recipientView(input, { memo: false }).full }));
  const t = await took(async () => {
    for (const { input, full } of views) (await compileFresh(input.job.name, { locale: input.recipient.locale, color: input.color }))(full);
  });
  return PER_ITEM(t, recipients.length);
}

/**
 * (b): renderMessage per recipient, one pass over fresh inputs; per recipient. With `steps`, only
 * the first steps of renderMessage: the view (1), and the HTML part (2).
 */
async function crierPass(config: CrierConfig, run: CorpusRun, recipients: Recipient[], opts: { memo?: boolean; steps?: 1 | 2 } = {}): Promise<Took> {
  const inputs = inputsOf(config, run, recipients);
  const t = await took(async () => {
    for (const input of inputs) {
      if (!opts.steps) await renderMessage(input, opts);
      else {
        const rv = recipientView(input);
        if (opts.steps === 2) await htmlPart(input, rv);
      }
    }
  });
  return PER_ITEM(t, inputs.length);
}

/** The first recipient of each language in a pass, alone: its view worked out and every part of both templates filled. */
async function firstOfEachLanguage(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): Promise<Took[]> {
  const out: Took[] = [];
  const seen = new Set<string>();
  for (const input of inputsOf(config, run, recipients)) {
    if (seen.has(input.recipient.locale)) continue;
    seen.add(input.recipient.locale);
    out.push(await took(() => renderMessage(input).then(() => undefined)));
  }
  return out;
}

/** MJML compiled once per template, language and colour, as the process's cache does before any send. */
async function warm(config: CrierConfig, run: CorpusRun, recipients: Recipient[]) {
  for (const input of inputsOf(config, run, recipients)) await renderMessage(input);
  await compileFresh(run.job.name, { locale: recipients[0].locale, color: config.organization.color });
}

export default (async () => {
  const N = Number(process.env.BENCH_RECIPIENTS ?? 200);
  const others = Number(process.env.BENCH_OTHERS ?? 2);
  process.env.LOG_LEVEL ??= 'warn';
  const { runs, config, close } = await renderCorpus({ perLocale: others });
  await close();
  const locales = [...loadCatalogues().keys()].sort();
  const council = runs.find((r) => r.job.name === 'council-update')!;
  // N recipients: the council's own, then copies of them in every language under other names.
  const recipients = variedRecipients(council.audience, locales, Math.ceil(N / locales.length)).slice(0, N);
  const byLocale = locales.map((l) => `${recipients.filter((r) => r.locale === l).length} ${l}`).join(', ');

  await warm(config, council, recipients);
  // (a) a fifth of the recipients at a time between passes of (b) and the rest, so all see the same load.
  const aSlices: Took[] = [];
  const passes: Took[] = [];
  const viewOnly: Took[] = [];
  const viewHtml: Took[] = [];
  const unkept: Took[] = [];
  const firsts: Took[] = [];
  for (let i = 0; i < 5; i++) {
    const slice = recipients.filter((_, j) => j % 5 === i);
    if (slice.length) aSlices.push(await mjmlPerRecipient(config, council, slice));
    passes.push(await crierPass(config, council, recipients));
    viewOnly.push(await crierPass(config, council, recipients, { steps: 1 }));
    viewHtml.push(await crierPass(config, council, recipients, { steps: 2 }));
    unkept.push(await crierPass(config, council, recipients, { memo: false }));
    firsts.push(...(await firstOfEachLanguage(config, council, recipients)));
  }
  const a = medianTook(aSlices);
  const b = medianTook(passes);
  const fresh = medianTook(unkept);
  const first = medianTook(firsts);
  const v = medianTook(viewOnly);
  const vh = medianTook(viewHtml);
  const steps = { view: v.cpu, html: Math.max(0, vh.cpu - v.cpu), text: Math.max(0, b.cpu - vh.cpu) };
  const ratio = a.cpu / b.cpu;
  const totals = council.data as { totals?: { participants: number } };
  const projects = (council.data as { projects?: unknown[] }).projects?.length ?? 0;
  const months = (council.data as { months?: unknown[] }).months?.length ?? 0;

  const rows: string[] = [];
  if (others > 0) {
    for (const run of runs) {
      if (run === council) continue;
      await warm(config, run, run.recipients);
      const aThirds: Took[] = [];
      const bs: Took[] = [];
      for (let i = 0; i < 3; i++) {
        const third = run.recipients.filter((_, j) => j % 3 === i);
        if (third.length) aThirds.push(await mjmlPerRecipient(config, run, third));
        bs.push(await crierPass(config, run, run.recipients));
      }
      const ra = medianTook(aThirds);
      const rb = medianTook(bs);
      rows.push(`| ${run.schedule.id}${run.planned.variant === 'default' ? '' : ` (${run.planned.variant})`} | ${run.job.name} | ${run.recipients.length} | ${new Set(run.recipients.map((r) => r.locale)).size} | ${ms(ra.cpu)} | ${ms(rb.cpu)} | ${(ra.cpu / rb.cpu).toFixed(0)}× |`);
    }
  }

  const row = (label: string, t: Took) => `| ${label} | ${ms(t.cpu)} | ${ms(t.wall)} |`;
  const markdown = `Rendering one recipient's e-mail: the council update of the shipped demo config (\`council-quarterly\`, ${projects} projects in its table, a ${months}-month chart, ${totals.totals?.participants ?? '?'} participants) for ${recipients.length} recipients (${byLocale}; different names and addresses, each with their own signed unsubscribe link), on a demo tenant of the bench's own.

- **(a) mjml2html per recipient**: the template compiled by MJML in the recipient's language and filled with their view, what a renderer without Crier's compile cache does. Only compile and fill are timed (the views are built before, no text part), so the ratio errs against Crier.
- **(b) Crier's render**: \`renderMessage\` exactly as \`composeMessage\` calls it for a send, one recipient after another, each a new recipient object: their view, the HTML filled into the MJML compiled once per template, language and colour, and the text part. A job kind's view is worked out once per run, language and what it reads of the recipient (the council update reads nothing of them) and kept with the run's snapshot; the parts of both templates that read nothing of the recipient are filled once per kept view; the recipient's own fields (their name, their link) are filled for each. Each pass starts from a fresh copy of the run's snapshot (as a new run read from the ledger), so what is worked out once per run and language is paid inside the pass, by the first recipient of each language.
- **(b′)** the same with no view and no template part kept between recipients (\`renderMessage(input, { memo: false })\`): every view worked out, both templates filled whole (dates and periods stay formatted once per process, as the Formatter keeps them).

Medians of 5 passes over the ${recipients.length} recipients, (a) a fifth of them between the passes. CPU time is this process's (user and system, every thread); wall time is at the mercy of the other processes of a shared machine, so the ratios are taken on CPU time.

| ms per recipient | CPU | wall |
|---|---:|---:|
${row('(a) mjml2html per recipient (compile + fill)', a)}
${row("(b) Crier's render (view, HTML, text)", b)}
| … the recipient's view (\`recipientView\`) | ${ms(steps.view)} | |
| … the HTML part (\`htmlPart\`) | ${ms(steps.html)} | |
| … the text part and the rest (\`textPart\`, the locale, the calendar and conversation hooks) | ${ms(steps.text)} | |
${row('(b) the first recipient of each language in a pass, alone', first)}
${row('(b′) no view or template part kept between recipients', fresh)}

**(a) / (b): ${ratio.toFixed(0)}×** cheaper per recipient with Crier's render (on wall time ${(a.wall / b.wall).toFixed(0)}×). The first recipient of each language in a run: ${(a.cpu / first.cpu).toFixed(0)}×; with no view or template part kept between recipients (b′): ${(a.cpu / fresh.cpu).toFixed(0)}×.
${
  rows.length
    ? `
Every other send of the shipped config, its own audience (folder and project scopes, copies) and ${others} more recipient${others === 1 ? '' : 's'} per language, CPU ms per recipient, medians of 3 passes of (b) and 3 slices of (a), interleaved. Few recipients in many languages and scopes: the first of each pays for what the rest share.

| schedule (send) | job kind | recipients | languages | (a) mjml2html | (b) render | (a)/(b) |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`
    : ''
}
Measured side by side in one run by \`npm run bench render\` (load average ${os.loadavg()[0].toFixed(2)} at the end); absolute times are this machine's, the ratios hold.`;
  const verdict = `per-recipient render (view, HTML, text) ${ratio.toFixed(0)}× cheaper than mjml2html per recipient (${ms(b.cpu)} ms against ${ms(a.cpu)} ms of CPU), target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'not met'}`;
  return { title: 'Render', markdown, verdict };
}) satisfies Bench;
