import type { PersonEntry, RoleEntry } from '../config/schema.ts';
import { readCsvAudience } from '../config/csv-audience.ts';
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
 * platform's first.
 */
export async function resolveAudience(config: AudienceConfig, schedule: ScheduleConfig, job: JobKind, platform: Platform, now: Date): Promise<Recipient[]> {
  const listed: AudienceConfig['audiences'][string] = schedule.audience.length ? schedule.audience.flatMap((id) => config.audiences[id] ?? []) : ((job.defaultAudience ?? []) as (PersonEntry | RoleEntry)[]);
  const entries = listed.flatMap((entry): (PersonEntry | RoleEntry)[] => {
    if (!('csv' in entry)) return [entry];
    // The file as it is now (it was checked when the config was read; it may have changed since).
    const { people, issues } = readCsvAudience(entry.csv, entry.csv, entry.listed);
    if (issues.length) throw new AudienceError(`the audience's CSV file changed since the config was read and is refused now; fix it and run again:\n${issues.map(formatIssue).join('\n')}`);
    return people;
  });
  const directory = await readDirectory(platform, now);
  const resolveScope = scopeResolver(directory);
  const defaultLocale = platform.info.locales[0];

  const found: Recipient[] = [];
  // Config people named without folders/projects: their scope is whatever else they are reached as.
  const unscoped = new Set<Recipient>();
  const people: { entry: PersonEntry; scope?: RecipientScope }[] = [];
  for (const entry of entries) {
    if ('platformRole' in entry) found.push(...roleRecipients(entry, directory, config, resolveScope, defaultLocale, people));
    else people.push({ entry, scope: resolveScope(entry) });
  }
  const accounts = await accountsByEmail(platform, people.map((p) => p.entry.email.toLowerCase()));
  for (const { entry, scope } of people) {
    const account = accounts.get(entry.email.toLowerCase());
    const r: Recipient = { email: entry.email.toLowerCase(), name: entry.name, locale: entry.locale ?? account?.locale ?? defaultLocale, userId: account?.id, scope, variant: entry.copy };
    found.push(r);
    if (!scope) unscoped.add(r);
  }
  // In address order, so runs, previews and logs list recipients the same way every time.
  return mergeByEmail(found, unscoped).sort((a, b) => a.email.localeCompare(b.email));
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

function roleRecipients(entry: RoleEntry, d: Directory, config: AudienceConfig, resolveScope: ScopeResolver, defaultLocale: string, people: { entry: PersonEntry; scope?: RecipientScope }[]): Recipient[] {
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
