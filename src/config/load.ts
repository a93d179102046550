import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Parser, visit, type CST, type Document, type YAMLError } from 'yaml';
import { z } from 'zod';
import { parseCron, type CronSpec } from '../schedule/cron.ts';
import { ConfigError, formatPath, type ConfigIssue } from './errors.ts';
import { interpolateEnv } from './env.ts';
import { redact } from '../redact.ts';
import { scheduleBaseShape, topLevelSchema, type PersonEntry, type ReviewConfig, type RoleEntry, type SendWindowConfig } from './schema.ts';
import { checkCsvAudience, type CsvAudience } from './csv-audience.ts';
import { readUsersFile } from './users-file.ts';

type TopLevel = z.output<typeof topLevelSchema>;

/** A schedule as the engine uses it: validated, defaults filled, cron parsed. */
export interface ScheduleConfig {
  id: string;
  job: string;
  /** Audience ids; empty means the job kind's default audience. */
  audience: string[];
  skipWhenEmpty?: boolean;
  crons: CronSpec[];
  dates: string[];
  afterLaunch: string[];
  time: string;
  /** Undefined until resolved against the platform's core.timezone (see resolveTimezones). */
  timezone?: string;
  catchUp: string;
  enabled: boolean;
  /** Its send window: its own, else mail.window; undefined: any time. */
  window?: SendWindowConfig;
  /** What an unsubscribe from this schedule's e-mail stops. */
  unsubscribe: 'schedule' | 'job' | 'none';
  /** Its review step before each send, when it has one. */
  review?: ReviewConfig;
  /** The job kind's own keys, with their defaults. */
  options: Record<string, unknown>;
}

export interface CrierConfig extends Omit<TopLevel, 'schedules' | 'audiences'> {
  /** Absolute path of the file this came from (a tenant's own file, in a deployment of many). */
  file: string;
  /** The tenant's id in a deployment of many (see tenants.ts); undefined in a deployment of one. */
  tenant?: string;
  schedules: ScheduleConfig[];
  /** Each audience's people, platform roles and CSV files of people (checked now, read when a run is prepared). */
  audiences: Record<string, (PersonEntry | RoleEntry | CsvAudience)[]>;
  /** Where a field is (its file, for a tenant's merged config), for problems found after loading (e.g. against the platform). */
  locate?: (path: (string | number)[]) => { file?: string; line: number; column: number };
}

export interface LoadOptions {
  /** The job kinds, by name: their extra schedule keys are validated with the config. */
  jobs: ReadonlyMap<string, { name: string; options?: z.ZodRawShape; defaultAudience?: unknown[]; audienceOptions?: string[] }>;
  env?: NodeJS.ProcessEnv;
}

/** Reads, interpolates and validates a config file; throws ConfigError listing every problem. */
export function loadConfig(file: string, opts: LoadOptions): CrierConfig {
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file: shown, line: 0, column: 0, path: '', message: `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass --config FILE or set CRIER_CONFIG` }]);
  }
  return parseConfig(text, shown, opts, path.resolve(file));
}

/** Where an offset of a config's YAML is: the file as errors name it, its line and column. */
export type Position = (offset: number) => { file: string; line: number; column: number };

/** A config file's YAML, read: its document (aliases resolved) and where its offsets are. */
export interface ConfigYaml {
  doc: Document;
  position: Position;
}

/** Validates config text; `file` is how errors name it. */
export function parseConfig(text: string, file: string, opts: LoadOptions, absolute = file): CrierConfig {
  const { doc, position } = readConfigYaml(text, file);
  return validateConfig(doc, position, opts, absolute);
}

/** Parses config text into a document; throws ConfigError for YAML syntax and undefined aliases. */
export function readConfigYaml(text: string, file: string): ConfigYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const position: Position = (offset) => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  const issues: ConfigIssue[] = [];
  const at = (offset: number, message: string) => issues.push({ ...position(offset), path: '', message });
  if (doc.errors.length) {
    for (const e of syntaxErrors(text, doc.errors)) at(e.offset, e.message);
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(issues);
  }
  // An alias with no anchor (an unquoted `cron: */15`) would make toJS throw; refuse it here.
  visit(doc, {
    Alias(_key, node) {
      if (!node.resolve(doc)) at(node.range?.[0] ?? 0, `'*${node.source}' is an alias to an anchor that is not defined: ${STAR}`);
    },
  });
  if (issues.length) throw new ConfigError(issues);
  return { doc, position };
}

/**
 * Interpolates and validates a config document (which may be several files merged: see
 * tenants.ts); throws ConfigError listing every problem, each where `position` places it.
 * `absolute` is the config file's path: CSV audiences and key files are read relative to it.
 */
