/*
 * `npm run bench render`: what one recipient's e-mail costs to render, Crier's way against
 * compiling MJML for every recipient, side by side in one run, on the shipped demo config's
 * sends of a demo tenant of the bench's own.
 *
 * (a) mjml2html per recipient: the template compiled by MJML for the recipient's language and
 *     filled (compileFresh), what a renderer without Crier's cache does. Only the compile and the
 *     fill are timed: the view it is filled with is built untimed, and no text part is made, so
 *     (a) is the cheapest it could be and the ratio errs against Crier.
 * (b) Crier's render exactly as a send makes it: renderMessage (what composeMessage calls) with
 *     the input composeMessage gives it, for a fresh recipient object each time, so the view is
 *     built per recipient, and both parts (HTML and text) are made. Every pass starts from a
 *     fresh copy of the run's snapshot, as a new run read from the ledger would, so whatever is
 *     worked out once per run and language is paid inside the pass, by its first recipients.
 *     MJML itself is compiled once per template, language and colour for the life of the process
 *     (compileTemplate), before the passes.
 *
 * Knobs: BENCH_RECIPIENTS (recipients of the council update, default 200), BENCH_OTHERS
 * (recipients per language for every other send, besides its own audience; default 2, 0 leaves
 * them out), BENCH_TENANT (default bench.crier.local).
 */
import os from 'node:os';
import { Interval } from 'luxon';
import type { CrierConfig } from '../src/config/load.ts';
import { recipientView, renderMessage, type RenderInput } from '../src/delivery/message.ts';
import type { Recipient } from '../src/kit/contract.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
import { compileFresh, compileTemplate, compileText } from '../src/render/template.ts';
import { renderCorpus, renderInputFor, variedRecipients, type CorpusRun } from './corpus.ts';
import type { Bench } from './section.ts';

const TARGET = 100;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3));

/** Inputs for one pass: a fresh snapshot copy for the pass, a fresh recipient and period per input. */
function inputsOf(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): RenderInput[] {
  const data = structuredClone(run.data);
  return recipients.map((r) => renderInputFor(config, { ...run, period: Interval.fromDateTimes(run.period.start, run.period.end) as Interval<true> }, { ...r, scope: r.scope && structuredClone(r.scope) }, data));
}

/** (a): MJML compiled for the recipient's language and filled, per recipient; ms per recipient. */
async function mjmlPerRecipient(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): Promise<number> {
  let total = 0;
  for (const input of inputsOf(config, run, recipients)) {
    const { full } = recipientView(input);
    const t0 = now();
    (await compileFresh(input.job.name, { locale: input.recipient.locale, color: input.color }))(full);
    total += now() - t0;
  }
  return total / recipients.length;
}

/** (b): renderMessage per recipient, one pass over fresh inputs; ms per recipient, and the first render of each language. */
async function crierPass(config: CrierConfig, run: CorpusRun, recipients: Recipient[]): Promise<{ mean: number; first: number[] }> {
  const inputs = inputsOf(config, run, recipients);
  const seen = new Set<string>();
  const first: number[] = [];
  let total = 0;
  for (const input of inputs) {
    const t0 = now();
    await renderMessage(input);
    const t = now() - t0;
    total += t;
    if (!seen.has(input.recipient.locale)) {
      seen.add(input.recipient.locale);
      first.push(t);
    }
  }
  return { mean: total / inputs.length, first };
}

