import { readFileSync } from 'node:fs';

/**
 * Named queries from a .sql file, in the yesql / PgTyped style: each query follows a line
 * `-- name: queryName` and runs to the next such line. A job kind keeps the SQL only it needs
 * next to it (jobs/<kind>/queries.sql) and runs it through the same read-only platform
 * connection as the shared queries.
 */
export function namedQueries(file: string): Record<string, string> {
  const text = readFileSync(file, 'utf8');
  const out: Record<string, string> = {};
  const parts = text.split(/^--\s*name:\s*([A-Za-z_][\w-]*)\s*$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const sql = parts[i + 1].trim();
    if (!sql) throw new Error(`${file}: the query '${parts[i]}' is empty`);
    if (parts[i] in out) throw new Error(`${file}: two queries are named '${parts[i]}'`);
    out[parts[i]] = sql;
  }
  if (!Object.keys(out).length) throw new Error(`${file} has no named query; start each with a line '-- name: queryName'`);
  return out;
}
