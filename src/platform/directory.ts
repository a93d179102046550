import { z } from 'zod';
import type { Multiloc } from '../render/multiloc.ts';
import type { Platform } from './platform.ts';
import { FOLDERS, OPTED_OUT, PROJECT_INDEX, ROLE_HOLDERS, USERS_BY_EMAIL } from './queries.ts';
import { platformTimestamp } from './activity.ts';

/** A platform role as users.roles stores it. */
export type PlatformRole =
  | { type: 'admin' }
  | { type: 'project_moderator'; project_id: string }
  | { type: 'project_folder_moderator'; project_folder_id: string };

export interface RoleHolder {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  locale: string | null;
  roles: PlatformRole[];
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
 * users.roles is free-form jsonb on the platform: keep the three roles Crier knows, with the
 * ids they need, and drop anything else (a newer role type, a malformed entry) rather than fail.
 */
const roleSchema = z.union([
  z.object({ type: z.literal('admin') }),
  z.object({ type: z.literal('project_moderator'), project_id: z.string() }),
  z.object({ type: z.literal('project_folder_moderator'), project_folder_id: z.string() }),
]);
const rolesSchema = z.array(z.unknown()).catch([]).transform((list) => list.flatMap((r) => {
  const parsed = roleSchema.safeParse(r);
  return parsed.success ? [parsed.data as PlatformRole] : [];
}));

export async function readDirectory(platform: Platform, at: Date): Promise<Directory> {
  const [holders, folders, projects] = await Promise.all([
    platform.query<RoleHolder & Record<string, unknown>>(ROLE_HOLDERS, [platformTimestamp(at)]),
    platform.query<FolderEntry & Record<string, unknown>>(FOLDERS),
    platform.query<ProjectEntry & Record<string, unknown>>(PROJECT_INDEX),
  ]);
  const roleHolders = holders.map((u) => ({ ...u, roles: rolesSchema.parse(u.roles) }));
  return { roleHolders, folders, projects };
}

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
