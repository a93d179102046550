import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/* `npm run bench` keeps running as the code changes (its figures are read by people, not asserted). */
describe('npm run bench', () => {
  it('runs and reports its ratios', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts'], { env: { ...process.env, BENCH_RECIPIENTS: '3' }, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(out).toMatch(/ratio: compile-once is \d+× faster/);
  });
});
