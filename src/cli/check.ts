import { DateTime } from 'luxon';
import { nextOccurrences } from '../schedule/occurrences.ts';
import { describeWindow, isOpen } from '../schedule/window.ts';
import { openCrier, parseInstant, readTenants, type GlobalOptions } from './context.ts';
import type { Crier } from '../deployment/deployment.ts';
import { loadJobKinds } from '../job-registry.ts';
import type { TenantConfig } from '../config/tenants.ts';
import path from 'node:path';
import { ConfigError, formatPath, type ConfigIssue } from '../config/errors.ts';
import type { Directory } from '../platform/directory.ts';

export interface CheckOptions extends GlobalOptions {
  /** List occurrences strictly after this instant (default now). */
  from?: string;
  /** Occurrences per schedule (default 5). */
  count?: string;
}

/** Role types no `platformRole` maps to, with who holds them, and the vendor's staff. */
function unmappedRoles(d: Directory): { unknown: { type: string; count: number; emails: string[] }[]; vendorStaff: string[] } {
  const byType = new Map<string, string[]>();
  for (const u of d.roleHolders) for (const type of new Set(u.otherRoles)) byType.set(type, [...(byType.get(type) ?? []), u.email]);
  return {
    unknown: [...byType].sort(([a], [b]) => a.localeCompare(b)).map(([type, emails]) => ({ type, count: emails.length, emails })),
    vendorStaff: d.roleHolders.filter((u) => u.vendorStaff).map((u) => u.email),
  };
}

