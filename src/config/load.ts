import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parseCron, type CronSpec } from '../schedule/cron.ts';
import { ConfigError, formatPath, type ConfigIssue } from './errors.ts';
import { interpolateEnv } from './env.ts';
import { scheduleBaseShape, topLevelSchema } from './schema.ts';

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
  /** The job kind's own keys, with their defaults. */
  options: Record<string, unknown>;
}

export interface CrierConfig extends Omit<TopLevel, 'schedules'> {
  /** Absolute path of the file this came from. */
  file: string;
  schedules: ScheduleConfig[];
  /** Where a field is in the file, for problems found after loading (e.g. against the platform). */
  locate?: (path: (string | number)[]) => { line: number; column: number };
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

/** Validates config text; `file` is how errors name it. */
export function parseConfig(text: string, file: string, opts: LoadOptions, absolute = file): CrierConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const at = (offset: number, p: (string | number)[], message: string) => {
    const { line, col } = lines.linePos(offset);
    issues.push({ file, line, column: col, path: formatPath(p), message });
  };
  for (const e of doc.errors) at(e.pos[0], [], e.message.split('\n')[0]);
  if (issues.length) throw new ConfigError(issues);

  const missing = interpolateEnv(doc, opts.env ?? process.env);
  const raw = doc.toJS() ?? {};
  const top = topLevelSchema.safeParse(raw);
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
      const parsed = schema.safeParse(entry);
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

  if (issues.length || !top.success) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(issues);
  }
  const locate = (p: (string | number)[]) => {
    const { line, col } = lines.linePos(offsetOf(doc, p));
    return { line, column: col };
  };
  return { ...top.data, file: absolute, schedules, locate };
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
  if (issue.code === 'invalid_type' && (issue.input === undefined || issue.input === null)) message = `is required (${issue.expected})`;
  const params = issue.code === 'custom' ? (issue.params as { offset?: number; unknownKey?: string } | undefined) : undefined;
  if (params?.unknownKey) return at(keyOffset(doc, p.slice(0, -1), params.unknownKey), p, message);
  at(offsetOf(doc, p, params?.offset ?? null), p, message);
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

function keyOffset(doc: Document, p: (string | number)[], key: string): number {
  const parent = p.length ? doc.getIn(p, true) : doc.contents;
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) return pair.key.range[0];
    }
  }
  if (isSeq(parent) && parent.range) return parent.range[0];
  return offsetOf(doc, p);
}
