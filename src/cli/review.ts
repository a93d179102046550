import { DateTime } from 'luxon';
import { CommandError, openCrier, type GlobalOptions } from './context.ts';
import { decisionInWords, sendInWords, reviewStatus } from '../review/status.ts';

/**
 * `crier review [SCHEDULE]`: the current review (the latest round that went out, of SCHEDULE
 * or of any reviewed schedule): who was asked, every reply with the message it came from and
 * what became of it, and what applies to the send. src/review/status.ts reads it (the
 * dashboard's Reviews page shows the same); this prints it.
 */
export async function review(scheduleId: string | undefined, opts: GlobalOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    const book = await crier.schedules();
    const reviewed = scheduleId ? [book.get(scheduleId, crier.config.file)] : book.all.filter((s) => s.review);
    if (scheduleId && !reviewed[0].review) throw new CommandError(`schedule '${scheduleId}' has no review: in ${crier.config.file}`, 2);
    if (!reviewed.length) throw new CommandError(`${crier.config.file} has no schedule with review:`, 2);
    const result = await reviewStatus(crier.ledger, reviewed, crier.now());
    if (!result) throw new CommandError(`no review round has gone out yet for ${reviewed.map((s) => s.id).join(', ')}`);
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const { review, applies } = result;
      const fmt = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toFormat('ccc d LLL yyyy HH:mm');
      process.stdout.write(`${review.schedule}: ${sendInWords(review, fmt)}, decisions due ${fmt(review.deadline)} (default: ${review.default})\n`);
      process.stdout.write(`\nasked:\n${result.reviewers.map((r) => `  ${r.name} <${r.email}> (${r.locale}): ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join('\n')}\n`);
      const text = (t: unknown) => (typeof t === 'string' ? t : Object.values((t ?? {}) as Record<string, string>).join(' / '));
      process.stdout.write(`\nitems:\n${result.items.map((i) => `  ${i.number}. ${text(i.title)}`).join('\n') || '  none'}\n`);
      process.stdout.write(`\nreplies:\n${result.decisions.map((d) => `  ${fmt(d.receivedAt)}  ${d.from ?? '?'}  ${d.outcome}${d.effective ? ' (applies)' : ''}: ${decisionInWords(d.decision)}${d.problem ? ` [${d.problem}]` : ''}  (message ${d.message.inbound}: ${d.message.subject ?? ''})`).join('\n') || '  none'}\n`);
      process.stdout.write(`\napplies: ${decisionInWords(applies)}${applies.byDefault ? ' (the default: no decision)' : ` (decided by ${applies.by})`}${applies.final ? '' : ', until a reviewer decides'}\n`);
      if (result.sendRun) process.stdout.write(`send: run ${result.sendRun.id}, ${result.sendRun.status}${result.sendRun.error ? ` (${result.sendRun.error})` : ''}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
