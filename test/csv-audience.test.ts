import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvPeople, readCsvAudience } from '../src/config/csv-audience.ts';
import { CSV_COLUMNS, personSchema } from '../src/config/schema.ts';
import type { ConfigIssue } from '../src/config/errors.ts';

const LISTED = { file: 'crier.yaml', line: 3, column: 5, path: 'audiences.x[0].csv' };

/**
 * The reader as it was before plain lines were split by hand: csv-parse for every line, the
 * schema for every row. The reader must give exactly its people and its problems.
 */
function reference(file: string): { people: unknown[]; issues: ConfigIssue[] } {
  const shown = path.relative(process.cwd(), file) || file;
  const listedAt = `${LISTED.path}, ${LISTED.file} line ${LISTED.line}`;
  const issues: ConfigIssue[] = [];
  const fail = (line: number, column: number, field: string, message: string) => issues.push({ file: shown, line, column, path: field, message: `${message} (the CSV file of ${listedAt})` });
  let header: string[] = [];
  let headerOk = false;
  const people: unknown[] = [];
  try {
    parse(readFileSync(file, 'utf8'), {
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
          entry[key] = key === 'folders' || key === 'projects' ? value.split(';').map((v) => v.trim()).filter(Boolean) : value;
        }
        const parsed = personSchema.safeParse(entry);
        if (parsed.success) people.push(parsed.data);
        else for (const i of parsed.error.issues) fail(context.lines, header.indexOf(String(i.path[0] ?? '')) + 1, String(i.path[0] ?? ''), i.code === 'invalid_type' && i.input === undefined ? 'is empty; every row needs one' : i.message);
        return null;
      },
    });
  } catch (e) {
    const err = e as Error & { lines?: number };
    return { people: [], issues: [{ file: shown, line: err.lines ?? 1, column: 1, path: '(CSV syntax)', message: `${err.message.replace(/^Invalid Record Length: /, '')}; a value with a comma or a quote is written in double quotes, with "" for a quote` }] };
  }
  for (const h of header.filter((x) => !CSV_COLUMNS.includes(x))) fail(1, header.indexOf(h) + 1, h, `unknown column '${h}'; the columns are ${CSV_COLUMNS.join(', ')}`);
  for (const required of ['email', 'name']) if (!header.includes(required)) fail(1, 1, required, `the header has no '${required}' column; the first line names the columns: ${CSV_COLUMNS.join(', ')}`);
  if (!headerOk) return { people: [], issues };
  return issues.length ? { people: [], issues } : { people, issues };
}

const dir = mkdtempSync(path.join(tmpdir(), 'crier-csv-reader-'));
let n = 0;
function both(text: string) {
  const file = path.join(dir, `f${n++}.csv`);
  writeFileSync(file, text);
  return { ours: readCsvAudience(file, file, LISTED), theirs: reference(file) };
}

