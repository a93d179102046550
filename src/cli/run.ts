import { DateTime } from 'luxon';
import { CrierQueues, startWorkers, type Workers } from '../queue/queues.ts';
import { runNow } from '../queue/actions.ts';
import { CommandError, engineOf, openCrier, parseInstant, transportOf, type GlobalOptions } from './context.ts';
import { ensureDemoTenant } from './demo.ts';
import type { Ledger, RunRow } from '../ledger/ledger.ts';
import { REVIEW_HELD } from '../review/plan.ts';

export interface RunOptions extends GlobalOptions {
  /** The occurrence to make due (default: the next one). */
  at?: string;
  /** Which send of the occurrence, for job kinds that plan several. */
  variant?: string;
  /** Work the run to the end in this process and report its deliveries. */
  wait?: boolean;
  /** Seconds --wait waits at most (default 300). */
  timeout?: string;
  /** Send it even though its review holds it. */
  force?: boolean;
}

/**
 * The run once nothing more happens to it by waiting: done, failed, missed, held, paused (a
 * person resumes it), or fanned out with nothing left in flight.
 */
async function settled(ledger: Ledger, id: number, deadline: number, timeout = '300'): Promise<RunRow> {
  for (;;) {
    const run = (await ledger.run(id))!;
    if (run.status === 'done' || run.status === 'failed' || run.status === 'missed' || run.status === 'paused' || run.status === 'held') return run;
    // Fanned out and nothing left to work: settle it here (the worker that sent the last one
    // may not have yet). A row a dead worker held is released by the heartbeat when its lease
    // runs out (sent again, or unknown), so this never waits for rows no one holds.
    if (run.status === 'fanned-out' && (await ledger.inFlight(id)) === 0) {
      await ledger.completeRunIfSettled(id);
      return (await ledger.run(id))!;
    }
    if (Date.now() > deadline) throw new CommandError(`run ${id} is still ${run.status} after ${timeout} s; see \`crier status\``);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `crier run SCHEDULE`: makes one occurrence due now through the same ledger and queues as the
 * schedule. The run key is (schedule, occurrence): running it again, or the schedule reaching
 * it later, sends nothing new.
 */
export async function run(scheduleId: string, opts: RunOptions): Promise<number> {
  const crier = await openCrier(opts);
  const queues = CrierQueues.open(crier.config, crier.ledger, crier.log);
  const transport = transportOf(crier);
  let workers: Workers | undefined;
  try {
    await queues.ready();
    await crier.ledger.migrate();
    await ensureDemoTenant(crier);
    const book = await crier.schedules();
    const at = opts.at ? parseInstant(opts.at, book.get(scheduleId, crier.config.file).timezone, '--at') : undefined;
    const { run: created, revived } = await runNow(crier, queues, { scheduleId, at, variant: opts.variant, file: crier.config.file, force: opts.force });
    let current = created;
    if (opts.wait) {
      workers = startWorkers(engineOf(crier, transport), queues, { tick: false });
      // Pending deliveries of an earlier, interrupted attempt are picked up too.
      await queues.enqueueOpenWork();
      const deadline = Date.now() + Number(opts.timeout ?? 300) * 1000;
      current = { ...(await settled(crier.ledger, created.id, deadline, opts.timeout)), created: created.created };
      // A send its review held is told to the reviewers and the superadmin: that is part of this run's outcome.
      const notice = current.status === 'held' ? await crier.ledger.runByKey(current.schedule_id, `${REVIEW_HELD}:${current.run_key}`) : undefined;
      if (notice) await settled(crier.ledger, notice.id, deadline, opts.timeout);
      // What this process still works on finishes first (a page of a paused run gives back what it
      // had claimed), so the counts below are what the ledger keeps.
      await workers?.close(120_000);
      workers = undefined;
    }
    const counts = await crier.ledger.deliveryCounts(created.id);
    const result = {
      run: {
        id: current.id,
        schedule: current.schedule_id,
        occurrence: DateTime.fromJSDate(current.occurrence, { zone: current.timezone }).toISO(),
        variant: current.variant,
        status: current.status,
        origin: current.origin,
        created: created.created,
        error: current.error,
      },
      deliveries: { sent: counts.sent, skipped: counts.skipped, failed: counts.failed, bounced: counts.bounced, unknown: counts.unknown, pending: counts.pending, sending: counts.sending },
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const note = created.created ? '' : revived ? ` (was ${created.status}; tried again)` : ' (already recorded; nothing new is sent)';
      process.stdout.write(`run ${result.run.id} of ${result.run.schedule} at ${result.run.occurrence}: ${result.run.status}${note}\n`);
      process.stdout.write(`deliveries: ${counts.sent} sent, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.pending + counts.sending} open\n`);
      if (current.error) process.stdout.write(`error: ${current.error}\n`);
      if (counts.unknown) process.stdout.write(`${counts.unknown} delivery(ies) may or may not have reached the SMTP server and are not resent; see \`crier status\`, and \`crier retry ${result.run.id} --unknown\` to send them again\n`);
    }
    // Failed to prepare, paused, or a delivery whose outcome is unknown: a person should look.
    return current.status === 'failed' || current.status === 'paused' || counts.unknown > 0 ? 1 : 0;
  } finally {
    // This process may hold another run's delivery (the queues are shared): let it finish rather
    // than cut it off mid-send, which would leave it `sending` for a person to check.
    await workers?.close(120_000);
    await queues.close();
    await transport.close();
    await crier.close();
  }
}