export function validateConfig(doc: Document, position: Position, opts: LoadOptions, absolute: string): CrierConfig {
  const issues: ConfigIssue[] = [];
  const at = (offset: number, p: (string | number)[], message: string) => {
    issues.push({ ...position(offset), path: formatPath(p), message });
  };

  const missing = interpolateEnv(doc, opts.env ?? process.env);
  const raw = doc.toJS() ?? {};
  // reportInput: an issue carries the value, so a wrong type is told from a missing value.
  // jitless: zod would compile a parser per object schema (new Function) to parse one config;
  // interpreting it is cheaper for a single pass, and a command's start-up pays for it.
  const top = topLevelSchema.safeParse(raw, { reportInput: true, jitless: true });
  // A value that is null because its variable is unset is reported once, as the variable.
  const unsetPaths = new Set(missing.map((m) => formatPath(m.path)));
  if (!top.success) for (const i of top.error.issues) if (!unsetPaths.has(formatPath(i.path as (string | number)[]))) reportZod(doc, at, [], i);

  const schedules: ScheduleConfig[] = [];
  const rawSchedules = (raw as { schedules?: Record<string, { job?: unknown }> }).schedules;
  if (rawSchedules && typeof rawSchedules === 'object') {
    for (const [sid, entry] of Object.entries(rawSchedules)) {
      if (!entry || typeof entry !== 'object') continue;
      const base = ['schedules', sid];
      const job = typeof entry.job === 'string' ? opts.jobs.get(entry.job) : undefined;
      if (typeof entry.job === 'string' && !job) {
        at(offsetOf(doc, [...base, 'job']), [...base, 'job'], `'${entry.job}' is not a job kind; known: ${[...opts.jobs.keys()].sort().join(', ')}`);
        continue;
      }
      if (!job) continue;
      const schema = z.strictObject({ ...scheduleBaseShape, ...(job.options ?? {}) });
      const parsed = schema.safeParse(entry, { reportInput: true, jitless: true });
      if (!parsed.success) {
        for (const i of parsed.error.issues) reportZod(doc, at, base, i, Object.keys(schema.shape));
        continue;
      }
      const s = parsed.data as z.output<z.ZodObject<typeof scheduleBaseShape>> & Record<string, unknown>;
      const crons = s.cron === undefined ? [] : Array.isArray(s.cron) ? s.cron : [s.cron];
      if (!crons.length && !s.dates?.length && !s.afterLaunch?.length) {
        at(offsetOf(doc, base), base, 'a schedule needs at least one trigger: cron, dates or afterLaunch');
      }
      if (s.afterLaunch?.length && !(raw as { platform?: { launch?: unknown } }).platform?.launch) {
        at(offsetOf(doc, [...base, 'afterLaunch']), [...base, 'afterLaunch'], 'afterLaunch counts from platform.launch, which is not set; add platform.launch: YYYY-MM-DD');
      }
      const audiences = (raw as { audiences?: Record<string, unknown> }).audiences ?? {};
      if (!s.audience && !job.defaultAudience) at(offsetOf(doc, base), [...base, 'audience'], `is required: job kind ${job.name} has no default audience; name one of: ${Object.keys(audiences).join(', ') || '(define one under audiences:)'}`);
      // The schedule's audience, and job options that name audiences too (a project call's overview).
      for (const key of ['audience', ...(job.audienceOptions ?? [])]) {
      const named = (key === 'audience' ? s.audience : (s as Record<string, unknown>)[key]) as string[] | string | undefined;
      ([] as string[]).concat(named ?? []).forEach((a, i) => {
        if (!(a in audiences)) {
          const p = Array.isArray((entry as Record<string, unknown>)[key]) ? [...base, key, i] : [...base, key];
          at(offsetOf(doc, p), p, `audience '${a}' is not defined; defined: ${Object.keys(audiences).join(', ') || 'none'} (add it under audiences:)`);
        }
      });
      }
      if (s.review) {
        s.review.audience.forEach((a, i) => {
          if (!(a in audiences)) {
            const p = Array.isArray((entry as { review?: { audience?: unknown } }).review?.audience) ? [...base, 'review', 'audience', i] : [...base, 'review', 'audience'];
            at(offsetOf(doc, p), p, `audience '${a}' is not defined; defined: ${Object.keys(audiences).join(', ') || 'none'} (add it under audiences:)`);
          }
        });
        // Reviewers decide by replying: without a reading channel their decisions would never arrive.
        if (!(raw as { inbound?: unknown }).inbound) at(offsetOf(doc, [...base, 'review']), [...base, 'review'], 'a review is decided by reply and needs inbound: (address and secret) to read the replies; add inbound: { address: calls@city.example, secret: ${CRIER_INBOUND_SECRET} }');
      }
      const options: Record<string, unknown> = {};
      for (const key of Object.keys(job.options ?? {})) options[key] = s[key];
      schedules.push({
        id: sid,
        job: job.name,
        audience: s.audience ?? [],
        skipWhenEmpty: s.skipWhenEmpty,
        crons: crons.map((c) => parseCron(c)),
        dates: s.dates ?? [],
        afterLaunch: s.afterLaunch ?? [],
        time: s.time,
        timezone: s.timezone,
        catchUp: s.catchUp,
        enabled: s.enabled,
        window: s.window === false ? undefined : (s.window ?? (top.success ? top.data.mail.window : undefined)),
        unsubscribe: s.unsubscribe,
        review: s.review,
        options,
      });
    }
  }

  const transport = (raw as { mail?: { transport?: unknown } }).mail?.transport ?? 'outbox';
  for (const m of missing) {
    // An unset variable only matters where its value is used.
    if (formatPath(m.path) === 'mail.smtp' && transport !== 'smtp') continue;
    at(m.offset, m.path, `environment variable ${m.name} is not set; set it, or give a default as \${${m.name}:-value}`);
  }
  if (transport === 'smtp' && top.success && !top.data.mail.smtp && !missing.some((m) => formatPath(m.path) === 'mail.smtp')) {
    at(offsetOf(doc, ['mail', 'transport']), ['mail', 'smtp'], 'transport smtp needs mail.smtp: smtp://user:pass@host:port');
  }

  const audiences: CrierConfig['audiences'] = {};
  if (top.success) {
    for (const [name, entries] of Object.entries(top.data.audiences)) {
      audiences[name] = entries.map((entry, i) => {
        if (!('csv' in entry)) return entry;
        const where = ['audiences', name, i, 'csv'];
        const listed = { ...position(offsetOf(doc, where)), path: formatPath(where) };
        // Read now so a bad row refuses the config; kept as its path (see CsvAudience).
        issues.push(...checkCsvAudience(entry.csv, absolute, listed));
        return { csv: path.resolve(path.dirname(absolute), entry.csv), listed };
      });
    }
    const { mail, inbound } = top.data;
    if (mail.bounces && !inbound) at(offsetOf(doc, ['mail', 'bounces']), ['mail', 'bounces'], 'bounces come back through the inbound channels (an IMAP mailbox or the SMTP receiver); add inbound: with its address and secret');
    // The key is read now, so a missing or broken key refuses the config instead of failing every send.
    if (mail.dkim) {
      const where = mail.dkim.privateKeyFile ? ['mail', 'dkim', 'privateKeyFile'] : ['mail', 'dkim', 'privateKey'];
      try {
        const pem = mail.dkim.privateKeyFile ? readFileSync(path.resolve(path.dirname(absolute), mail.dkim.privateKeyFile), 'utf8') : mail.dkim.privateKey!;
        createPrivateKey(pem);
        mail.dkim.privateKey = pem;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        at(offsetOf(doc, where), where, err.code === 'ENOENT' ? `no file '${mail.dkim.privateKeyFile}' (read relative to the config file's folder); write the path of the PEM private key` : `is not a usable PEM private key (${err.message}); generate one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`);
      }
    }
  }

  const admin = top.success ? top.data.http?.admin : undefined;
  if (admin?.usersFile) {
    const where = ['http', 'admin', 'usersFile'];
    const read = readUsersFile(admin.usersFile, absolute, { ...position(offsetOf(doc, where)), path: formatPath(where) });
    issues.push(...read.issues);
    // Kept as read now: the users of the file, after those written in the config.
    for (const [name, hash] of read.users) admin.users[name] = hash;
    if (!read.issues.length && !Object.keys(admin.users).length) at(offsetOf(doc, where), where, `names no user (every line is blank or a # comment), and users: names none: nobody could log in; add a name:hash line (crier hash-password --user NAME)`);
  }

  if (issues.length || !top.success) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(issues);
  }
  const locate = (p: (string | number)[]) => position(offsetOf(doc, p));
  return { ...top.data, audiences, file: absolute, schedules, locate };
}