const CASES: Record<string, string> = {
  plain: 'email,name,locale\na@x.be,Ann,nl-BE\nb@x.be,Bert,fr-BE\n',
  'no final newline': 'email,name\na@x.be,Ann',
  bom: '\ufeffemail,name,folders\na@x.be,Ann,wijken; jeugd\n',
  'CRLF lines': 'email,name,locale\r\na@x.be,Ann,nl-BE\r\n\r\nb@x.be,"Peeters, Bert",en\r\n',
  'mixed line ends': 'email,name\r\na@x.be,Ann\nb@x.be,Bert\r\n',
  'lone CR in the header': 'email,name\rmore\na@x.be,Ann\n',
  'lone CR at a line end': 'email,name\na@x.be,Ann\r\nb@x.be,Bert\n',
  'quoted values': 'email,name\n"a@x.be","Wuyts, Leen"\nb@x.be,"Say ""hi"""\nc@x.be,""\n',
  'quoted blanks kept': 'email,name\na@x.be," Ann "\n',
  'blanks trimmed': 'email , name\n a@x.be ,\tAnn \n',
  'a value over two lines': 'email,name\na@x.be,"Ann\nAnders"\nb@x.be,Bert\nnope,Carl\n',
  'stray quote': 'email,name\na@x.be,An"n\nb@x.be,Bert\n',
  'quote not closed': 'email,name\na@x.be,"Ann\n',
  'text after a closing quote': 'email,name\na@x.be,"Ann"x\n',
  'too many values': 'email,name\na@x.be,Ann\nb@x.be,Bert,extra\n',
  'too few values': 'email,name,locale\na@x.be,Ann\n',
  'empty lines before the header': '\n\nemail,name\n\na@x.be,Ann\n\n',
  'blank line': 'email,name\na@x.be,Ann\n   \nb@x.be,Bert\n',
  'bad rows': 'email,name,locale,copy,folders\nnope,Ann,nl-BE,,\nb@x.be,,xx-invalid-locale-tag-,,\nc@x.be,Carl,en,IT,\nd@x.be,Dirk,en,it,;\ne@x.be,Eva,en,it,a;b\n',
  'unknown column': 'email,name,phone\na@x.be,Ann,1\n',
  'no name column': 'email,locale\na@x.be,en\n',
  'trailing comma': 'email,name,locale\na@x.be,Ann,\n',
  'non-breaking space at an edge': 'email,name\na@x.be,Ann\u00a0\n',
  'empty file': '',
  'header only': 'email,name\n',
  'duplicate header': 'email,name,name\na@x.be,Ann,Anna\n',
};

describe('the CSV audience reader', () => {
  for (const [name, text] of Object.entries(CASES)) {
    it(`reads as csv-parse and the schema do: ${name}`, () => {
      const { ours, theirs } = both(text);
      expect(ours).toEqual(theirs);
    });
  }

  it('reads random files as csv-parse and the schema do', () => {
    // Values drawn from what breaks CSV readers: separators, quotes, blanks, line ends.
    const bits = ['a', 'b@x.be', 'c@y.org', 'Ann', ' ', '\t', ',', '"', '""', ';', '\n', '\r\n', 'nl-BE', 'it', '\u00a0', 'x y', '', 'é'];
    let seed = 7;
    const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % k);
    for (let f = 0; f < 300; f++) {
      const header = ['email', 'name', 'locale', 'copy', 'folders'].slice(0, 2 + rand(4)).join(',');
      const lines = [header];
      for (let r = 0; r < 1 + rand(6); r++) {
        const cells = [];
        for (let c = 0; c < header.split(',').length; c++) {
          let v = '';
          for (let k = rand(4); k > 0; k--) v += bits[rand(bits.length)];
          if (c === 0 && rand(3)) v = `p${r}@x.be`;
          cells.push(rand(4) === 0 ? `"${v.replaceAll('"', '""')}"` : v);
        }
        lines.push(cells.join(','));
      }
      const text = lines.join(rand(5) === 0 ? '\r\n' : '\n') + (rand(2) ? '\n' : '');
      const { ours, theirs } = both(text);
      expect(ours, JSON.stringify(text)).toEqual(theirs);
    }
  });

  it('yields a big file in pages, each row once, and refuses it whole for one bad row', () => {
    const rows = ['email,name,locale'];
    for (let i = 0; i < 5000; i++) rows.push(`r${i}@x.be,Person ${i},${i % 2 ? 'nl-BE' : 'en'}`);
    const file = path.join(dir, 'big.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const sizes: number[] = [];
    const pages = csvPeople(file, file, LISTED, 2000);
    let next = pages.next();
    for (; !next.done; next = pages.next()) sizes.push(next.value.length);
    expect(sizes).toEqual([2000, 2000, 1000]);
    expect(next.value).toEqual([]);
    rows[4000] = 'r3999-at-x.be,Bad,en';
    writeFileSync(file, `${rows.join('\n')}\n`);
    const { people, issues } = readCsvAudience(file, file, LISTED);
    expect(people).toEqual([]);
    expect(issues.map((i) => [i.line, i.column, i.path])).toEqual([[4001, 1, 'email']]);
    expect(issues[0].message).toMatch(/'r3999-at-x.be' is not an e-mail address \(the CSV file of audiences\.x\[0\]\.csv, crier\.yaml line 3\)/);
  });
});
