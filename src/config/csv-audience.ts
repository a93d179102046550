import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, personSchema, type PersonEntry } from './schema.ts';
import type { ConfigIssue } from './errors.ts';

/**
 * A CSV audience file as the loaded config keeps it: where it is and where the config names it.
 * Its people are read when a run is prepared (readCsvAudience), not held by every process for
 * as long as it runs: a worker with a 100,000-person list would otherwise carry it for days.
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
 * Reads a CSV audience file: a header of person keys, then one person per row, each checked as a
 * person in the YAML is. Problems name the CSV file, the row's line and the column, and where
 * the config lists the file (`listed`, which is also where an unreadable file is reported).
 * Empty cells are absent values.
 */
export function readCsvAudience(file: string, configFile: string, listed: Omit<ConfigIssue, 'message'>): { people: PersonEntry[]; issues: ConfigIssue[] } {
  const listedAt = `${listed.path}, ${listed.file} line ${listed.line}`;
  const absolute = path.resolve(path.dirname(configFile), file);
  const shown = path.relative(process.cwd(), absolute) || absolute;
  const issues: ConfigIssue[] = [];
  const fail = (line: number, column: number, field: string, message: string) => issues.push({ file: shown, line, column, path: field, message: `${message} (the CSV file of ${listedAt})` });
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (e) {
    return { people: [], issues: [{ ...listed, message: `cannot read '${shown}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the path is relative to the config file's folder` }] };
  }
  let header: string[] = [];
  // Rows are checked only under a header that names the person keys (else line 1 is the problem).
  let headerOk = false;
  const people: PersonEntry[] = [];
  try {
    // Each row is checked as it is read (on_record): 100,000 rows never sit in memory as text and as people at once.
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      columns: (names: string[]) => {
        header = names.map((n) => n.trim());
        headerOk = header.includes('email') && header.includes('name') && header.every((h) => CSV_COLUMNS.includes(h));
        return header;
      },
      on_record: (record: Record<string, string>, context: { lines: number }) => {
        if (!headerOk) return null;
        const entry: Record<string, unknown> = {};
        for (const key of header) {
          const value = record[key];
          if (value === undefined || value === '') continue;
          entry[key] = LISTS.has(key) ? value.split(';').map((v) => v.trim()).filter(Boolean) : value;
        }
        const parsed = personSchema.safeParse(entry);
        if (parsed.success) people.push(parsed.data);
        else {
          for (const i of parsed.error.issues) {
            const column = String(i.path[0] ?? '');
            fail(context.lines, header.indexOf(column) + 1, column, i.code === 'invalid_type' && i.input === undefined ? 'is empty; every row needs one' : i.message);
          }
        }
        return null;
      },
    });
  } catch (e) {
    const err = e as Error & { lines?: number };
    return { people: [], issues: [{ file: shown, line: err.lines ?? 1, column: 1, path: '(CSV syntax)', message: `${err.message.replace(/^Invalid Record Length: /, '')}; a value with a comma or a quote is written in double quotes, with "" for a quote` }] };
  }
  const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
  for (const h of unknown) fail(1, header.indexOf(h) + 1, h, `unknown column '${h}'; the columns are ${CSV_COLUMNS.join(', ')}`);
  for (const required of ['email', 'name']) if (!header.includes(required)) fail(1, 1, required, `the header has no '${required}' column; the first line names the columns: ${CSV_COLUMNS.join(', ')}`);
  if (!headerOk) return { people: [], issues };
  return { people, issues };
}
