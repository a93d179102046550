import { DateTime } from 'luxon';
import { CommandError, openCrier, parseInstant, type GlobalOptions } from './context.ts';

/**
 * `crier calls [SCHEDULE] [--round ISO]`: one project-call round (default: the latest of the
 * first project-call schedule): every head with their answers, replies that could not be
 * verified or matched, and the auto-replies and bounces that came back.
 */
export async function calls(scheduleId: string | undefined, opts: GlobalOptions & { round?: string }): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    const book = await crier.schedules();
    const schedule = scheduleId ? book.get(scheduleId, crier.config.file) : book.all.find((s) => s.job === 'project-call');
    if (!schedule) throw new CommandError(`${crier.config.file} has no project-call schedule`, 2);
    if (schedule.job !== 'project-call') throw new CommandError(`schedule '${schedule.id}' is a ${schedule.job}, not a project-call`, 2);
    const round = opts.round ? await crier.rounds.round(schedule.id, parseInstant(opts.round, schedule.timezone, '--round').toJSDate()) : await crier.rounds.latest([schedule.id]);
    if (!round) throw new CommandError(opts.round ? `schedule '${schedule.id}' has no call at ${opts.round}` : `schedule '${schedule.id}' has sent no call yet`);
    const local = (iso: string) => DateTime.fromISO(iso).setZone(schedule.timezone).toISO()!;
    const result = {
      round: { schedule: round.schedule, occurrence: local(round.occurrence), deadline: local(round.deadline) },
      heads: round.heads.map((h) => ({
        email: h.email,
        name: h.name,
        status: h.status,
        answers: h.answers.map((a) => ({ receivedAt: local(a.receivedAt), from: a.from, verified: true, late: a.late, text: a.text, items: a.items })),
        unverified: h.unverified.map((u) => ({ receivedAt: local(u.receivedAt), from: u.from, text: u.text })),
      })),
      unmatched: round.unmatched.map((u) => ({ receivedAt: local(u.receivedAt), from: u.from, subject: u.subject })),
      ignored: round.heads.flatMap((h) => h.ignored.map((i) => ({ receivedAt: local(i.receivedAt), from: i.from, kind: i.kind }))),
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const fmt = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toFormat('ccc d LLL yyyy HH:mm');
      process.stdout.write(`${round.schedule}: call of ${fmt(result.round.occurrence)}, answers due ${fmt(result.round.deadline)}\n`);
      for (const h of result.heads) {
        process.stdout.write(`\n${h.name} <${h.email}>: ${h.status}\n`);
        h.answers.forEach((a, i) => {
          process.stdout.write(`  answer ${i + 1} of ${h.answers.length}, ${fmt(a.receivedAt)}${a.late ? ' (late)' : ''}${a.from !== h.email ? ` from ${a.from}` : ''}\n`);
          for (const item of a.items) process.stdout.write(`    - ${item.title}${item.description ? `: ${item.description}` : ''}\n`);
          if (!a.items.length) process.stdout.write(`    (no project: ${a.text.split('\n')[0]})\n`);
        });
        for (const u of h.unverified) process.stdout.write(`  unverified reply from ${u.from}, ${fmt(u.receivedAt)}\n`);
      }
      if (result.unmatched.length) process.stdout.write(`\nnot matched to a head:\n${result.unmatched.map((u) => `  ${fmt(u.receivedAt)}  ${u.from ?? '?'}  ${u.subject}`).join('\n')}\n`);
      if (result.ignored.length) process.stdout.write(`\nignored:\n${result.ignored.map((u) => `  ${fmt(u.receivedAt)}  ${u.from}  ${u.kind}`).join('\n')}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
