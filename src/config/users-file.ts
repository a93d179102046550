import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from './errors.ts';
import { ADMIN_USER_NAME, PASSWORD_HASH } from './schema.ts';

/**
 * The dashboard's users file (http.admin.usersFile): one `name:hash` per line, what
 * `crier hash-password --user NAME` prints; blank lines and lines starting with # are skipped.
 * Read when the config loads, so `crier check` refuses a bad line with its file and line, as it
 * does a bad CSV row, instead of `crier start` failing later.
 */
export function readUsersFile(file: string, configFile: string, listed: Omit<ConfigIssue, 'message'>): { users: Map<string, string>; issues: ConfigIssue[] } {
  const absolute = path.resolve(path.dirname(configFile), file);
  const shown = path.relative(process.cwd(), absolute) || absolute;
  const users = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (e) {
    return { users, issues: [{ ...listed, message: `cannot read '${shown}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the path is relative to the config file's folder; write one name:hash line per user (crier hash-password --user NAME)` }] };
  }
  const issues: ConfigIssue[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = line.indexOf(':');
    const [name, hash] = [line.slice(0, at), line.slice(at + 1)];
    // The hash is not repeated in the message: the line is the superadmin's to look at.
    if (at < 1 || !ADMIN_USER_NAME.test(name) || !PASSWORD_HASH.test(hash)) {
      issues.push({ file: shown, line: i + 1, column: 1, path: listed.path, message: `is not name:hash (a name of 1-64 letters, digits, dots, dashes, underscores or @, then a hash made with: crier hash-password --user NAME) (the users file of ${listed.path}, ${listed.file} line ${listed.line})` });
    } else users.set(name, hash);
  });
  return { users, issues };
}
