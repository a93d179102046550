import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import type { Crier } from '../deployment/deployment.ts';
import { resolveSchedules, ScheduleBook, type Schedule } from '../deployment/schedules.ts';
import { parseConfig } from '../config/load.ts';
import { parseDocument } from 'yaml';
import { composeMessage } from '../delivery/compose.ts';
import { prepareRun, recipientsOf } from '../delivery/prepare.ts';
import { outboxTransport } from '../delivery/transport.ts';
import type { PlannedRun } from '../kit/contract.ts';
import { loadCatalogues } from '../render/catalog.ts';
import { spamScores, type SpamResult } from '../render/spam.ts';
import { previousOccurrence } from '../schedule/occurrences.ts';
import { runsOfOccurrence } from '../schedule/plan.ts';
import { openCrier, type GlobalOptions } from './context.ts';
import { ensureDemoTenant } from './demo.ts';

/** One rendered e-mail of the gallery: a schedule's send in one language. */
export interface GalleryEntry {
  schedule: string;
  job: string;
  variant: string;
  locale: string;
  occurrence: string;
  subject: string;
  /** Who the schedule would send it to now (each in their own language). */
  recipients: string[];
  /** Whose e-mail this is, in this language (their folders and projects decide the content). */
  sample: string;
  /** Bytes of HTML (Gmail clips beyond 102 KB). */
  htmlBytes: number;
  textBytes: number;
  /** Null when SpamAssassin is not installed. */
  spam: SpamResult | null;
  files: { html: string; text: string; eml: string };
}

/**
 * `crier preview --all`: every schedule's next send (its latest when none is ahead) rendered
 * with live platform data in every language Crier has, with an index.html listing subject,
 * recipients, size and spam score beside each, so the people who approve the e-mails can look
 * before anything is sent. Sends nothing.
 */
