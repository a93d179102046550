import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../src/config/errors.ts';
import { loadConfig } from '../src/config/load.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier } from './helpers/cli.ts';

/*
 * A corpus of broken configs, each a complete config with one mistake a superadmin makes. The
 * first line of each file says where the loader must refuse it:
 *
 *   # expect: line <N>[, column <C>] <path or -> : <regex fragment of the message>
 *
 * N counts the file's own lines, that comment included; `-` is a YAML syntax error (no field
 * path). Every variable the files use has a default (${X:-value}), so they load with an empty
 * environment; only the file that tests an unset variable leaves one out.
 */

const DIR = 'test/fixtures/configs/broken';
const EXPECT = /^# expect: line (\d+)(?:, column (\d+))? (.+?) : (.+)$/;

interface Expectation {
  line: number;
  column?: number;
  path: string;
  message: RegExp;
}

function expectationOf(file: string): Expectation {
  const first = readFileSync(file, 'utf8').split('\n')[0];
  const m = EXPECT.exec(first);
  if (!m) throw new Error(`${file}: the first line must be '# expect: line N[, column C] PATH|- : REGEX', not '${first}'`);
  return { line: Number(m[1]), column: m[2] ? Number(m[2]) : undefined, path: m[3] === '-' ? '' : m[3], message: new RegExp(m[4]) };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => path.join(DIR, f));

async function refusal(file: string): Promise<ConfigIssue[]> {
  try {
    loadConfig(file, { jobs: await loadJobKinds(), env: {} });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

describe('the corpus of broken configs', () => {
  it('has at least 30 files, named NN-what.yaml, each with its expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const f of files) {
      expect(path.basename(f)).toMatch(/^\d{2}-[a-z0-9-]+\.yaml$/);
      expect(() => expectationOf(f)).not.toThrow();
    }
  });

  it.each(files)('%s is refused at its file, line and column', async (file) => {
    const expected = expectationOf(file);
    const issues = await refusal(file);
    const [first] = issues;
    const lines = readFileSync(file, 'utf8').split('\n').length;
    // Every issue is inside the file, never at line 0 or past its end.
    for (const i of issues) {
      expect(i.file).toBe(file);
      expect(i.line).toBeGreaterThan(0);
      expect(i.line).toBeLessThanOrEqual(lines);
      expect(i.column).toBeGreaterThan(0);
    }
    expect({ line: first.line, ...(expected.column ? { column: first.column } : {}), path: first.path }, first.message).toEqual({
      line: expected.line,
      ...(expected.column ? { column: expected.column } : {}),
      path: expected.path,
    });
    expect(first.message).toMatch(expected.message);
  });

  it.each(files.filter((f) => /unclosed/.test(f)))('%s points at the quote or bracket that opens what is never closed', async (file) => {
    const [first] = await refusal(file);
    const opened = readFileSync(file, 'utf8').split('\n')[first.line - 1][first.column - 1];
    expect(['"', "'", '[', '{']).toContain(opened);
  });
});

describe('crier check with a broken config', () => {
  it('exits 2 and prints file, line, column and what to write, where an unclosed quote opens', async () => {
    const file = path.join(DIR, '02-unclosed-quote-in-cron.yaml');
    const { line, column } = expectationOf(file);
    const checked = await crier(['check', '--config', file]);
    expect(checked.code).toBe(2);
    expect(checked.stdout).toBe('');
    expect(checked.stderr).toContain('The config is refused; nothing was changed.');
    expect(checked.stderr).toContain(`${file}: line ${line}, column ${column}, (YAML syntax): Missing closing "quote: the value quoted here never ends; close it with "`);
  });
});
