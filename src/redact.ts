/** A connection URL fit for a message or a log: the password (Postgres, Redis, SMTP) as ***. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@/]+)@/, '//$1:***@');
}
