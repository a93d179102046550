import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * `npm run bench` keeps running as the code changes: its figures are read by people, not
 * asserted, but its sections must still measure what they say. Tiny sizes here; the send
 * section still starts real worker processes against a real SMTP sink and fails on a
 * recipient who got two e-mails.
 */
describe('npm run bench', () => {
  it('runs the render, send and memory sections and writes their blocks', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'crier-bench-')), 'BENCHMARKS.md');
    const env = { ...process.env, BENCH_OUT: out, BENCH_RECIPIENTS: '3', BENCH_SEND_RECIPIENTS: '30', BENCH_SEND_WORKERS: '1,2', BENCH_MEMORY_SIZES: '20,40', BENCH_LOAD_PEOPLE: '200' };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'render', 'send', 'memory'], { env, timeout: 240_000 }, (err, so, se) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve(so))),
    );
    const written = readFileSync(out, 'utf8');
    for (const title of ['## Send path, end to end', '## Memory and large audiences']) expect(written).toContain(title);
    expect(written).toMatch(/\| `crier run --wait`, one process .*\| \d+ \| \d\.\d\d \| \d+\.\d ms \|/);
    expect(written).toMatch(/\| 2 × `crier start` \+ `crier run` \| \d+ \|/);
    expect(written).toMatch(/\| 40 \| \d+ MB \|/);
    expect(written).toMatch(/\| a CSV file .* \| \d\.\d\d s \| \d+ MB \|/);
    expect(stdout).toMatch(/→ one process reaches \d\.\d\d of the bare pool/);
  }, 300_000);
});