type At = (offset: number, p: (string | number)[], message: string) => void;

function reportZod(doc: Document, at: At, base: (string | number)[], issue: z.core.$ZodIssue, scheduleKeys?: string[]): void {
  const p = [...base, ...(issue.path as (string | number)[])];
  if (issue.code === 'unrecognized_keys') {
    const allowed = scheduleKeys ?? knownKeys(p);
    for (const key of issue.keys) {
      at(keyOffset(doc, p, key), [...p, key], `unknown key '${key}'; allowed here: ${allowed.join(', ')}`);
    }
    return;
  }
  let message = issue.message;
  // zod's own "Invalid input: …" says neither what is there nor what to write; a schema's own message does.
  if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
    message = issue.input === undefined || issue.input === null ? `is required (${issue.expected})` : `expected ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
  }
  // A bad key of a record (an audience or schedule id): its own check says what to write.
  if (issue.code === 'invalid_key' && issue.issues[0]) message = `'${String(p[p.length - 1])}' is not a valid key here: ${issue.issues[0].message}`;
  const params = issue.code === 'custom' ? (issue.params as { offset?: number; unknownKey?: string } | undefined) : undefined;
  if (params?.unknownKey) return at(keyOffset(doc, p.slice(0, -1), params.unknownKey), p, message);
  at(offsetOf(doc, p, params?.offset ?? null), p, message);
}

const EXPECTED: Record<string, string> = { object: 'a map (key: value)', record: 'a map (key: value)', array: 'a list', string: 'text', number: 'a number', boolean: 'true or false' };

/** What a value in the file is, for "expected a number, not the text 'five'". */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v && typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the text '${redact(v)}'`;
  return String(v);
}

