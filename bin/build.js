#!/usr/bin/env node
/*
 * `npm run build`: Crier bundled into dist/, which bin/crier.js runs when it is current.
 *
 * esbuild bundles src/ and jobs/ (types stripped, as tsx does) into a few files in dist/lib/:
 * one entry for the command (src/cli/main.ts) and one per job kind, split at each lazy import
 * (a command loads only its own code) and at code they share (one copy of the kit, luxon, zod).
 * The dependencies that most commands load at start and that are plain JavaScript (BUNDLED
 * below) are bundled in; the others stay in node_modules, loaded by name: those with native
 * parts, worker threads or files read from their own folder (bullmq's Lua scripts, mjml,
 * msgpackr, pino's transports and thread-stream), and those only some commands load. Each one
 * of those must be a dependency in package.json, as the image has only those installed: the
 * build checks it.
 *
 * dist/ keeps the source tree's layout for everything read at run time: every file of src/ and
 * jobs/ that is not TypeScript (the ledger's migrations, the demo schema, a job kind's
 * queries.sql) copied beside where its module would be, email-templates/ as
 * dist/email-templates/, and a small module at each place the source has an entry
 * (dist/src/cli/main.js, dist/jobs/<kind>.js, dist/jobs/<kind>/index.js) that re-exports it from
 * dist/lib/. A module's `import.meta.url` is written as the URL it would have at its place in
 * the tree (dist/src/render/catalog.js, dist/jobs/survey-reminder/index.js), so it finds its
 * files at the same relative place from dist/ as from the source, and dist/ needs nothing
 * else of the checkout (the container image is dist/, config/ and the production dependencies).
 *
 * This module also says, cheaply (a stat of every source file, a millisecond or two), whether
 * dist/ is current: built after the last change to anything it is built from.
 *
 *   node bin/build.js              build into dist/
 *   node bin/build.js --out DIR    build into DIR (tests)
 *   node bin/build.js --prepare    the npm `prepare` step (npm ci): build, unless there is no
 *                                  source (an image's production install) or no esbuild
 *                                  (then the command runs the source)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package: where package.json, src/, jobs/, email-templates/ and dist/ are. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
/**
 * What dist/ is built from: a change to any file or folder here makes dist/ stale. The lock
 * file too: the bundled dependencies are in dist/, so installing other versions makes it stale.
 */
const SOURCES = ['src', 'jobs', 'email-templates', 'tsconfig.json', 'package-lock.json'];
/** Folders copied whole into the output (everything in them is read at run time). */
const ASSETS = ['email-templates'];
/** Written last; its mtime is when the build read its sources. */
const STAMP = '.built';
/** Where the bundled code goes, one level below dist/ (the import.meta.url rewrite relies on it). */
const LIB = 'lib';
/**
 * Dependencies bundled into dist/lib/ (with what they need): plain JavaScript that `crier check`
 * and most commands load at start (hundreds of files for zod and yaml alone). Every other
 * package stays external.
 */
const BUNDLED = new Set(['commander', 'zod', 'yaml', 'luxon', 'pg', 'csv-parse', 'nodemailer', 'pino']);
/**
 * Required by bundled packages but loaded from node_modules: optional ones never taken here
 * (pg's native binding, Cloudflare's socket), and pino's transports (see PATCHES).
 */
const LOADED_BY_NAME = new Set(['pg-native', 'pg-cloudflare', 'pino/lib/transport.js']);

/**
 * Changes to bundled packages' code, for what costs at every start and Crier never uses. A
 * patch that no longer applies (the package changed) fails the build.
 */
const PATCHES = [
  {
    file: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/,
    why: 'pg asks whether it runs in a Cloudflare Worker by making a Response, which loads undici (fetch) into every process on Node 20',
    apply: (text) => text.replace('if (isCloudflareRuntime()) {', 'if (false) {'),
  },
  {
    // Worker threads (thread-stream) and files found from pino's own folder: they run from the
    // installed pino, loaded when a transport is made (pino marks a transport's stream with a
    // Symbol.for, so the two copies agree). Crier's logger is a plain destination, no transport.
    file: /[\\/]node_modules[\\/]pino[\\/]lib[\\/]transport\.js$/,
    why: "pino's transports, which run worker threads from pino's and thread-stream's folders, loaded from node_modules when one is made rather than at every start",
    apply: (text) =>
      text.includes("require('thread-stream')")
        ? "'use strict'\n// bin/build.js: pino's transports run from the installed pino (node_modules), loaded when one is made.\nmodule.exports = function transport (...args) { return require('pino/lib/transport.js')(...args) }\n"
        : text,
  },
  {
    file: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/,
    why: "zod's error messages in 40-odd languages, half its size, where Crier reads English ones (zod's default)",
    apply: (text) => (text.includes('export { default as en }') ? 'export { default as en } from "./en.js";\n' : text),
  },
];

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
 * Builds into `out` (default dist/) and returns it; synchronous (bench and tests call it so),
 * the work is done by this script in a child process, as esbuild's plugins need its async API.
 */
export function build(out = DIST) {
  // Loaded here: bin/crier.js imports this module for distIsCurrent at every start.
  const { execFileSync } = createRequire(import.meta.url)('node:child_process');
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--out', out, '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  return out;
}

/** The job kinds' modules, as src/job-registry.ts finds them: jobs/<name>.ts and jobs/<name>/index.ts, not _*. */
function jobKinds() {
  const out = [];
  for (const entry of entries(path.join(ROOT, 'jobs')).sort()) {
    if (entry.startsWith('_') || entry.startsWith('.')) continue;
    const full = path.join(ROOT, 'jobs', entry);
    if (statSync(full).isDirectory()) {
      if (existsSync(path.join(full, 'index.ts'))) out.push({ name: entry, source: `jobs/${entry}/index.ts` });
    } else if (entry.endsWith('.ts')) out.push({ name: entry.slice(0, -3), source: `jobs/${entry}` });
  }
  return out;
}

