import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, personSchema, type PersonEntry } from './schema.ts';
import type { ConfigIssue } from './errors.ts';

/**
 * A CSV audience file as the loaded config keeps it: where it is and where the config names it.
 * Its people are read when a run is prepared (csvPeople), not held by every process for as long
 * as it runs: a worker with a 100,000-person list would otherwise carry it for days.
 */
export interface CsvAudience {
  /** Absolute path of the file. */
  csv: string;
  /** Where the config lists it (for errors). */
  listed: Omit<ConfigIssue, 'message'>;
}

/** Columns that hold several values, separated by `;` (a comma is the CSV's own separator). */
const LISTS = new Set(['folders', 'projects']);

/**
 * People per page that csvPeople yields; a fan-out writes a page in one statement. Smaller pages
 * peak lower: fewer rows are held across a page's round trips, so less of them reaches V8's old
 * generation before a full collection (100,000 people: 500 a page peaked 20 MB below 2,000).
 */
export const CSV_PAGE = 1000;

/**
 * Reads a CSV audience file whole: a header of person keys, then one person per row, each checked
 * as a person in the YAML is. Problems name the CSV file, the row's line and the column, and where
 * the config lists the file (`listed`, which is also where an unreadable file is reported).
 * Empty cells are absent values. For small files and tests; a run reads pages (csvPeople) and a
 * config check keeps no people (checkCsvAudience).
 */
export function readCsvAudience(file: string, configFile: string, listed: Omit<ConfigIssue, 'message'>): { people: PersonEntry[]; issues: ConfigIssue[] } {
  const people: PersonEntry[] = [];
  const pages = csvPeople(file, configFile, listed);
  for (let next = pages.next(); ; next = pages.next()) {
    if (next.done) return next.value.length ? { people: [], issues: next.value } : { people, issues: [] };
    for (const p of next.value) people.push(p);
  }
}

/** The problems of a CSV audience file, reading it without keeping its people (what `crier check` and every config load do). */
export function checkCsvAudience(file: string, configFile: string, listed: Omit<ConfigIssue, 'message'>): ConfigIssue[] {
  const pages = csvPeople(file, configFile, listed);
  for (let next = pages.next(); ; next = pages.next()) if (next.done) return next.value;
}

/**
 * The people of a CSV audience file, `pageSize` at a time, in file order; returns its problems
 * (none when every row is a person). Rows after a bad one are still checked (every problem is
 * reported at once) but no longer yielded: a caller that sees problems refuses the whole file.
 */
