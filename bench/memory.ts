/*
 * Peak RSS of one `crier run --wait` process (start-up, fan-out, every send) at 1,000, 10,000
 * and 100,000 recipients of the council update (the audience a CSV file), to a local SMTP sink;
 * and how long a config with 100,000 people takes to read, as a YAML list and as a CSV file.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Bench } from './section.ts';
import { cleanSlate, ensureBuild, ROOT, spawnCrier, startSink, writeBenchConfig } from './lib/harness.ts';

const SIZES = (process.env.BENCH_MEMORY_SIZES ?? '1000,10000,100000').split(',').filter(Boolean).map(Number);
const LOAD_SIZE = Number(process.env.BENCH_LOAD_PEOPLE ?? 100_000);
const NAME = 'crier_bench_memory';
const TARGET_MB = 300;

function loadTime(configFile: string): { ms: number; people: number; peakMB: number } {
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/load-config.ts'), configFile], { cwd: ROOT, maxBuffer: 1 << 20 }).toString());
}

export default (async () => {
  ensureBuild();
  const sink = await startSink();
  const rows: string[] = [];
  const peaks: number[] = [];
  try {
    for (const [i, n] of SIZES.entries()) {
      await cleanSlate(NAME);
      sink.reset();
      const configFile = writeBenchConfig({ port: sink.port, recipients: n, name: NAME });
      const t0 = Date.now();
      const run = spawnCrier(['run', 'council-bench', '--config', configFile, '--at', `2026-02-${String(i + 2).padStart(2, '0')}T09:00`, '--wait', '--timeout', '7200']);
      const [done, exit] = await Promise.all([Promise.race([sink.expect(n), run.exited.then(() => undefined)]), run.exited]);
      if (!done || exit.code !== 0) throw new Error(`crier run --wait for ${n} recipients exited ${exit.code}: ${exit.stderr}`);
      peaks.push(exit.peakMB);
      rows.push(`| ${n.toLocaleString('en')} | ${exit.peakMB.toFixed(0)} MB | ${((Date.now() - t0) / 1000).toFixed(1)} s |`);
    }
  } finally {
    sink.close();
    await cleanSlate(NAME);
  }
  const yaml = loadTime(writeBenchConfig({ port: 25, recipients: LOAD_SIZE, name: NAME, yaml: true }));
  const csv = loadTime(writeBenchConfig({ port: 25, recipients: LOAD_SIZE, name: NAME }));
  const worst = Math.max(...peaks);
  const flat = worst / peaks[0];
  const markdown = [
    'One `crier run --wait` process sending the council update to N people (a CSV audience) through a local SMTP sink; peak RSS as the kernel counts it (`maxRSS`).',
    '',
    '| recipients | peak RSS | wall time |',
    '|---:|---:|---:|',
    ...rows,
    '',
    `Reading a config with ${LOAD_SIZE.toLocaleString('en')} people (each command does, in a process of its own):`,
    '',
    '| audience written as | read in | peak RSS |',
    '|---|---:|---:|',
    `| a YAML list in the config | ${(yaml.ms / 1000).toFixed(2)} s | ${yaml.peakMB.toFixed(0)} MB |`,
    `| a CSV file (\`- { csv: people.csv }\`) | ${(csv.ms / 1000).toFixed(2)} s | ${csv.peakMB.toFixed(0)} MB |`,
  ].join('\n');
  const met = worst < TARGET_MB && csv.ms < 1000;
  return { title: 'Memory and large audiences', markdown, verdict: `peak RSS at most ${worst.toFixed(0)} MB (target < ${TARGET_MB} MB, flat: ${flat.toFixed(2)}× from the smallest to the largest run); ${LOAD_SIZE.toLocaleString('en')} people read from CSV in ${(csv.ms / 1000).toFixed(2)} s (target < 1 s): ${met ? 'met' : 'not met'}` };
}) satisfies Bench;
