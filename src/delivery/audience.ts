import type { PersonEntry, RoleEntry } from '../config/schema.ts';
import { statSync } from 'node:fs';
import { CSV_PAGE, csvPeople, type CsvAudience } from '../config/csv-audience.ts';
import { formatIssue } from '../config/errors.ts';
import type { CrierConfig, ScheduleConfig } from '../config/load.ts';
import type { JobKind, Recipient } from '../kit/contract.ts';
import type { RecipientScope } from '../platform/types.ts';
import { accountsByEmail, managedFolders, moderatedProjects, readDirectory, type Directory, type RoleHolder } from '../platform/directory.ts';
import type { Platform } from '../platform/platform.ts';

/** The config's audiences and departments. */
export type AudienceConfig = Pick<CrierConfig, 'audiences' | 'departments'>;

/**
 * The recipients of a schedule's run: every person and every active platform role holder of
 * its audiences (or the job kind's default audience), each address once, case-insensitively.
 * A person reached twice (say as folder manager and as project manager) gets one e-mail whose
 * scope is the union of both. Locale: the config's, else the platform account's, else the
 * platform's first. All at once, in address order (what check, preview and the gallery show);
 * a run's fan-out reads them a page at a time (audiencePages).
 */
export async function resolveAudience(config: AudienceConfig, schedule: ScheduleConfig, job: JobKind, platform: Platform, now: Date): Promise<Recipient[]> {
  const all: Recipient[] = [];
  for await (const page of (await audiencePages(config, schedule, job, platform, now)).pages()) for (const r of page) all.push(r);
  // In address order, so runs, previews and logs list recipients the same way every time.
  return all.sort((a, b) => a.email.localeCompare(b.email));
}

/** A run's audience as the fan-out reads it. */
export interface AudiencePages {
  /**
   * What a job kind's collect() counts per recipient scope: every recipient not read from a CSV
   * file, and of a CSV file's people one per distinct scope and copy (a file of 100,000 staff
   * has a handful), not each of them.
   */
  forCollect: Recipient[];
  /** Every recipient once, a page at a time: the CSV files' people in file order, then the rest. Each call reads the files again. */
  pages(): AsyncGenerator<Recipient[]>;
}

/**
 * The audience of resolveAudience without holding a CSV file's people: those files are read
 * three times (a file of 100,000 people takes a few tenths of a second): once to check every row
 * and find addresses that occur more than once (in the files or among the other entries), once
 * for those rows, merged with the rest exactly as resolveAudience merges, and once, in pages,
 * for everyone else, whom nothing merges with. A file that changed in between fails the run.
 */
