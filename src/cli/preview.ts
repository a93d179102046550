import path from 'node:path';
import { DateTime } from 'luxon';
import { composeMessage } from '../delivery/compose.ts';
import { prepareRun, recipientsOf } from '../delivery/prepare.ts';
import { outboxTransport } from '../delivery/transport.ts';
import { viewContext } from '../delivery/message.ts';
import { openCrier, parseInstant, type GlobalOptions } from './context.ts';
import { ensureDemoTenant } from './demo.ts';

export interface PreviewOptions extends GlobalOptions {
  /** The occurrence to render (default: the next one). */
  at?: string;
  /** Which send of the occurrence, for job kinds that plan several (steering-meeting: invitation, agenda, cancellation). */
  variant?: string;
  /** Folder for the .html, .txt and .eml files (default ./preview). */
  out?: string;
}

/** `crier preview SCHEDULE`: renders one occurrence with live data for every recipient; sends nothing. */
export async function preview(scheduleId: string, opts: PreviewOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await ensureDemoTenant(crier);
    // Rounds of project calls are read from Crier's own tables.
    await crier.ledger.migrate();
    const book = await crier.schedules();
    const schedule = book.get(scheduleId, crier.config.file);
    const planned = book.pickRun(schedule, opts.at ? parseInstant(opts.at, schedule.timezone, '--at') : undefined, opts.variant, DateTime.fromJSDate(crier.now()));
    const platform = await crier.platform();
    const job = book.kindOf(schedule.job, planned.variant);
    const { period, data, audience } = await prepareRun(crier, schedule, planned);
    const recipients = await recipientsOf(schedule, job, audience, data, platform);
    const outDir = path.resolve(opts.out ?? 'preview');
    const writer = outboxTransport(outDir, crier.config.mail.dkim);
    const files: string[] = [];
    let subject = '';
    for (const r of recipients.filter((x) => x.status === 'pending')) {
      const { message } = await composeMessage(crier, {
        schedule,
        data,
        period,
        recipient: { ...r, variant: r.variant === 'default' ? undefined : r.variant },
        run: { occurrence: planned.occurrence, variant: planned.variant, meta: planned.meta },
        fileStem: `${schedule.id}-${planned.occurrence.toFormat('yyyy-MM-dd')}${planned.variant === 'default' ? '' : `-${planned.variant}`}-${r.email}`,
      });
      subject ||= String(message.subject);
      files.push(...((await writer.send(message)).files ?? []));
    }
    // The summary describes an e-mail that is sent: the first recipient who gets one (null when nobody does).
    const first = recipients.find((r) => r.status === 'pending');
    const view = viewContext({ recipient: first ?? { email: '', name: '', locale: platform.info.locales[0] }, platform: platform.info, period, timezone: schedule.timezone, organizationName: crier.config.organization.name, run: { occurrence: planned.occurrence, variant: planned.variant, meta: planned.meta } });
    const result = {
      schedule: schedule.id,
      occurrence: planned.occurrence.setZone(schedule.timezone).toISO(),
      variant: planned.variant,
      sendAt: planned.at.setZone(schedule.timezone).toISO(),
      period: { start: period.start.toISO(), end: period.end.toISO() },
      subject,
      recipients: recipients.filter((r) => r.status === 'pending').map((r) => ({ email: r.email, name: r.name, locale: r.locale })),
      skipped: recipients.filter((r) => r.status === 'skipped').map((r) => ({ email: r.email, name: r.name, reason: r.reason })),
      summary: first ? (job.summary ? job.summary(data, view) : data) : null,
      files,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`${schedule.id}${planned.variant === 'default' ? '' : ` (${planned.variant})`} at ${planned.occurrence.toFormat('ccc d LLL yyyy HH:mm ZZ')}\n`);
      process.stdout.write(`period  ${view.format.period(period)}\nsubject ${subject}\n`);
      process.stdout.write(`to      ${result.recipients.map((r) => `${r.name} <${r.email}> (${r.locale})`).join('\n        ') || 'nobody'}\n`);
      if (result.skipped.length) process.stdout.write(`skipped ${result.skipped.map((r) => `${r.email}: ${r.reason}`).join('\n        ')}\n`);
      process.stdout.write(`files   ${files.map((f) => path.relative(process.cwd(), f)).join('\n        ')}\nNothing was sent.\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