export function* csvPeople(file: string, configFile: string, listed: Omit<ConfigIssue, 'message'>, pageSize = CSV_PAGE): Generator<PersonEntry[], ConfigIssue[]> {
  const listedAt = `${listed.path}, ${listed.file} line ${listed.line}`;
  const absolute = path.resolve(path.dirname(configFile), file);
  const shown = path.relative(process.cwd(), absolute) || absolute;
  const issues: ConfigIssue[] = [];
  const fail = (line: number, column: number, field: string, message: string) => issues.push({ file: shown, line, column, path: field, message: `${message} (the CSV file of ${listedAt})` });
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (e) {
    return [{ ...listed, message: `cannot read '${shown}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the path is relative to the config file's folder` }];
  }
  let header: string[] = [];
  // Rows are checked only under a header that names the person keys (else line 1 is the problem).
  let headerOk = false;
  const useHeader = (names: string[]) => {
    header = names.map((n) => n.trim());
    headerOk = header.includes('email') && header.includes('name') && header.every((h) => CSV_COLUMNS.includes(h));
    return header;
  };
  let page: PersonEntry[] = [];
  const row = (record: Record<string, string>, line: number) => {
    const entry: Record<string, unknown> = {};
    for (const key of header) {
      const value = record[key];
      if (value === undefined || value === '') continue;
      entry[key] = LISTS.has(key) ? value.split(';').map((v) => v.trim()).filter(Boolean) : value;
    }
    // Most rows are plainly a person: the same rules as personSchema, without building zod's
    // result and issue objects for each of 100,000 rows. Anything else goes through the schema,
    // which gives the messages (a row this accepts, the schema accepts too).
    if (isPlainPerson(entry)) {
      if (!issues.length) page.push(entry as PersonEntry);
      return;
    }
    const parsed = personSchema.safeParse(entry);
    if (parsed.success) {
      if (!issues.length) page.push(parsed.data);
      return;
    }
    for (const i of parsed.error.issues) {
      const column = String(i.path[0] ?? '');
      fail(line, header.indexOf(column) + 1, column, i.code === 'invalid_type' && i.input === undefined ? 'is empty; every row needs one' : i.message);
    }
  };

  // The plain lines of the file (most of them, in most files) are split here, a line at a time;
  // from the first line this does not handle exactly as csv-parse would (see plainFields), the
  // rest of the file is csv-parse's, which also words every syntax error.
  const fast = new PlainCsv(text);
  let rest: { text: string } | undefined;
  for (;;) {
    const at = fast.next();
    if (at === 'end') break;
    if (at === 'other') {
      rest = { text: fast.remainder() };
      break;
    }
    if (!header.length) {
      useHeader(at.fields);
      if (!headerOk) break;
      continue;
    }
    if (at.fields.length !== header.length) {
      rest = { text: fast.remainder() };
      break;
    }
    const record: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) record[header[i]] = at.fields[i];
    row(record, at.line);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (rest) {
    // csv-parse calls back for each row, so its rows are kept until it is done: a file this far
    // off the plain form pays for it in memory, never in correctness.
    const rows: { record: Record<string, string>; line: number }[] = [];
    try {
      parse(rest.text, {
        bom: true,
        trim: true,
        skip_empty_lines: true,
        columns: (names: string[]) => (header.length ? header : useHeader(names)),
        on_record: (record: Record<string, string>, context: { lines: number }) => {
          if (headerOk) rows.push({ record, line: context.lines });
          return null;
        },
      });
    } catch (e) {
      const err = e as Error & { lines?: number };
      return [{ file: shown, line: err.lines ?? 1, column: 1, path: '(CSV syntax)', message: `${err.message.replace(/^Invalid Record Length: /, '')}; a value with a comma or a quote is written in double quotes, with "" for a quote` }];
    }
    for (const r of rows) {
      row(r.record, r.line);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
  }
  const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
  for (const h of unknown) fail(1, header.indexOf(h) + 1, h, `unknown column '${h}'; the columns are ${CSV_COLUMNS.join(', ')}`);
  for (const required of ['email', 'name']) if (!header.includes(required)) fail(1, 1, required, `the header has no '${required}' column; the first line names the columns: ${CSV_COLUMNS.join(', ')}`);
  if (issues.length || !headerOk) return issues;
  if (page.length) yield page;
  return [];
}

/** personSchema's e-mail pattern (zod's), so the quick check and the schema agree on every address. */
const EMAIL = (personSchema.shape.email as unknown as { _zod: { def: { pattern?: RegExp } } })._zod.def.pattern;
const COPY = /^[a-z][a-z0-9-]*$/;
/** Locales seen valid (a file has a handful, its rows repeat them). */
const LOCALES = new Set<string>();

/** True for an entry personSchema surely accepts as it is (a subset of its rules); false sends it through the schema. */
function isPlainPerson(e: Record<string, unknown>): boolean {
  if (!EMAIL || typeof e.name !== 'string' || typeof e.email !== 'string' || !EMAIL.test(e.email)) return false;
  if (e.copy !== undefined && !COPY.test(e.copy as string)) return false;
  if ((e.folders !== undefined && !(e.folders as string[]).length) || (e.projects !== undefined && !(e.projects as string[]).length)) return false;
  const locale = e.locale as string | undefined;
  if (locale === undefined || LOCALES.has(locale)) return true;
  try {
    if (Intl.getCanonicalLocales(locale).length !== 1) return false;
  } catch {
    return false;
  }
  LOCALES.add(locale);
  return true;
}

/**
 * The lines of a CSV text that are plain: fields without surrounding blanks, each either bare
 * (no quote in it) or wholly in double quotes on one line ("" for a quote), lines ending all in
 * \n or all in \r\n, empty lines skipped. csv-parse (with bom, trim and skip_empty_lines, as
 * Crier reads audiences) gives those lines exactly these fields, about five times slower, which
 * is most of reading 100,000 people. Anything else (a quoted value over several lines, a blank
 * around a value, a stray quote, a lone \r) is left to csv-parse: `next()` says 'other' and
 * `remainder()` is the text for it, the lines already read blanked so its line numbers hold.
 */
class PlainCsv {
  private at = 0;
  private line = 0;
  /** Where the line that next() returned last starts, and its number. */
  private lineStart = 0;
  private headerLine = 0;
  private headerText = '';
  /** '\r\n' or '\n', from the first line; undefined before it. */
  private newline?: string;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.at = 1;
  }

  next(): { fields: string[]; line: number } | 'end' | 'other' {
    const text = this.text;
    for (;;) {
      if (this.at >= text.length) return 'end';
      this.lineStart = this.at;
      this.line++;
      const nl = text.indexOf('\n', this.at);
      let end = nl < 0 ? text.length : nl;
      this.at = nl < 0 ? text.length : nl + 1;
      const crlf = end > this.lineStart && text.charCodeAt(end - 1) === 13;
      if (nl >= 0) {
        this.newline ??= crlf ? '\r\n' : '\n';
        if ((this.newline === '\r\n') !== crlf) return 'other';
      }
      if (crlf) end--;
      // csv-parse takes the first line end it meets (\r\n, \n or a lone \r) as every line's.
      if (this.line === 1 && text.slice(this.lineStart, end).includes('\r')) return 'other';
      if (end === this.lineStart) continue; // an empty line
      const fields = plainFields(text.slice(this.lineStart, end));
      if (!fields) return 'other';
      if (!this.headerLine) {
        this.headerLine = this.line;
        this.headerText = text.slice(this.lineStart, end);
      }
      return { fields, line: this.line };
    }
  }

  /**
   * The text for csv-parse from the line next() returned last: the header as read here, and the
   * rows before that line as empty lines, which it skips and counts; before a header, the whole text.
   */
  remainder(): string {
    if (!this.headerLine || this.line <= this.headerLine) return this.text;
    const nl = this.newline ?? '\n';
    return `${nl.repeat(this.headerLine - 1)}${this.headerText}${nl.repeat(this.line - this.headerLine)}${this.text.slice(this.lineStart)}`;
  }
}