export async function audiencePages(config: AudienceConfig, schedule: ScheduleConfig, job: JobKind, platform: Platform, now: Date, pageSize = CSV_PAGE): Promise<AudiencePages> {
  const listed: AudienceConfig['audiences'][string] = schedule.audience.length ? schedule.audience.flatMap((id) => config.audiences[id] ?? []) : ((job.defaultAudience ?? []) as (PersonEntry | RoleEntry)[]);
  // Once each, though an audience may be listed twice: its people merge with themselves anyway.
  const csvs = [...new Set(listed.filter((e): e is CsvAudience => 'csv' in e))];
  const directory = await readDirectory(platform, now);
  const resolveScope = scopeResolver(directory);
  const defaultLocale = platform.info.locales[0];
  const stamps = csvs.map((c) => stamp(c.csv));

  // First read: every row checked; addresses met twice; one recipient per scope and copy for collect().
  const seen = new Set<string>();
  const twice = new Set<string>();
  const representatives = new Map<string, Recipient>();
  for (const c of csvs) {
    for (const page of readCsv(c)) {
      for (const p of page) {
        const email = p.email.toLowerCase();
        if (seen.has(email)) twice.add(email);
        else seen.add(email);
        const key = p.folders || p.projects || p.copy ? JSON.stringify([p.folders ?? null, p.projects ?? null, p.copy ?? null]) : '';
        if (!representatives.has(key)) representatives.set(key, { email, name: p.name, locale: p.locale ?? defaultLocale, scope: resolveScope(p), variant: p.copy });
      }
    }
  }

  // The other entries, resolved as they always were; a CSV file stands in its place in the order.
  const found: Recipient[] = [];
  // People named without folders/projects: their scope is whatever else they are reached as.
  const unscoped = new Set<Recipient>();
  const people: ({ entry: PersonEntry; scope?: RecipientScope } | { csv: number })[] = [];
  for (const entry of listed) {
    if ('csv' in entry) people.push({ csv: csvs.indexOf(entry) });
    else if ('platformRole' in entry) found.push(...roleRecipients(entry, directory, config, resolveScope, defaultLocale, people));
    else people.push({ entry, scope: resolveScope(entry) });
  }
  for (const r of found) if (seen.has(r.email.toLowerCase())) twice.add(r.email.toLowerCase());
  for (const p of people) if ('entry' in p && seen.has(p.entry.email.toLowerCase())) twice.add(p.entry.email.toLowerCase());

  // Second read: the rows of those addresses, in their file's place among the entries.
  const held = csvs.map(() => [] as PersonEntry[]);
  if (twice.size) for (const [i, c] of csvs.entries()) for (const page of readCsv(c)) for (const p of page) if (twice.has(p.email.toLowerCase())) held[i].push(p);
  const named = people.flatMap((p) => ('csv' in p ? held[p.csv].map((entry) => ({ entry, scope: resolveScope(entry) })) : [p]));
  const merged = mergeByEmail([...found, ...(await personRecipients(named, platform, defaultLocale, unscoped))], unscoped).sort((a, b) => a.email.localeCompare(b.email));

  return {
    forCollect: [...merged, ...representatives.values()],
    async *pages() {
      // Third read: everyone whom nothing merges with, as they are in their file.
      for (const c of csvs) {
        for (const page of readCsv(c)) {
          const alone = page.filter((p) => !twice.has(p.email.toLowerCase())).map((entry) => ({ entry, scope: resolveScope(entry) }));
          if (alone.length) yield personRecipients(alone, platform, defaultLocale);
        }
      }
      for (const [i, c] of csvs.entries()) {
        if (stamp(c.csv) !== stamps[i]) throw new AudienceError(`the audience's CSV file ${c.csv} changed while the run was being prepared (listed at ${c.listed.path}, ${c.listed.file} line ${c.listed.line}); nothing was sent, run it again`);
      }
      for (let at = 0; at < merged.length; at += pageSize) yield merged.slice(at, at + pageSize);
    },
  };

  /** A CSV file's people as it is now (it was checked when the config was read; it may have changed since), a page at a time. */
  function* readCsv(c: CsvAudience): Generator<PersonEntry[]> {
    const pages = csvPeople(c.csv, c.csv, c.listed, pageSize);
    for (let next = pages.next(); ; next = pages.next()) {
      if (!next.done) {
        yield next.value;
        continue;
      }
      if (next.value.length) throw new AudienceError(`the audience's CSV file changed since the config was read and is refused now; fix it and run again:\n${next.value.map(formatIssue).join('\n')}`);
      return;
    }
  }
}

/** A file's size and modification time, to tell whether it changed between two reads. */
function stamp(file: string): string {
  const s = statSync(file, { throwIfNoEntry: false });
  return s ? `${s.size}:${s.mtimeMs}` : 'missing';
}

/** Recipients of people named in the config or a CSV file, with their platform accounts' ids and locales; those with no scope are added to `unscoped`. */
async function personRecipients(people: { entry: PersonEntry; scope?: RecipientScope }[], platform: Platform, defaultLocale: string, unscoped?: Set<Recipient>): Promise<Recipient[]> {
  const accounts = await accountsByEmail(platform, people.map((p) => p.entry.email.toLowerCase()));
  return people.map(({ entry, scope }) => {
    const account = accounts.get(entry.email.toLowerCase());
    const r: Recipient = { email: entry.email.toLowerCase(), name: entry.name, locale: entry.locale ?? account?.locale ?? defaultLocale, userId: account?.id, scope, variant: entry.copy };
    if (!scope) unscoped?.add(r);
    return r;
  });
}

/** An audience the platform cannot satisfy (a folder or project that is not there): retrying will not help. */
export class AudienceError extends Error {}

type ScopeResolver = (entry: { folders?: string[]; projects?: string[] }) => RecipientScope | undefined;

/** Folder and project slugs (or ids) of the config → ids, refusing names the platform lacks. */
function scopeResolver(d: Directory): ScopeResolver {
  const folder = (name: string) => {
    const f = d.folders.find((x) => x.slug === name || x.id === name);
    if (!f) throw new AudienceError(`audience scope: the platform has no folder '${name}'; folders: ${d.folders.map((x) => x.slug).join(', ')}`);
    return f.id;
  };
  const project = (name: string) => {
    const p = d.projects.find((x) => x.slug === name || x.id === name);
    if (!p) throw new AudienceError(`audience scope: the platform has no project '${name}'; projects: ${d.projects.map((x) => x.slug).join(', ')}`);
    return p.id;
  };
  return (entry) => {
    if (!entry.folders && !entry.projects) return undefined;
    return { ...(entry.folders ? { folders: entry.folders.map(folder) } : {}), ...(entry.projects ? { projects: entry.projects.map(project) } : {}) };
  };
}

