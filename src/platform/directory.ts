import { z } from 'zod';
import type { Multiloc } from './types.ts';
import { FOLDERS, OPTED_OUT, PROJECT_INDEX, ROLE_HOLDERS, USERS_BY_EMAIL } from './queries.ts';
import type { Platform } from './platform.ts';
import { platformTimestamp } from './timestamp.ts';

/** A platform role as users.roles stores it, the kinds that mean something to Crier's audiences. */
export type PlatformRole =
  | { type: 'admin'; project_reviewer?: boolean }
  | { type: 'project_moderator'; project_id: string }
  | { type: 'project_folder_moderator'; project_folder_id: string };

export interface RoleHolder {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  locale: string | null;
  roles: PlatformRole[];
  /** Role entries Crier does not use (a space_moderator, a newer or malformed type), by type. */
  otherRoles: string[];
  /** The platform vendor's support staff (User#super_admin? domains), not the city's people. */
  vendorStaff: boolean;
}

export interface FolderEntry {
  id: string;
  slug: string | null;
  title_multiloc: Multiloc;
  publication_status: string | null;
}

export interface ProjectEntry {
  id: string;
  slug: string | null;
  title_multiloc: Multiloc;
  publication_status: 'draft' | 'published' | 'archived' | null;
  folder_id: string | null;
}

/** Who holds which role, and the folders and projects roles and scopes refer to. */
export interface Directory {
  roleHolders: RoleHolder[];
  folders: FolderEntry[];
  projects: ProjectEntry[];
}

/**
 * The vendor's staff, as the platform tells them (back/app/models/concerns/user_roles.rb,
 * CITIZENLAB_MEMBER_REGEX_CONTENT and GOVOCAL_MEMBER_REGEX_CONTENT): an address ending in one of
 * its domains, subdomains included.
 */
const VENDOR_STAFF = /(citizenlab\.(eu|be|ch|de|nl|co|uk|us|cl|dk|pl)|govocal\.(com|eu|be|ch|de|nl|co|uk|us|cl|dk|pl))$/i;
export const isVendorStaff = (email: string) => VENDOR_STAFF.test(email);

/**
 * users.roles is free-form jsonb on the platform: keep the roles Crier maps to audiences, with
 * the ids they need, and name everything else (space_moderator: spaces are not in the tables
 * Crier reads; a newer type; a malformed entry) so `crier check` can list it, never fail on it.
 */
const roleSchema = z.union([
  z.object({ type: z.literal('admin'), project_reviewer: z.boolean().optional().catch(undefined) }),
  z.object({ type: z.literal('project_moderator'), project_id: z.string() }),
  z.object({ type: z.literal('project_folder_moderator'), project_folder_id: z.string() }),
]);
const rolesSchema = z
  .array(z.unknown())
  .catch([])
  .transform((list) => {
    const roles: PlatformRole[] = [];
    const other: string[] = [];
    for (const r of list) {
      const parsed = roleSchema.safeParse(r);
      if (parsed.success) roles.push(parsed.data as PlatformRole);
      else other.push(typeof r === 'object' && r && typeof (r as { type?: unknown }).type === 'string' ? String((r as { type: string }).type) : 'malformed');
    }
    return { roles, other };
  });

export async function readDirectory(platform: Platform, at: Date): Promise<Directory> {
  const [holders, folders, projects] = await Promise.all([
    platform.query<Omit<RoleHolder, 'otherRoles' | 'vendorStaff'> & Record<string, unknown>>(ROLE_HOLDERS, [platformTimestamp(at)]),
    platform.query<FolderEntry & Record<string, unknown>>(FOLDERS),
    platform.query<ProjectEntry & Record<string, unknown>>(PROJECT_INDEX),
  ]);
  const roleHolders = holders.map((u) => {
    const { roles, other } = rolesSchema.parse(u.roles);
    return { ...u, roles, otherRoles: other, vendorStaff: isVendorStaff(u.email) };
  });
  return { roleHolders, folders, projects };
}

/**
 * The projects each person moderates, as the platform derives them (moderatable_project_ids):
 * their project_moderator roles, and every project in a folder they manage. A folder manager
 * holds only {"type":"project_folder_moderator"} on newer platforms.
 */
export function moderatedProjects(d: Directory, u: RoleHolder): string[] {
  const direct = u.roles.flatMap((r) => (r.type === 'project_moderator' ? [r.project_id] : []));
  const folders = new Set(managedFolders(u));
  const viaFolder = d.projects.filter((p) => p.folder_id && folders.has(p.folder_id)).map((p) => p.id);
  return [...new Set([...direct, ...viaFolder])];
}

export const managedFolders = (u: RoleHolder) => u.roles.flatMap((r) => (r.type === 'project_folder_moderator' ? [r.project_folder_id] : []));

/** Platform accounts of config addresses (lower-cased), by address. */
export async function accountsByEmail(platform: Platform, emails: string[]): Promise<Map<string, { id: string; locale: string | null }>> {
  if (!emails.length) return new Map();
  const rows = await platform.query<{ id: string; email: string; locale: string | null }>(USERS_BY_EMAIL, [emails]);
  return new Map(rows.map((r) => [r.email, { id: r.id, locale: r.locale }]));
}

/** The users among `userIds` who opted out of the platform's `campaign` e-mails. */
export async function optedOut(platform: Platform, campaign: string, userIds: string[]): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  const rows = await platform.query<{ user_id: string }>(OPTED_OUT, [campaign, userIds]);
  return new Set(rows.map((r) => r.user_id));
}
