import { DateTime } from 'luxon';
import { CommandError, openCrier, type GlobalOptions } from './context.ts';
import * as LQ from '../ledger/queries.ts';
import { decisionOf } from '../review/gate.ts';
import type { ReviewRow } from '../review/reply.ts';

/**
 * `crier review [SCHEDULE]`: the current review (the latest round that went out, of SCHEDULE
 * or of any reviewed schedule): who was asked, every reply with the message it came from and
 * what became of it, and what applies to the send.
 */
export async function review(scheduleId: string | undefined, opts: GlobalOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    const book = await crier.schedules();
    const reviewed = scheduleId ? [book.get(scheduleId, crier.config.file)] : book.all.filter((s) => s.review);
    if (scheduleId && !reviewed[0].review) throw new CommandError(`schedule '${scheduleId}' has no review: in ${crier.config.file}`, 2);
    if (!reviewed.length) throw new CommandError(`${crier.config.file} has no schedule with review:`, 2);
    const pool = crier.ledger.pool;
    const row = (await pool.query<ReviewRow>(LQ.LATEST_REVIEW, [reviewed.map((s) => s.id)])).rows[0];
    if (!row) throw new CommandError(`no review round has gone out yet for ${reviewed.map((s) => s.id).join(', ')}`);
    const schedule = book.get(row.schedule_id);
    const local = (d: Date | string) => DateTime.fromJSDate(new Date(d)).setZone(schedule.timezone).toISO()!;
    const asked = (await pool.query(LQ.DELIVERIES_OF_RUN, [row.run_id])).rows as { email: string; name: string; locale: string; status: string; sent_at: Date | null; reason: string | null }[];
    const replies = (await pool.query(LQ.REVIEW_DECISIONS, [row.id])).rows as { received_at: Date; from_address: string | null; verified: boolean; outcome: string; effective: boolean; action: string | null; leave_out: number[]; note: string | null; reason: string | null; problem: string | null; inbound_id: string; subject: string | null; text: string | null }[];
    const { decision, by, byDefault } = await decisionOf(crier.ledger, row);
    const send = (await pool.query(LQ.RUN_BY_KEY, [row.schedule_id, row.send_key])).rows[0] as { id: number; status: string; error: string | null } | undefined;
    const now = crier.now();
    const result = {
      review: { schedule: row.schedule_id, send: row.send_key, occurrence: local(row.occurrence), deadline: local(row.deadline), default: row.default_decision, round: Number(row.run_id) },
      reviewers: asked.map((d) => ({ email: d.email, name: d.name, locale: d.locale, status: d.status, sentAt: d.sent_at ? local(d.sent_at) : null, reason: d.reason })),
      // As the job kind gave it: platform text in every language it has, or plain text.
      items: row.items.map((item, i) => ({ number: i + 1, id: item.id, title: item.title })),
      decisions: replies.map((d) => ({
        receivedAt: local(d.received_at),
        from: d.from_address,
        verified: d.verified,
        outcome: d.outcome,
        effective: d.effective,
        decision: d.action === 'hold' ? { action: 'hold', reason: d.reason } : d.action === 'send' ? { action: 'send', leaveOut: d.leave_out, note: d.note } : null,
        problem: d.problem,
        message: { inbound: Number(d.inbound_id), subject: d.subject, text: d.text },
      })),
      // What applies to the send: the effective decision, else the default; final once the deadline passed.
      applies: { ...decision, by, byDefault, final: now > row.deadline },
      sendRun: send ? { id: Number(send.id), status: send.status, error: send.error } : null,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const fmt = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toFormat('ccc d LLL yyyy HH:mm');
      const what = (d: { action: string; reason?: string | null; leaveOut?: number[]; note?: string | null } | null) =>
        !d ? 'nothing readable' : d.action === 'hold' ? `hold: ${d.reason}` : ['send', d.leaveOut?.length ? `leaving out ${d.leaveOut.join(', ')}` : '', d.note ? `note "${d.note.replace(/\s+/g, ' ')}"` : ''].filter(Boolean).join('; ');
      process.stdout.write(`${row.schedule_id}: the send of ${fmt(result.review.occurrence)}, decisions due ${fmt(result.review.deadline)} (default: ${row.default_decision})\n`);
      process.stdout.write(`\nasked:\n${result.reviewers.map((r) => `  ${r.name} <${r.email}> (${r.locale}): ${r.status}${r.reason ? ` (${r.reason})` : ''}`).join('\n')}\n`);
      const text = (t: unknown) => (typeof t === 'string' ? t : Object.values((t ?? {}) as Record<string, string>).join(' / '));
      process.stdout.write(`\nitems:\n${result.items.map((i) => `  ${i.number}. ${text(i.title)}`).join('\n') || '  none'}\n`);
      process.stdout.write(`\nreplies:\n${result.decisions.map((d) => `  ${fmt(d.receivedAt)}  ${d.from ?? '?'}  ${d.outcome}${d.effective ? ' (applies)' : ''}: ${what(d.decision)}${d.problem ? ` [${d.problem}]` : ''}  (message ${d.message.inbound}: ${d.message.subject ?? ''})`).join('\n') || '  none'}\n`);
      process.stdout.write(`\napplies: ${what(result.applies)}${byDefault ? ' (the default: no decision)' : ` (decided by ${by})`}${result.applies.final ? '' : ', until a reviewer decides'}\n`);
      if (result.sendRun) process.stdout.write(`send: run ${result.sendRun.id}, ${result.sendRun.status}${result.sendRun.error ? ` (${result.sendRun.error})` : ''}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