/** The keys the schema accepts at a path of the top-level schema, for "allowed here" hints. */
function knownKeys(p: (string | number)[]): string[] {
  let schema: unknown = topLevelSchema;
  for (const part of p) {
    const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown; innerType?: unknown } }).def;
    if (!def) return [];
    if (def.type === 'default' || def.type === 'optional') schema = def.innerType;
    const d = (schema as { def: typeof def }).def;
    if (d.type === 'object') schema = d.shape?.[part];
    else if (d.type === 'record') schema = d.valueType;
    else if (d.type === 'array') schema = d.element;
    else return [];
  }
  let s = schema as { def?: { type?: string; innerType?: unknown }; shape?: Record<string, unknown> };
  while (s?.def && (s.def.type === 'default' || s.def.type === 'optional')) s = s.def.innerType as typeof s;
  return s?.shape ? Object.keys(s.shape) : [];
}

/** Offset of the node at `p`, or of its nearest existing ancestor; `inner` moves into a string. */
function offsetOf(doc: Document, p: (string | number)[], inner: number | null = null): number {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number, number]; type?: string } | undefined;
    // A whole section (or the section a missing key belongs in) is named by its key line.
    if ((isMap(node) || isSeq(node)) && n > 0 && typeof p[n - 1] === 'string') return keyOffset(doc, p.slice(0, n - 1), p[n - 1] as string);
    if (node && typeof node === 'object' && node.range) {
      if (n === p.length && inner !== null && isScalar(node)) {
        const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
        return node.range[0] + (quoted ? 1 : 0) + inner;
      }
      return node.range[0];
    }
  }
  return 0;
}

/** Offset of `key` in the map at `p` (else of the map, or its nearest existing ancestor). */
export function keyOffset(doc: Document, p: (string | number)[], key: string): number {
  const parent = p.length ? doc.getIn(p, true) : doc.contents;
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return pair.key.range[0];
    }
  }
  if (isSeq(parent) && parent.range) return parent.range[0];
  return offsetOf(doc, p);
}

/**
 * YAML syntax errors, placed where the superadmin has to fix them. The yaml package reports a
 * few mistakes where it gave up rather than where they are:
 * - An unclosed quote or flow collection (`"…`, `'…`, `[…`, `{…`) is reported where the parser
 *   stopped looking for its end, often the end of the file. We point at the quote or bracket
 *   that opens it, found in the CST.
 * - A line indented deeper than the key above it continues that key's plain value, and the
 *   error lands on the value; we point at the deeper line.
 * - An error at a line's leading spaces (a misaligned key) is moved to the key itself.
 * An unclosed opener, a misindented line, a tab or a stray closing bracket derails the parse:
 * everything after it is misread, so errors after the first of these are left out (they would
 * only mislead; the next check finds any that remain).
 */
