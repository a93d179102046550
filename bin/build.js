#!/usr/bin/env node
/*
 * `npm run build`: Crier compiled into dist/, which bin/crier.js runs when it is current.
 *
 * dist/ mirrors the source tree: src/ and jobs/ compiled by tsc (tsconfig.build.json, imports
 * of ./x.ts written as ./x.js), and every file there that is not TypeScript (the ledger's
 * migrations, the demo schema, a job kind's queries.sql) copied beside its module, with
 * email-templates/ as dist/email-templates/. So a module finds its files at the same relative
 * place from dist/ as from the source, and dist/ needs nothing else of the checkout (the
 * container image is dist/, config/ and the production dependencies).
 *
 * This module also says, cheaply (a stat of every source file, a millisecond or two), whether
 * dist/ is current: built after the last change to anything it is built from.
 *
 *   node bin/build.js              build into dist/
 *   node bin/build.js --out DIR    build into DIR (tests)
 *   node bin/build.js --prepare    the npm `prepare` step (npm ci): build, unless there is no
 *                                  source (an image's production install) or no TypeScript
 *                                  (npm ci --omit=dev: the command then runs the source)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package: where package.json, src/, jobs/, email-templates/ and dist/ are. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
/** What dist/ is built from: a change to any file or folder here makes dist/ stale. */
const SOURCES = ['src', 'jobs', 'email-templates', 'tsconfig.json', 'tsconfig.build.json'];
/** Folders copied whole into the output (everything in them is read at run time). */
const ASSETS = ['email-templates'];
/** Written last; its mtime is when the build read its sources. */
const STAMP = '.built';

/** A folder's entries; none when it went away since it was seen (an editor's temporary folder). */
function entries(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The newest mtime (ms) of every file and folder under the sources. */
export function newestSource(root = ROOT) {
  let newest = 0;
  const visit = (p) => {
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) return;
    if (s.mtimeMs > newest) newest = s.mtimeMs;
    // A folder's own mtime changes when a file in it is added, removed or renamed.
    if (s.isDirectory()) for (const e of entries(p)) visit(path.join(p, e));
  };
  for (const s of SOURCES) visit(path.join(root, s));
  return newest;
}

/** When dist/ was built (its sources as of then), or undefined when there is no complete build. */
export function builtAt(dist = DIST) {
  return statSync(path.join(dist, STAMP), { throwIfNoEntry: false })?.mtimeMs;
}

/**
 * Whether bin/crier.js should run dist/: it is complete and nothing it is built from changed
 * since. Without the source (an installed image: dist/ only) a complete dist/ is current.
 */
export function distIsCurrent(root = ROOT) {
  const at = builtAt(path.join(root, 'dist'));
  if (at === undefined) return false;
  if (!existsSync(path.join(root, 'src'))) return true;
  return newestSource(root) <= at;
}

/**
 * Builds into `out` (default dist/). The build is made beside it and swapped in whole, so a
 * command already running from dist/ (its modules load on demand) never finds it half made,
 * and a removed job kind leaves no stale module behind.
 */
export function build(out = DIST) {
  const started = new Date();
  const next = `${out}.building-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', next], { cwd: ROOT, stdio: 'inherit' });
    // Every file of src/ and jobs/ that is not TypeScript goes beside its compiled module.
    for (const dir of ['src', 'jobs']) {
      cpSync(path.join(ROOT, dir), path.join(next, dir), {
        recursive: true,
        filter: (from) => statSync(from).isDirectory() || !/\.[cm]?ts$/.test(from),
      });
    }
    for (const dir of ASSETS) cpSync(path.join(ROOT, dir), path.join(next, dir), { recursive: true });
    // Stamped with the time the build began: a source saved while tsc ran is newer, so stale.
    const stamp = path.join(next, STAMP);
    writeFileSync(stamp, `built ${started.toISOString()} from ${ROOT}\n`);
    utimesSync(stamp, started, started);
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) renameSync(out, old);
    renameSync(next, out);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  if (args.includes('--prepare')) {
    if (!existsSync(path.join(ROOT, 'src'))) process.exit(0);
    try {
      createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      console.error('crier: TypeScript is not installed (npm ci --omit=dev), so there is no build: crier runs the source through tsx.');
      process.exit(0);
    }
  }
  const out = build(outAt >= 0 ? path.resolve(args[outAt + 1]) : DIST);
  console.error(`crier: built ${path.relative(process.cwd(), out) || out}`);
}
