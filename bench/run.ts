/*
 * `npm run bench [SECTION ...]`: what Crier's speed and memory claims rest on, measured side
 * by side in one run and reported as ratios (absolute times vary with the machine; ratios
 * hold). Each section is a module of its own; the results are written to BENCHMARKS.md, where
 * a run of some sections replaces only theirs.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench, BenchSection } from './section.ts';

const SECTIONS: Record<string, () => Promise<{ default: Bench }>> = {
  render: () => import('./render.ts'),
  send: () => import('./send.ts'),
  memory: () => import('./memory.ts'),
  summaries: () => import('./summaries.ts'),
  startup: () => import('./startup.ts'),
  tenants: () => import('./tenants.ts'),
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of asked) {
  if (!SECTIONS[name]) {
    console.error(`npm run bench: no section '${name}'; the sections are ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
}
const names = asked.length ? asked : Object.keys(SECTIONS);
// BENCH_OUT: somewhere else than BENCHMARKS.md (the test of the bench writes to a temp file).
const OUT = process.env.BENCH_OUT ? new URL(`file://${path.resolve(process.env.BENCH_OUT)}`) : new URL('../BENCHMARKS.md', import.meta.url);

const results: Array<[string, BenchSection]> = [];
for (const name of names) {
  console.log(`\n== ${name} ==`);
  const bench = (await SECTIONS[name]()).default;
  const section = await bench();
  console.log(section.markdown);
  console.log(`→ ${section.verdict}`);
  results.push([name, section]);
}

// BENCHMARKS.md keeps one block per section, between markers, so a partial run updates its own.
const previous = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
const blockOf = (name: string, s: BenchSection) =>
  `<!-- bench:${name} -->\n## ${s.title}\n\n${s.markdown.trim()}\n\n**Target:** ${s.verdict}\n<!-- /bench:${name} -->`;
const existing = new Map<string, string>();
for (const m of previous.matchAll(/<!-- bench:(\w+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) existing.set(m[1], m[0]);
for (const [name, s] of results) existing.set(name, blockOf(name, s));
const when = new Date().toISOString().slice(0, 10);
const header = `# Benchmarks\n\nWritten by \`npm run bench\` (last run ${when}, on ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}). Each section measures its subjects side by side in one run and reports ratios; absolute figures are this machine's. \`npm run bench SECTION\` reruns one section and replaces its block here.\n`;
const body = Object.keys(SECTIONS).filter((n) => existing.has(n)).map((n) => existing.get(n)).join('\n\n');
writeFileSync(OUT, `${header}\n${body}\n`);
console.log(`\nwrote ${OUT.pathname}`);