/** The steps of renderMessage one by one, per recipient: the view, the HTML fill, the text part; ms per recipient. */
async function breakdownPass(config: CrierConfig, run: CorpusRun, recipients: Recipient[]) {
  const inputs = inputsOf(config, run, recipients);
  const sum = { view: 0, html: 0, text: 0 };
  for (const input of inputs) {
    const template = await compileTemplate(input.job.name, { locale: input.recipient.locale, color: input.color });
    const t0 = now();
    const { full } = recipientView(input);
    const t1 = now();
    template(full);
    const t2 = now();
    compileText(input.job.name)(full);
    const t3 = now();
    sum.view += t1 - t0;
    sum.html += t2 - t1;
    sum.text += t3 - t2;
  }
  return { view: sum.view / inputs.length, html: sum.html / inputs.length, text: sum.text / inputs.length };
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
  // (a) a fifth of the recipients at a time between passes of (b), so both see the same load.
  const aSlices: number[] = [];
  const passes: { mean: number; first: number[] }[] = [];
  const breakdowns: { view: number; html: number; text: number }[] = [];
  for (let i = 0; i < 5; i++) {
    aSlices.push(await mjmlPerRecipient(config, council, recipients.filter((_, j) => j % 5 === i)));
    passes.push(await crierPass(config, council, recipients));
    if (i < 3) breakdowns.push(await breakdownPass(config, council, recipients));
  }
  const a = median(aSlices);
  const b = median(passes.map((p) => p.mean));
  const firsts = passes.flatMap((p) => p.first);
  const steps = { view: median(breakdowns.map((x) => x.view)), html: median(breakdowns.map((x) => x.html)), text: median(breakdowns.map((x) => x.text)) };
  const rest = Math.max(0, b - steps.view - steps.html - steps.text);
  const ratio = a / b;
  const totals = council.data as { totals?: { participants: number } };
  const projects = (council.data as { projects?: unknown[] }).projects?.length ?? 0;
  const months = (council.data as { months?: unknown[] }).months?.length ?? 0;

  const rows: string[] = [];
  if (others > 0) {
    for (const run of runs) {
      if (run === council) continue;
      await warm(config, run, run.recipients);
      const aThirds: number[] = [];
      const means: number[] = [];
      for (let i = 0; i < 3; i++) {
        aThirds.push(await mjmlPerRecipient(config, run, run.recipients.filter((_, j) => j % 3 === i)));
        means.push((await crierPass(config, run, run.recipients)).mean);
      }
      const ra = median(aThirds);
      const m = median(means);
      rows.push(`| ${run.schedule.id}${run.planned.variant === 'default' ? '' : ` (${run.planned.variant})`} | ${run.job.name} | ${run.recipients.length} | ${ms(ra)} | ${ms(m)} | ${(ra / m).toFixed(0)}× |`);
    }
  }

  const markdown = `Rendering one recipient's e-mail: the council update of the shipped demo config (\`council-quarterly\`, ${projects} projects, a ${months}-month chart, ${totals.totals?.participants ?? '?'} participants) for ${recipients.length} recipients (${byLocale}; different names and addresses, each with their own signed unsubscribe link), on a fresh demo tenant.

- **(a) mjml2html per recipient**: the template compiled by MJML in the recipient's language and filled with their view, what a renderer without Crier's compile cache does. Only compile and fill are timed (the view is built untimed, no text part), so the ratio errs against Crier.
- **(b) Crier's render**: \`renderMessage\` exactly as \`composeMessage\` calls it for a send, one recipient after another: the recipient's view built fresh, the HTML filled into the MJML compiled once per template, language and colour, and the text part. Each pass starts from a fresh copy of the run's snapshot (as a new run read from the ledger), so what is worked out once per run and language is paid inside the pass, by the first recipient of each language.

| | ms per recipient |
|---|---:|
| (a) mjml2html per recipient (compile + fill), median of 5 slices of the recipients, between the passes of (b) | ${ms(a)} |
| (b) Crier's render (view, HTML, text), median of ${passes.length} passes | ${ms(b)} |
| … building the recipient's view | ${ms(steps.view)} |
| … filling the HTML | ${ms(steps.html)} |
| … the text part | ${ms(steps.text)} |
| … the rest (the compiled template looked up, the calendar and conversation hooks) | ${ms(rest)} |
| (b) the first recipient of each language in a pass (median) | ${ms(median(firsts))} |

**(a) / (b): ${ratio.toFixed(0)}×** cheaper per recipient with Crier's render.
${
  rows.length
    ? `
Every other send of the shipped config, its own audience (folder and project scopes, copies) and ${others} more recipient${others === 1 ? '' : 's'} per language, median of 3 passes of (b) and 3 slices of (a), interleaved:

| schedule (send) | job kind | recipients | (a) mjml2html ms | (b) render ms | (a)/(b) |
|---|---|---:|---:|---:|---:|
${rows.join('\n')}
`
    : ''
}
Measured side by side in one run by \`npm run bench render\` (load average ${os.loadavg()[0].toFixed(2)} at the end); absolute times are this machine's, the ratios hold.`;
  const verdict = `per-recipient render (view, HTML, text) ${ratio.toFixed(0)}× cheaper than mjml2html per recipient (${ms(b)} ms against ${ms(a)} ms), target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'not met'}`;
  return { title: 'Render', markdown, verdict };
}) satisfies Bench;
