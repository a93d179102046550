import path from 'node:path';
import { DateTime } from 'luxon';
import { composeMessage } from '../delivery/compose.ts';
import { resolveAudience } from '../delivery/audience.ts';
import { outboxTransport } from '../delivery/transport.ts';
import { viewContext } from '../render/message.ts';
import { nextOccurrences } from '../schedule/occurrences.ts';
import { CommandError, openCrier, parseInstant, type GlobalOptions } from './context.ts';
import { ensureDemoTenant } from './demo.ts';

export interface PreviewOptions extends GlobalOptions {
  /** The occurrence to render (default: the next one). */
  at?: string;
  /** Folder for the .html, .txt and .eml files (default ./preview). */
  out?: string;
}

/** `crier preview SCHEDULE`: renders one occurrence with live data for every recipient; sends nothing. */
export async function preview(scheduleId: string, opts: PreviewOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await ensureDemoTenant(crier);
    const schedule = await crier.schedule(scheduleId);
    const occurrence = opts.at
      ? parseInstant(opts.at, schedule.timezone, '--at')
      : nextOccurrences(schedule.triggers, DateTime.fromJSDate(crier.now()), 1)[0];
    if (!occurrence) throw new CommandError(`schedule '${scheduleId}' has no further occurrence; pass --at`);
    const platform = await crier.platform();
    const job = crier.job(schedule.job);
    const period = crier.period(schedule, occurrence);
    const launch = crier.config.platform.launch ? DateTime.fromISO(crier.config.platform.launch, { zone: schedule.timezone }) : undefined;
    const data = JSON.parse(JSON.stringify(await job.collect({ occurrence, timezone: schedule.timezone, launch, options: schedule.options, period, platform })));
    const recipients = resolveAudience(schedule, crier.config, platform.info);
    const outDir = path.resolve(opts.out ?? 'preview');
    const writer = outboxTransport(outDir);
    const files: string[] = [];
    let subject = '';
    for (const r of recipients) {
      const { message } = await composeMessage(crier, {
        schedule,
        data,
        period,
        recipient: r,
        fileStem: `${schedule.id}-${occurrence.toFormat('yyyy-MM-dd')}-${r.email}`,
      });
      subject ||= String(message.subject);
      files.push(...((await writer.send(message)).files ?? []));
    }
    const first = recipients[0] ?? { email: '', name: '', locale: platform.info.locales[0] };
    const ctx = viewContext({ recipient: first, platform: platform.info, period, timezone: schedule.timezone, organizationName: crier.config.organization.name });
    const result = {
      schedule: schedule.id,
      occurrence: occurrence.setZone(schedule.timezone).toISO(),
      period: { start: period.start.toISO(), end: period.end.toISO() },
      subject,
      recipients: recipients.map((r) => ({ email: r.email, name: r.name, locale: r.locale })),
      summary: job.summary ? job.summary(data, ctx) : data,
      files,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`${schedule.id} at ${occurrence.toFormat("ccc d LLL yyyy HH:mm ZZ")}\n`);
      process.stdout.write(`period  ${ctx.format.period(period)}\nsubject ${subject}\n`);
      process.stdout.write(`to      ${recipients.map((r) => `${r.name} <${r.email}> (${r.locale})`).join('\n        ') || 'nobody'}\n`);
      process.stdout.write(`files   ${files.map((f) => path.relative(process.cwd(), f)).join('\n        ')}\nNothing was sent.\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