/** A plain line's fields (see PlainCsv), or undefined when the line is not plain. */
function plainFields(line: string): string[] | undefined {
  const fields = line.indexOf('"') < 0 ? line.split(',') : quotedFields(line);
  if (!fields) return undefined;
  for (const f of fields) if (f.length && (blank(f.charCodeAt(0)) || blank(f.charCodeAt(f.length - 1)))) return undefined;
  return fields;
}

/** Fields of a line with quotes, each bare or wholly quoted; undefined otherwise (left to csv-parse). */
function quotedFields(line: string): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; ; ) {
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q < 0) return undefined; // continues on the next line
        if (line.charCodeAt(q + 1) === 34) {
          value += line.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += line.slice(from, q);
        i = q + 1;
        break;
      }
      // A quoted value is kept as written, blanks and all, where a bare one is trimmed; rather
      // than telling the two apart later, such a line is left to csv-parse.
      if (value.length && (blank(value.charCodeAt(0)) || blank(value.charCodeAt(value.length - 1)))) return undefined;
      out.push(value);
      if (i === line.length) break;
      if (line.charCodeAt(i) !== 44) return undefined;
      i++;
      if (i === line.length) {
        out.push('');
        break;
      }
    } else {
      const comma = line.indexOf(',', i);
      const value = line.slice(i, comma < 0 ? line.length : comma);
      if (value.includes('"')) return undefined;
      out.push(value);
      if (comma < 0) break;
      i = comma + 1;
      if (i === line.length) {
        out.push('');
        break;
      }
    }
  }
  return out;
}

/** A character csv-parse's trim or JavaScript's trimEnd might take off a value's edge (controls, blanks, any Unicode space): such lines are csv-parse's. */
function blank(c: number): boolean {
  return c <= 32 || (c >= 127 && c <= 160) || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
