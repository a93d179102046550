/*
 * Start-up: the same commands run as whole processes from the TypeScript source (tsx) and from
 * the build (dist/), interleaved in one run, median of N each. Builds dist/ first when it is
 * missing or older than the source. Target: a command starts in under 0.5 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, distIsCurrent } from '../bin/build.js';
import type { Bench } from './section.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = path.join(ROOT, 'bin/crier.js');
const TARGET_MS = 500;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => x.toFixed(0);

interface Subject {
  label: string;
  args: string[];
  /** The exit code both must end with: a bench of a failing command measures nothing. */
  code: number;
  /** Counted against the target (start-up), or reported beside it (a command's own work). */
  startup: boolean;
}

/** Preloaded into each measured process: its CPU time (user + system, every thread, ms) to fd 3 on exit. */
const CPU_PROBE = 'data:text/javascript,import{writeSync}from"node:fs";process.on("exit",()=>{const u=process.cpuUsage();try{writeSync(3,String((u.user+u.system)/1000))}catch{}})';

/** One whole process: wall and CPU time in ms; `source` picks the bin's path (CRIER_SOURCE=1 or 0), undefined is node alone. */
function time(args: string[], source: boolean | undefined, code: number): { ms: number; cpu: number; stdout: string } {
  const env = { ...process.env, LOG_LEVEL: 'warn', ...(source === undefined ? {} : { CRIER_SOURCE: source ? '1' : '0' }) };
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ['--import', CPU_PROBE, ...(source === undefined ? args : [BIN, ...args])], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const elapsed = performance.now() - t0;
  if (res.status !== code) throw new Error(`crier ${args.join(' ')} (${source ? 'source' : 'build'}) exited ${res.status}, expected ${code}: ${res.stderr}`);
  return { ms: elapsed, cpu: Number(res.output[3]), stdout: res.stdout };
}

