import { DateTime } from 'luxon';
import { openCrier, type GlobalOptions } from './context.ts';

/** `crier status`: schedules and their next occurrence, recent runs, deliveries by status, problems. */
export async function status(opts: GlobalOptions & { limit?: string }): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    // Claims of workers known dead (their lease ran out) are settled first, so what is shown is
    // what is true: released to be sent again, or unknown.
    await crier.ledger.releaseDeliveries(null);
    await crier.ledger.completeSettledRuns();
    const now = DateTime.fromJSDate(crier.now());
    const book = await crier.schedules();
    const schedules = book.all.map((s) => ({
      id: s.id,
      job: s.job,
      timezone: s.timezone,
      enabled: s.enabled,
      next: s.enabled ? (book.nextRuns(s, now, 1)[0]?.at.setZone(s.timezone).toISO() ?? null) : null,
    }));
    const runs = (await crier.ledger.recentRuns(Number(opts.limit ?? 20))).map((r) => ({
      id: r.id,
      schedule: r.schedule_id,
      variant: r.variant,
      occurrence: r.occurrence.toISOString(),
      job: r.job,
      origin: r.origin,
      status: r.status,
      error: r.error,
      deliveries: { sent: r.sent, skipped: r.skipped, failed: r.failed, unknown: r.unknown, pending: r.pending, sending: r.sending },
    }));
    const deliveries = await crier.ledger.deliveryTotals();
    const problems = (await crier.ledger.problemDeliveries()).map((p) => ({
      delivery: p.id,
      run: p.run_id,
      schedule: p.schedule_id,
      email: p.email,
      status: p.status,
      attempts: p.attempts,
      error: p.last_error,
      /** The SMTP server's own reply, e.g. "550 5.1.1 <x@y>: no such user". */
      reply: p.smtp_reply,
      hint: p.status === 'unknown' ? `handed to the SMTP server, no answer: it may or may not have it; check its log, then \`crier retry ${p.run_id} --unknown\` to send it again` : p.status === 'bounced' ? 'the address does not take mail' : 'send failed; see error',
    }));
    const missed = runs.filter((r) => r.status === 'missed');
    const paused = (await crier.ledger.pausedRuns()).map((r) => ({ run: r.id, schedule: r.schedule_id, occurrence: r.occurrence.toISOString(), since: r.updated_at.toISOString(), reason: r.error, resume: `crier resume ${r.id}` }));
    const suppressed = await crier.ledger.suppressionCount();
    const skipped = (await crier.ledger.skippedDeliveries(runs.map((r) => r.id))).map((d) => ({ run: d.run_id, schedule: d.schedule_id, email: d.email, reason: d.reason }));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ schedules, runs, deliveries, missed, paused, skipped, problems, suppressed }, null, 2)}\n`);
      return 0;
    }
    const w = (s: string) => process.stdout.write(s);
    w('Schedules\n');
    for (const s of schedules) w(`  ${s.id.padEnd(28)} ${s.job.padEnd(20)} next ${s.next ? DateTime.fromISO(s.next, { setZone: true }).toFormat("ccc d LLL yyyy HH:mm ZZ") : s.enabled ? 'never' : 'disabled'}\n`);
    w('\nRecent runs\n');
    if (!runs.length) w('  none yet\n');
    for (const r of runs) {
      const d = r.deliveries;
      w(`  #${String(r.id).padEnd(5)} ${`${r.schedule}${r.variant === 'default' ? '' : ` (${r.variant})`}`.padEnd(28)} ${r.occurrence.slice(0, 16).replace('T', ' ')}Z ${r.status.padEnd(10)} ${r.origin.padEnd(8)} sent ${d.sent}, skipped ${d.skipped}, failed ${d.failed}${d.unknown ? `, unknown ${d.unknown}` : ''}${d.pending + d.sending ? `, open ${d.pending + d.sending}` : ''}${r.error ? `  ${r.error}` : ''}\n`);
    }
    w(`\nDeliveries: ${Object.entries(deliveries).map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
    if (missed.length) w(`\n${missed.length} occurrence(s) missed (later than catchUp when found): ${missed.map((m) => `${m.schedule} ${m.occurrence}`).join('; ')}\n`);
    if (paused.length) {
      w('\nPaused (too many permanent failures; fix the cause, then resume)\n');
      for (const p of paused) w(`  run ${p.run} (${p.schedule}) since ${p.since.slice(0, 16).replace('T', ' ')}Z: ${p.reason ?? ''}\n`);
    }
    if (suppressed) w(`\n${suppressed} suppressed address(es): \`crier suppressions\` lists them\n`);
    if (skipped.length) {
      w('\nSkipped\n');
      for (const s of skipped) w(`  ${s.schedule} (run ${s.run}) ${s.email}: ${s.reason}\n`);
    }
    if (problems.length) {
      w('\nNeeds attention\n');
      for (const p of problems) w(`  delivery ${p.delivery} (${p.schedule}, run ${p.run}) to ${p.email}: ${p.status} after ${p.attempts} attempt(s): ${p.reply ? `the server said "${p.reply}"` : (p.error ?? p.hint)}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