function syntaxErrors(text: string, errors: readonly YAMLError[]): { offset: number; message: string }[] {
  const openers = unclosedOpeners(text);
  const out: { offset: number; message: string; derails?: boolean }[] = [];
  for (const e of errors) {
    const message = e.message.split('\n')[0];
    let offset = e.pos[0];
    // Which opener this error is about: the quote it misses, or the bracket a flow collection must end with.
    const quote = e.code === 'MISSING_CHAR' ? /^Missing closing (["'])quote/.exec(message)?.[1] : undefined;
    const close = /must (?:be sufficiently indented and )?end with a ([\]}])$/.exec(message)?.[1];
    const want = quote ?? { ']': '[', '}': '{' }[close ?? ''];
    // The nearest unclosed opener of that kind before the error: an opener comes before where its end is missed.
    const opener = want ? openers.filter((o) => o.char === want && o.offset <= offset).pop() : undefined;
    if (opener) {
      out.push({ offset: opener.offset, message: OPENER_MESSAGES[opener.char], derails: true });
      continue;
    }
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const lineEnd = text.indexOf('\n', offset);
    const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    // yaml reports a value continued by a deeper line twice, at the value: as a multi-line key and as a nested map.
    const alsoHere = (code: string) => errors.some((o) => o.code === code && o.pos[0] === e.pos[0]);
    // An unquoted value starting with * (a cron's */15) is an alias to YAML.
    const star = /^[ \t]*(?:- +)?(?:[^\s:#'"][^:#]*: +)?\*/.exec(line);
    if (star && (e.code === 'BAD_ALIAS' || e.code === 'UNEXPECTED_TOKEN')) {
      out.push({ offset: lineStart + star[0].length - 1, message: `${message}: ${STAR}` });
    } else if (e.code === 'BLOCK_AS_IMPLICIT_KEY' && alsoHere('MULTILINE_IMPLICIT_KEY')) {
      // Said once, by the MULTILINE_IMPLICIT_KEY error at the same place.
    } else if (e.code === 'MULTILINE_IMPLICIT_KEY' && alsoHere('BLOCK_AS_IMPLICIT_KEY')) {
      // A value continued by a deeper-indented `key: value` line: that line is the mistake.
      const next = /\n[ \t]*(?=\S)/.exec(text.slice(offset));
      if (next) offset += next.index + next[0].length;
      out.push({ offset, message: `${message}: this line is indented deeper than the key above it, so it is read as part of that value; indent it like the key above`, derails: true });
    } else if (e.code === 'UNEXPECTED_TOKEN' && /token in YAML stream/.test(message)) {
      out.push({ offset, message: `${message}; nothing after it can be read, remove it or match it with an opening bracket`, derails: true });
    } else {
      // At a line's leading spaces (a misaligned key): point at what follows them.
      if (/^ +$/.test(text.slice(lineStart, offset + 1))) offset = lineStart + line.search(/[^ ]|$/);
      const hint =
        e.code === 'BLOCK_AS_IMPLICIT_KEY' ? `; a value with ': ' in it must be quoted, e.g. location: "Room: 2.14"` :
        e.code === 'MULTILINE_IMPLICIT_KEY' ? '; write a key, a colon and a space before its value, e.g. job: council-update' : '';
      out.push({ offset, message: message + hint, derails: e.code === 'BAD_INDENT' || e.code === 'TAB_AS_INDENT' });
    }
  }
  const stop = Math.min(...out.filter((o) => o.derails).map((o) => o.offset));
  // One error per place: an unclosed opener may be missed more than once.
  const seen = new Set<number>();
  return out.filter((o) => o.offset <= stop && !seen.has(o.offset) && seen.add(o.offset)).map(({ offset, message }) => ({ offset, message }));
}

const STAR = `YAML reads a plain value starting with * as an alias; quote it, e.g. cron: "*/15 9 * * 1"`;

const OPENER_MESSAGES: Record<string, string> = {
  '"': 'Missing closing "quote: the value quoted here never ends; close it with " on the same line (write \\" for a quote inside it)',
  "'": "Missing closing 'quote: the value quoted here never ends; close it with ' on the same line (write '' for a quote inside it)",
  '[': 'Flow sequence opened here with [ is never closed; end it with ], e.g. audience: [council, steering]',
  '{': 'Flow map opened here with { is never closed; end it with }, e.g. - { name: Leen Wuyts, email: wijken@gent.be }',
};

/** The opening quote or bracket of each quoted value and flow collection the CST finds unclosed, in file order. */
function unclosedOpeners(text: string): { offset: number; char: string }[] {
  const found: { offset: number; char: string }[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const token = node as CST.Token;
    if (token.type === 'flow-collection') {
      if (token.end[0]?.source !== (token.start.source === '[' ? ']' : '}')) found.push({ offset: token.start.offset, char: token.start.source });
    } else if (token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar') {
      const quote = token.source[0];
      if (token.source.length === 1 || !token.source.endsWith(quote)) found.push({ offset: token.offset, char: quote });
    }
    for (const value of Object.values(node)) walk(value);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return found.sort((a, b) => a.offset - b.offset);
}