export default (async () => {
  const N = Number(process.env.BENCH_STARTUP_RUNS ?? 7);
  let built = '';
  const buildNow = () => {
    const t0 = performance.now();
    build();
    built = ` dist/ was missing or older than the source, so this run built it first (\`npm run build\`, ${((performance.now() - t0) / 1000).toFixed(1)} s).`;
  };
  if (!distIsCurrent()) buildNow();
  // A config check refuses (a cron with no sixth Monday): everything `crier check` loads (the
  // config reader, zod, yaml, pg, the job kinds), the file read and validated, and exit 2, before
  // any platform query or schedule arithmetic: check's start-up.
  const scratch = mkdtempSync(path.join(tmpdir(), 'crier-bench-startup-'));
  const refused = path.join(scratch, 'refused.yaml');
  writeFileSync(refused, readFileSync(path.join(ROOT, 'config/crier.yaml'), 'utf8').replace('1,4,7,10 1#1"', '1,4,7,10 1#6"'));

  const subjects: Subject[] = [
    { label: '`crier --version`', args: ['--version'], code: 0, startup: true },
    { label: '`crier --help`', args: ['--help'], code: 0, startup: true },
    { label: '`crier check` of a config it refuses (loaded, parsed, validated; exit 2)', args: ['check', '--config', refused], code: 2, startup: true },
    { label: '`crier check` of config/crier.yaml (and its work: the demo tenant\'s audiences, every schedule\'s next sends)', args: ['check'], code: 0, startup: false },
  ];
  const load0 = os.loadavg()[0];
  // Warm-up, one of each: tsx's transform cache, the OS's file cache, the demo tenant on first use.
  // A build made while someone saved several files can be inconsistent (and dist/ then stale
  // again): build once more.
  for (let attempt = 1; ; attempt++) {
    try {
      for (const s of subjects) for (const source of [true, false]) time(s.args, source, s.code);
      break;
    } catch (e) {
      if (attempt === 3 || distIsCurrent()) throw e;
      buildNow();
    }
  }
  // Both outputs the same: the build is the same program (check's from a fixed instant, as it lists what comes after it).
  for (const args of [...subjects.slice(0, 3).map((s) => s.args), ['check', '--from', '2027-03-28T00:30:00Z', '--count', '7']]) {
    const code = subjects.find((s) => s.args === args)?.code ?? 0;
    if (time(args, true, code).stdout !== time(args, false, code).stdout) throw new Error(`crier ${args.join(' ')} prints differently from the source and from the build`);
  }
  const node: { ms: number; cpu: number }[] = [];
  const runs = subjects.map(() => ({ source: [] as number[], build: [] as number[], cpu: [] as number[] }));
  // Interleaved, so a change in the machine's load falls on both alike.
  for (let i = 0; i < N; i++) {
    node.push(time(['-e', '0'], undefined, 0));
    subjects.forEach((s, j) => {
      runs[j].source.push(time(s.args, true, s.code).ms);
      const b = time(s.args, false, s.code);
      runs[j].build.push(b.ms);
      runs[j].cpu.push(b.cpu);
    });
  }
  // What bin/crier.js adds to decide: a stat of every source file (the runs above set
  // CRIER_SOURCE, so they skip it; a plain `crier` pays this too).
  rmSync(scratch, { recursive: true, force: true });
  const decide = median(Array.from({ length: 21 }, () => {
    const t0 = performance.now();
    distIsCurrent();
    return performance.now() - t0;
  }));

  const rows = subjects.map((s, j) => {
    const src = median(runs[j].source);
    const bld = median(runs[j].build);
    const cpu = median(runs[j].cpu);
    return { s, src, bld, cpu, row: `| ${s.label} | ${ms(src)} | ${ms(bld)} | ${(src / bld).toFixed(1)}× | ${ms(cpu)} |` };
  });
  const load1 = os.loadavg()[0];
  const markdown = `Each command as a whole process (\`node bin/crier.js …\` in the checkout, Postgres on localhost), from the TypeScript source through tsx (\`CRIER_SOURCE=1\`) and from the build in dist/ (\`CRIER_SOURCE=0\`), interleaved, median of ${N} runs each after a warm-up run: wall time, and the build's CPU time (user and system, all threads), which a busy machine inflates less.${built}

| command | source (tsx) ms | build (dist/) ms | source / build | build CPU ms |
|---|---:|---:|---:|---:|
${rows.map((r) => r.row).join('\n')}
| node alone (\`node -e 0\`) | | ${ms(median(node.map((x) => x.ms)))} | | ${ms(median(node.map((x) => x.cpu)))} |

bin/crier.js deciding whether dist/ is current (a stat of every file under src/, jobs/, email-templates/) adds ${decide.toFixed(1)} ms. dist/ is bundled by esbuild (bin/build.js): each command loads a few files of dist/lib/ instead of hundreds of modules, and only its own: \`--version\` and \`--help\` one (commander bundled in); \`check\` a few dozen: the config reader, zod, yaml, luxon, pg and pino bundled in, and the job kinds; not Handlebars, BullMQ, MJML, fastify or imapflow.

Load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end, on ${os.cpus().length} cores${load1 > os.cpus().length / 2 ? ': a busy machine, so wall times are longer than they would be on an idle one' : ''}; absolute times are this machine's, the ratios hold.`;
  const startup = rows.filter((r) => r.s.startup);
  const slow = startup.filter((r) => r.bld >= TARGET_MS);
  const full = rows.find((r) => !r.s.startup)!;
  const checkStart = rows.find((r) => r.s.startup && r.s.args[0] === 'check')!;
  const name = (r: (typeof rows)[number]) => (r.s.args[0] === 'check' ? "check's start-up" : r.s.args[0]);
  const verdict = `from the build ${startup.map((r) => `${name(r)} ${ms(r.bld)} ms (CPU ${ms(r.cpu)})`).join(', ')}, ${startup.map((r) => `${(r.src / r.bld).toFixed(1)}×`).join(', ')} faster than from the source; target < ${TARGET_MS} ms: ${slow.length ? `not met for ${slow.map(name).join(', ')}` : 'met'}. The whole of \`crier check\` of the shipped config takes ${ms(full.bld)} ms (CPU ${ms(full.cpu)}), ${ms(full.bld - checkStart.bld)} ms (CPU ${ms(full.cpu - checkStart.cpu)}) of it check's own work after start-up`;
  return { title: 'Start-up', markdown, verdict };
}) satisfies Bench;