export async function gallery(opts: GlobalOptions & { out?: string }): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await ensureDemoTenant(crier);
    // Rounds of project calls are read from Crier's own tables.
    await crier.ledger.migrate();
    const outDir = path.resolve(opts.out ?? 'preview');
    mkdirSync(outDir, { recursive: true });
    const writer = outboxTransport(outDir, crier.config.mail.dkim);
    const locales = [...loadCatalogues().keys()].sort();
    const entries: GalleryEntry[] = [];
    const emls: Buffer[] = [];
    const platform = await crier.platform();
    // Every job kind is shown: the config's schedules, and a kind's own example for a kind the
    // config does not schedule (so a new kind meets the quality gates before anyone schedules it).
    const book = await withExamples(crier);
    const deps = { platform: () => crier.platform(), schedules: async () => book, config: crier.config, now: crier.now, rounds: crier.rounds };
    for (const schedule of book.all) {
      for (const planned of sendsToShow(crier, book, schedule)) {
        const job = book.job(schedule.job);
        const { period, data, audience } = await prepareRun(deps, schedule, planned);
        const recipients = await recipientsOf(schedule, job, audience, data, platform);
        const sample = recipients.find((r) => r.status === 'pending') ?? recipients[0] ?? { email: 'preview@example.org', name: 'Preview', locale: platform.info.locales[0] };
        for (const locale of locales) {
          const stem = `${schedule.id}${planned.variant === 'default' ? '' : `-${planned.variant}`}-${locale}`;
          const { message } = await composeMessage(deps, {
            schedule,
            data,
            period,
            recipient: { ...sample, locale, variant: sample.variant === 'default' ? undefined : sample.variant },
            run: { occurrence: planned.occurrence, variant: planned.variant, meta: planned.meta },
            fileStem: stem,
          });
          const written = await writer.send(message);
          const [eml, html, text] = written.files!;
          emls.push(readFileSync(eml));
          entries.push({
            schedule: schedule.id,
            job: schedule.job,
            variant: planned.variant,
            locale,
            occurrence: planned.occurrence.setZone(schedule.timezone).toISO()!,
            subject: String(message.subject),
            recipients: recipients.filter((r) => r.status === 'pending').map((r) => r.email),
            sample: sample.email,
            htmlBytes: Buffer.byteLength(String(message.html)),
            textBytes: Buffer.byteLength(String(message.text)),
            spam: null,
            files: { html, text, eml },
          });
        }
      }
    }
    const scores = await spamScores(emls);
    entries.forEach((e, i) => (e.spam = scores?.[i] ?? null));
    const index = path.join(outDir, 'index.html');
    writeFileSync(index, galleryPage(crier, entries, outDir));
    if (opts.json) process.stdout.write(`${JSON.stringify({ index, entries }, null, 2)}\n`);
    else {
      for (const e of entries) {
        process.stdout.write(`${`${e.schedule}${e.variant === 'default' ? '' : ` (${e.variant})`}`.padEnd(36)} ${e.locale.padEnd(6)} ${(e.htmlBytes / 1024).toFixed(1).padStart(6)} KB  spam ${e.spam ? e.spam.score.toFixed(1) : 'n/a'}  ${e.subject}\n`);
      }
      process.stdout.write(`\n${entries.length} e-mails; open ${path.relative(process.cwd(), index)} to look at them. Nothing was sent.\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}

/** The config's schedules and, for every job kind none of them uses, the kind's example schedule (`example-<kind>`). */
async function withExamples(crier: Crier): Promise<ScheduleBook> {
  const book = await crier.schedules();
  const scheduled = new Set(book.all.map((s) => s.job));
  const missing = [...crier.jobs.values()].filter((j) => !scheduled.has(j.name) && j.example);
  if (!missing.length) return book;
  const doc = parseDocument(readFileSync(crier.config.file, 'utf8'));
  for (const j of missing) doc.setIn(['schedules', `example-${j.name}`], doc.createNode({ job: j.name, ...j.example!.schedule }));
  const config = parseConfig(String(doc), crier.config.file, { jobs: crier.jobs });
  const all = await resolveSchedules(config, async () => (await crier.platform()).info.timezone);
  return new ScheduleBook(all, crier.jobs, config.platform.launch);
}

/** The next send of each variant (steering: invitation and agenda), or the latest when none is ahead. */
function sendsToShow(crier: Crier, book: ScheduleBook, schedule: Schedule): PlannedRun[] {
  const now = DateTime.fromJSDate(crier.now());
  const example = schedule.id === `example-${schedule.job}` ? book.job(schedule.job).example?.at : undefined;
  if (example) return runsOfOccurrence(book.job(schedule.job), schedule, DateTime.fromISO(example, { zone: schedule.timezone }), now);
  const next = book.nextRuns(schedule, now, 20);
  const occurrence = next[0]?.occurrence ?? previousOccurrence(schedule.triggers, now);
  if (!occurrence) return [];
  return runsOfOccurrence(book.job(schedule.job), schedule, occurrence, now);
}

const page = Handlebars.compile(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crier e-mail gallery</title>
<style>
 body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #1f2933; }
 table { border-collapse: collapse; width: 100%; font-size: 14px; }
 th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d9e2ec; vertical-align: top; }
 .num { text-align: right; white-space: nowrap; } .bad { color: #b42318; font-weight: bold; } .muted { color: #52606d; font-size: 12px; }
</style></head><body>
<h1>E-mail gallery</h1>
<p class="muted">{{config}} · rendered {{at}} with live platform data · nothing was sent</p>
<table>
<tr><th>Schedule</th><th>Language</th><th>Subject</th><th>Recipients</th><th class="num">HTML size</th><th class="num">Spam score</th><th>Files</th></tr>
{{#each entries}}
<tr>
 <td><strong>{{schedule}}</strong><br><span class="muted">{{job}}{{#if variantShown}} · {{variant}}{{/if}}<br>{{occurrence}}</span></td>
 <td>{{locale}}</td>
 <td>{{subject}}</td>
 <td>{{recipients.length}}<br><span class="muted">{{recipientList}}</span></td>
 <td class="num {{#if tooBig}}bad{{/if}}">{{kb}} KB</td>
 <td class="num {{#if spammy}}bad{{/if}}">{{score}}<br><span class="muted">{{rules}}</span></td>
 <td><a href="{{html}}">HTML</a> · <a href="{{text}}">text</a> · <a href="{{eml}}">.eml</a></td>
</tr>
{{/each}}
</table></body></html>
`);

function galleryPage(crier: Crier, entries: GalleryEntry[], outDir: string): string {
  return page({
    config: crier.config.file,
    at: new Date().toISOString(),
    entries: entries.map((e) => ({
      ...e,
      variantShown: e.variant !== 'default',
      recipientList: e.recipients.slice(0, 5).join(', ') + (e.recipients.length > 5 ? ', …' : ''),
      kb: (e.htmlBytes / 1024).toFixed(1),
      tooBig: e.htmlBytes > 102 * 1024,
      score: e.spam ? e.spam.score.toFixed(1) : 'n/a',
      spammy: e.spam ? e.spam.score > 1 : false,
      rules: e.spam?.rules.join(', ') ?? '',
      html: path.relative(outDir, e.files.html),
      text: path.relative(outDir, e.files.text),
      eml: path.relative(outDir, e.files.eml),
    })),
  });
}
