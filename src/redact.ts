/** A connection URL fit for a message or a log: the password (Postgres, Redis, SMTP) as ***. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@/]+)@/, '//$1:***@');
}

/*
 * E-mail addresses in text: a local part of letters, digits and . _ % + = - (no quotes or
 * brackets, so `'x@y.be'` and `<x@y.be>` keep their punctuation), then a domain of at least two
 * labels. Unicode letters too: residents' addresses are not all ASCII.
 */
const ADDRESS = /[\p{L}\p{N}._%+=-]+@((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)/gu;

/**
 * Every address in a text as logs show it: the first character of the local part and the
 * whole domain (`m***@example.org`), enough to tell which organisation a problem is about, not
 * whom. The rest of the text is unchanged.
 */
export function maskEmails(text: string): string {
  return text.replace(ADDRESS, (whole, domain: string) => `${[...whole][0]}***@${domain}`);
}

/**
 * A log entry's values with every address masked: strings, arrays, plain objects and errors
 * (their message and stack) to `depth`; other values (numbers, dates, buffers) as they are.
 * Copies: the caller's objects are not changed.
 */
export function maskDeep(value: unknown, depth = 6): unknown {
  if (typeof value === 'string') return value.includes('@') ? maskEmails(value) : value;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth - 1));
  if (value instanceof Error) {
    // Kept an Error of its own class, so pino's err serializer still names its type.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    for (const key of Object.keys(value)) (copy as unknown as Record<string, unknown>)[key] = maskDeep((value as unknown as Record<string, unknown>)[key], depth - 1);
    Object.defineProperty(copy, 'message', { value: maskEmails(value.message), enumerable: false, writable: true, configurable: true });
    if (value.stack) Object.defineProperty(copy, 'stack', { value: maskEmails(value.stack), enumerable: false, writable: true, configurable: true });
    if (value.cause !== undefined) Object.defineProperty(copy, 'cause', { value: maskDeep(value.cause, depth - 1), enumerable: false, writable: true, configurable: true });
    return copy;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, depth - 1);
  return out;
}
