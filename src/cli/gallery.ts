import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import type { Crier, Schedule } from '../crier.ts';
import { composeMessage } from '../delivery/compose.ts';
import { prepareRun, recipientsOf } from '../delivery/fan-out.ts';
import { outboxTransport } from '../delivery/transport.ts';
import type { PlannedRun } from '../job-kind.ts';
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
    const outDir = path.resolve(opts.out ?? 'preview');
    mkdirSync(outDir, { recursive: true });
    const writer = outboxTransport(outDir);
    const locales = [...loadCatalogues().keys()].sort();
    const entries: GalleryEntry[] = [];
    const emls: Buffer[] = [];
    const platform = await crier.platform();
    for (const schedule of await crier.schedules()) {
      for (const planned of sendsToShow(crier, schedule)) {
        const job = crier.job(schedule.job);
        const { period, data, audience } = await prepareRun(crier, schedule, planned);
        const recipients = await recipientsOf(crier, schedule, job, audience, data, platform);
        const sample = recipients.find((r) => r.status === 'pending') ?? recipients[0] ?? { email: 'preview@example.org', name: 'Preview', locale: platform.info.locales[0] };
        for (const locale of locales) {
          const stem = `${schedule.id}${planned.variant === 'default' ? '' : `-${planned.variant}`}-${locale}`;
          const { message } = await composeMessage(crier, {
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

/** The next send of each variant (steering: invitation and agenda), or the latest when none is ahead. */
function sendsToShow(crier: Crier, schedule: Schedule): PlannedRun[] {
  const now = DateTime.fromJSDate(crier.now());
  const next = crier.nextRuns(schedule, now, 20);
  const occurrence = next[0]?.occurrence ?? previousOccurrence(schedule.triggers, now);
  if (!occurrence) return [];
  return runsOfOccurrence(crier.job(schedule.job), schedule, occurrence, now);
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