function roleRecipients(entry: RoleEntry, d: Directory, config: AudienceConfig, resolveScope: ScopeResolver, defaultLocale: string, people: ({ entry: PersonEntry; scope?: RecipientScope } | { csv: number })[]): Recipient[] {
  const narrow = resolveScope(entry);
  const out: Recipient[] = [];
  const add = (u: RoleHolder, scope: RecipientScope | undefined) => {
    const s = intersect(scope, narrow, d);
    if (s && isEmptyScope(s)) return;
    out.push({ email: u.email, name: [u.first_name, u.last_name].filter(Boolean).join(' ') || u.email, locale: u.locale ?? defaultLocale, userId: u.id, scope: s });
  };
  for (const u of d.roleHolders) {
    // The vendor's support staff hold admin roles on every platform; they are not the city's people.
    if (u.vendorStaff && !entry.includeVendorStaff) continue;
    if (entry.platformRole === 'admin' && u.roles.some((r) => r.type === 'admin')) add(u, undefined);
    if (entry.platformRole === 'project-reviewer' && u.roles.some((r) => r.type === 'admin' && r.project_reviewer)) add(u, undefined);
    if (entry.platformRole === 'folder-manager') {
      const folders = managedFolders(u);
      if (folders.length) add(u, { folders });
    }
    if (entry.platformRole === 'project-manager') {
      // As the platform's own moderator digest: folder managers moderate their folders' projects.
      const folders = managedFolders(u);
      const projects = u.roles.flatMap((r) => (r.type === 'project_moderator' ? [r.project_id] : []));
      if (folders.length || projects.length) add(u, { ...(folders.length ? { folders } : {}), ...(projects.length ? { projects } : {}) });
    }
  }
  if (entry.platformRole === 'folder-manager') {
    // A folder nobody manages on the platform: its department head from `departments:`.
    const managed = new Set(d.roleHolders.flatMap(managedFolders));
    for (const [slug, person] of Object.entries(config.departments)) {
      const folder = d.folders.find((f) => f.slug === slug || f.id === slug);
      if (!folder) throw new AudienceError(`departments.${slug}: the platform has no folder '${slug}'; folders: ${d.folders.map((f) => f.slug).join(', ')}`);
      if (managed.has(folder.id)) continue;
      const scope = intersect({ folders: [folder.id] }, narrow, d);
      if (scope && isEmptyScope(scope)) continue;
      people.push({ entry: person, scope });
    }
  }
  return out;
}

/** What both scopes cover; undefined is everything. Folder scopes narrowed by projects keep those projects. */
function intersect(a: RecipientScope | undefined, b: RecipientScope | undefined, d: Directory): RecipientScope | undefined {
  if (!a) return b;
  if (!b) return a;
  const projectsOf = (s: RecipientScope) => new Set([...(s.projects ?? []), ...d.projects.filter((p) => p.folder_id && s.folders?.includes(p.folder_id)).map((p) => p.id)]);
  if (a.folders && b.folders && !a.projects && !b.projects) return { folders: a.folders.filter((f) => b.folders!.includes(f)) };
  const pb = projectsOf(b);
  return { projects: [...projectsOf(a)].filter((p) => pb.has(p)) };
}

function isEmptyScope(s: RecipientScope): boolean {
  return (s.folders?.length ?? 0) === 0 && (s.projects?.length ?? 0) === 0;
}

/**
 * One recipient per address; scopes are united, the first name, locale and copy win. A person
 * listed by name without a scope who also holds a platform role keeps the role's scope (a
 * moderator named in the config does not get the whole platform); otherwise no scope is
 * the whole platform.
 */
function mergeByEmail(list: Recipient[], unscoped: Set<Recipient>): Recipient[] {
  // The first of each address is kept and merged into (every entry was made for this resolution:
  // nobody else holds it), so 100,000 recipients are not copied once more.
  const byEmail = new Map<string, Recipient>();
  for (const r of list) {
    const seen = byEmail.get(r.email);
    if (!seen) {
      byEmail.set(r.email, r);
      continue;
    }
    seen.userId ??= r.userId;
    seen.variant ??= r.variant;
    if (unscoped.has(r) && seen.scope) continue;
    if (unscoped.has(seen) && r.scope) {
      seen.scope = r.scope;
      unscoped.delete(seen);
      continue;
    }
    seen.scope = !seen.scope || !r.scope ? undefined : union(seen.scope, r.scope);
  }
  return [...byEmail.values()];
}

function union(a: RecipientScope, b: RecipientScope): RecipientScope {
  const folders = [...new Set([...(a.folders ?? []), ...(b.folders ?? [])])];
  const projects = [...new Set([...(a.projects ?? []), ...(b.projects ?? [])])];
  return { ...(folders.length ? { folders } : {}), ...(projects.length ? { projects } : {}) };
}