/** `crier check`: validates the config and lists each schedule's send window, next occurrences and sends (moved into the window). */
export async function check(opts: CheckOptions): Promise<number> {
  const tenants = opts.tenant ? undefined : await readTenants(opts);
  if (tenants) return checkTenants(tenants, opts);
  const crier = await openCrier(opts);
  try {
    const result = await inspect(crier, opts);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, schedules: result.schedules, ...(result.roles ? { roles: result.roles } : {}) }, null, 2)}\n`);
    else printCheck(crier, result);
    return 0;
  } finally {
    await crier.close();
  }
}

/**
 * `crier check --configs DIR`: every tenant, one after another; a broken one is listed with its
 * errors (file, line) and the others are still checked. Exit 2 when any is refused.
 */
async function checkTenants(tenants: TenantConfig[], opts: CheckOptions): Promise<number> {
  const [jobs, { Crier }] = await Promise.all([loadJobKinds(), import('../deployment/deployment.ts')]);
  const results: Record<string, unknown>[] = [];
  let refused = 0;
  for (const t of tenants) {
    let issues = t.error?.issues;
    if (t.config) {
      const crier = new Crier(t.config, jobs);
      try {
        const result = await inspect(crier, opts);
        if (opts.json) results.push({ tenant: t.id, file: path.relative(process.cwd(), t.file), ok: true, schedules: result.schedules, ...(result.roles ? { roles: result.roles } : {}) });
        else {
          process.stdout.write(`${results.length ? '\n' : ''}== tenant ${t.id} (ledger schema ${t.config.crier.schema})\n`);
          printCheck(crier, result);
        }
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        issues = e.issues;
      } finally {
        await crier.close();
      }
    }
    if (issues) {
      refused++;
      if (opts.json) results.push({ tenant: t.id, file: path.relative(process.cwd(), t.file), ok: false, errors: issues });
      else process.stdout.write(`${results.length ? '\n' : ''}== tenant ${t.id}: refused; its schedules do not run, the other tenants' do\n${new ConfigError(issues).message}\n`);
    }
    if (!opts.json) results.push({});
  }
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok: refused === 0, tenants: results }, null, 2)}\n`);
  else process.stdout.write(`\n${tenants.length - refused} of ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} OK${refused ? `, ${refused} refused` : ''}\n`);
  return refused ? 2 : 0;
}

type CheckResult = Awaited<ReturnType<typeof inspect>>;

/** What check says of one deployment: each schedule's occurrences and sends, and its audience now; throws ConfigError. */
async function inspect(crier: Crier, opts: CheckOptions) {
  // What reads the platform, loaded once the config is accepted (a refused one exits before).
  const [{ ensureDemoTenant }, { resolveAudience }, { readDirectory }] = await Promise.all([import('./demo.ts'), import('../delivery/audience.ts'), import('../platform/directory.ts')]);
  // Schedules without a timezone read the tenant's; a demo config creates its tenant first.
  if (crier.config.platform.demo) await ensureDemoTenant(crier);
  const count = Number(opts.count ?? 5);
  const schedules = [];
  const issues: ConfigIssue[] = [];
  const book = await crier.schedules();
  const iso = (dt: DateTime, zone: string) => dt.setZone(zone).toISO()!;
  for (const s of book.all) {
    const from = opts.from ? parseInstant(opts.from, s.timezone, '--from') : DateTime.fromJSDate(crier.now());
    const occurrences = nextOccurrences(s.triggers, from, count).map((o) => iso(o, s.timezone));
    // Every send, at its time moved into the send window (a job kind that plans its own sends
    // lists those: a meeting's invitation and agenda). `occurrences` stay the trigger times.
    let sends: { at: string; variant: string; occurrence: string; movedFrom?: string }[] = [];
    try {
      sends = book.nextRuns(s, from, count).map((r) => ({ at: iso(r.at, s.timezone), variant: r.variant, occurrence: iso(r.occurrence, s.timezone), ...(r.movedFrom ? { movedFrom: iso(r.movedFrom, s.timezone) } : {}) }));
    } catch (e) {
      if (!s.window) throw e;
      // A window that never opens (every allowed day a holiday): point at the window in the file.
      const p = s.window === crier.config.mail.window ? ['mail', 'window'] : ['schedules', s.id, 'window'];
      if (!issues.some((i) => i.path === formatPath(p))) issues.push({ file: path.relative(process.cwd(), crier.config.file), ...(crier.config.locate?.(p) ?? { line: 0, column: 0 }), path: formatPath(p), message: (e as Error).message });
    }
    schedules.push({ id: s.id, job: s.job, timezone: s.timezone, enabled: s.enabled, audience: s.audience, window: s.window ?? null, occurrences, sends });
  }
  // Audiences name platform folders and projects: check them against the platform, if it answers.
  const recipients = new Map<string, number>();
  const platform = await crier.platform().catch(() => undefined);
  if (platform) {
    for (const s of book.all) {
      try {
        recipients.set(s.id, (await resolveAudience(crier.config, s, book.job(s.job), platform, crier.now())).length);
      } catch (e) {
        const p = ['schedules', s.id, 'audience'];
        issues.push({ file: path.relative(process.cwd(), crier.config.file), ...(crier.config.locate?.(p) ?? { line: 0, column: 0 }), path: formatPath(p), message: (e as Error).message });
      }
    }
  }
  if (issues.length) throw new ConfigError(issues);
  // Role holders no audience reaches, so nobody is dropped silently: role types Crier does not
  // map (space_moderator, a newer type) and the vendor's support staff.
  const roles = platform ? unmappedRoles(await readDirectory(platform, crier.now())) : undefined;
  for (const s of schedules) Object.assign(s, recipients.has(s.id) ? { recipients: recipients.get(s.id) } : {});
  return { schedules, roles, recipients, book };
}

/** check's text: each schedule with its window, its next sends and its audience's size now. */
function printCheck(crier: Crier, { schedules, roles, recipients, book }: CheckResult): void {
  process.stdout.write(`${crier.config.file}: OK, ${schedules.length} schedule${schedules.length === 1 ? '' : 's'}\n`);
  const usesWindows = book.all.some((x) => x.window);
  for (const s of schedules) {
    const count = recipients.has(s.id) ? ` (${recipients.get(s.id)} recipients now)` : '';
    process.stdout.write(`\n${s.id} (${s.job}, ${s.timezone}${s.enabled ? '' : ', disabled'}) → ${s.audience.join(', ') || 'its default audience'}${count}\n`);
    const schedule = book.get(s.id);
    const window = schedule.window;
    if (window) process.stdout.write(`  send window: ${describeWindow(window)}${window.holidays.length ? `, closed on ${window.holidays.join(', ')}` : ''}\n`);
    else if (usesWindows) process.stdout.write('  send window: any time\n');
    if (!s.occurrences.length && !s.sends.length) process.stdout.write('  no further occurrences\n');
    const fmt = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toFormat('ccc d LLL yyyy HH:mm ZZ');
    // Why a send is not at its planned time, or why it is outside the window after all.
    const note = (x: (typeof s.sends)[number]) => {
      if (!window) return '';
      if (x.movedFrom) {
        const planned = DateTime.fromISO(x.movedFrom, { setZone: true });
        const why = window.holidays.includes(planned.toISODate()!) ? 'on a holiday, outside' : 'outside';
        return `  (planned ${planned.toFormat('ccc d LLL yyyy HH:mm')}, ${why} the send window ${describeWindow(window)})`;
      }
      return isOpen(window, DateTime.fromISO(x.at), schedule.timezone) ? '' : `  (outside the send window ${describeWindow(window)}: kept, the next opening is too late for it)`;
    };
    if (book.job(s.job).plan || schedule.review) {
      for (const o of s.occurrences) process.stdout.write(`  ${fmt(o)}\n`);
      if (s.sends.length) process.stdout.write(`  sends:\n${s.sends.map((x) => `    ${fmt(x.at)}  ${x.variant} for ${fmt(x.occurrence)}${note(x)}\n`).join('')}`);
    } else {
      // One send per occurrence: listed at the time it goes out.
      for (const x of s.sends) process.stdout.write(`  ${fmt(x.at)}${note(x)}\n`);
    }
  }
  for (const r of roles?.unknown ?? []) {
    process.stdout.write(`\nnote: ${r.count} account${r.count === 1 ? '' : 's'} hold${r.count === 1 ? 's' : ''} the platform role '${r.type}', which no platformRole maps to (${r.emails.join(', ')}); name them as people in an audience to reach them\n`);
  }
  if (roles?.vendorStaff.length) process.stdout.write(`\nnote: left out of platformRole audiences as the vendor's support staff (includeVendorStaff: true keeps them): ${roles.vendorStaff.join(', ')}\n`);
}