/** A bare import's package name: `pg`, `@fastify/formbody`, `nodemailer` for `nodemailer/lib/x.js`. */
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/**
 * esbuild's rules for Crier: what is bundled, what stays a dependency loaded by name, and each
 * module's import.meta.url as the URL it has at its place in the tree.
 */
function crierPlugin(dependencies) {
  const own = (file) => !path.relative(ROOT, file).startsWith('..') && !file.includes(`${path.sep}node_modules${path.sep}`);
  return {
    name: 'crier',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        if (LOADED_BY_NAME.has(args.path) || LOADED_BY_NAME.has(packageOf(args.path))) return { path: args.path, external: true };
        const name = packageOf(args.path);
        // Crier's own imports: bundled when the package is one of BUNDLED, else a dependency.
        if (own(args.importer) && !BUNDLED.has(name)) {
          if (!dependencies.has(name)) throw new Error(`${path.relative(ROOT, args.importer)} imports '${args.path}', which is not a dependency in package.json: the image would not have it`);
          return { path: args.path, external: true };
        }
        return undefined; // bundled: the package itself, or what a bundled package requires
      });
      // Patches of bundled packages, each for a cost at start-up that Crier never needs.
      for (const patch of PATCHES) {
        b.onLoad({ filter: patch.file }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const patched = patch.apply(text);
          if (patched === text) throw new Error(`${path.relative(ROOT, args.path)}: the build's patch (${patch.why}) no longer applies; see PATCHES in bin/build.js`);
          return { contents: patched, loader: 'js' };
        });
      }
      b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        if (!own(args.path)) return undefined;
        const rel = path.relative(ROOT, args.path).split(path.sep).join('/').replace(/\.([cm]?)ts$/, '.$1js');
        const source = readFileSync(args.path, 'utf8');
        // Those would name dist/lib/ in the build: a module finds its files through import.meta.url.
        if (/\bimport\.meta\.(dirname|filename)\b/.test(source)) throw new Error(`${path.relative(ROOT, args.path)}: use import.meta.url (fileURLToPath(new URL('./x', import.meta.url))), not import.meta.dirname or filename, which the build cannot place`);
        const text = source.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(`../${rel}`)}, import.meta.url).href`);
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

/** The module that stands at `at` (dist-relative) for the bundled entry `target`: what it exports, from there. */
function stub(next, at, target, exports) {
  const from = JSON.stringify(path.posix.relative(path.posix.dirname(at), `${LIB}/${target}`).replace(/^(?!\.)/, './'));
  const names = exports.filter((e) => e !== 'default');
  const lines = [];
  if (names.length) lines.push(`export { ${names.join(', ')} } from ${from};`);
  if (exports.includes('default')) lines.push(`export { default } from ${from};`);
  if (!lines.length) lines.push(`import ${from};`);
  mkdirSync(path.join(next, path.dirname(at)), { recursive: true });
  writeFileSync(path.join(next, at), `// Built by bin/build.js: the code is in ${LIB}/${target}.\n${lines.join('\n')}\n`);
}

/** The build proper, into `out`: made beside it and swapped in whole. */
async function buildInto(out) {
  const started = new Date();
  const next = `${out}.building-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  try {
    const esbuild = await import('esbuild');
    const dependencies = new Set(Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies ?? {}));
    const kinds = jobKinds();
    const points = [{ at: 'src/cli/main.js', source: 'src/cli/main.ts', out: 'main' }, ...kinds.map((k) => ({ at: k.source.replace(/\.ts$/, '.js'), source: k.source, out: `kind-${k.name}` }))];
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: points.map((p) => ({ in: p.source, out: p.out })),
      outdir: path.join(next, LIB),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      chunkNames: '[name]-[hash]',
      // Bundled CommonJS (pg) requires Node's own modules: give its require a real one.
      banner: { js: "import { createRequire as __crierCreateRequire } from 'node:module';\nconst require = __crierCreateRequire(import.meta.url);" },
      plugins: [crierPlugin(dependencies)],
      metafile: true,
      logLevel: 'warning',
      legalComments: 'none',
    });
    // A small module at each entry's place in the tree (bin/crier.js runs dist/src/cli/main.js,
    // the job registry finds dist/jobs/<kind>.js and dist/jobs/<kind>/index.js).
    for (const p of points) {
      const output = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === p.source);
      if (!output) throw new Error(`esbuild made nothing for ${p.source}`);
      stub(next, p.at, path.posix.basename(output[0]), output[1].exports);
    }
    // Every file of src/ and jobs/ that is not TypeScript goes beside where its module would be.
    for (const dir of ['src', 'jobs']) {
      cpSync(path.join(ROOT, dir), path.join(next, dir), {
        recursive: true,
        filter: (from) => statSync(from).isDirectory() || !/\.[cm]?ts$/.test(from),
      });
    }
    for (const dir of ASSETS) cpSync(path.join(ROOT, dir), path.join(next, dir), { recursive: true });
    // Stamped with the time the build began: a source saved while esbuild ran is newer, so stale.
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
      createRequire(import.meta.url).resolve('esbuild');
    } catch {
      console.error('crier: esbuild is not installed, so there is no build: crier runs the source through tsx.');
      process.exit(0);
    }
  }
  const out = await buildInto(outAt >= 0 ? path.resolve(args[outAt + 1]) : DIST);
  if (!args.includes('--quiet')) console.error(`crier: built ${path.relative(process.cwd(), out) || out}`);
}
