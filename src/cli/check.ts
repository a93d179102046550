import { DateTime } from 'luxon';
import { nextOccurrences } from '../schedule/occurrences.ts';
import { openCrier, parseInstant, type GlobalOptions } from './context.ts';

export interface CheckOptions extends GlobalOptions {
  /** List occurrences strictly after this instant (default now). */
  from?: string;
  /** Occurrences per schedule (default 5). */
  count?: string;
}

/** `crier check`: validates the config and lists each schedule's next occurrences. */
export async function check(opts: CheckOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    const count = Number(opts.count ?? 5);
    const schedules = [];
    for (const s of await crier.schedules()) {
      const from = opts.from ? parseInstant(opts.from, s.timezone, '--from') : DateTime.fromJSDate(crier.now());
      const occurrences = nextOccurrences(s.triggers, from, count).map((o) => o.setZone(s.timezone).toISO()!);
      schedules.push({ id: s.id, job: s.job, timezone: s.timezone, enabled: s.enabled, audience: s.audience, occurrences });
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, schedules }, null, 2)}\n`);
    } else {
      process.stdout.write(`${crier.config.file}: OK, ${schedules.length} schedule${schedules.length === 1 ? '' : 's'}\n`);
      for (const s of schedules) {
        process.stdout.write(`\n${s.id} (${s.job}, ${s.timezone}${s.enabled ? '' : ', disabled'}) → ${s.audience.join(', ')}\n`);
        if (!s.occurrences.length) process.stdout.write('  no further occurrences\n');
        for (const o of s.occurrences) process.stdout.write(`  ${DateTime.fromISO(o, { setZone: true }).toFormat("ccc d LLL yyyy HH:mm ZZ")}\n`);
      }
    }
    return 0;
  } finally {
    await crier.close();
  }
}
