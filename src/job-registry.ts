import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { JobKind } from './kit/contract.ts';

/** The jobs/ folder: every job kind, found by its name (dist/jobs/ when this runs from the build). */
export const JOBS_DIR = fileURLToPath(new URL('../jobs/', import.meta.url));
/** What a job kind's module ends in: .ts from the source, .js from the build (`npm run build`), as this module does. */
const EXT = path.extname(fileURLToPath(import.meta.url));

let registry: Promise<Map<string, JobKind>> | undefined;

/**
 * A job kind is jobs/<name>.ts, or a folder jobs/<name>/ with an index.ts (for a kind that
 * brings its own queries.sql); files starting with _ are not kinds. In the build they are
 * dist/jobs/<name>.js and dist/jobs/<name>/index.js.
 */
function jobModules(): { name: string; file: string }[] {
  const out: { name: string; file: string }[] = [];
  for (const entry of readdirSync(JOBS_DIR).sort()) {
    if (entry.startsWith('_') || entry.startsWith('.')) continue;
    const full = path.join(JOBS_DIR, entry);
    if (statSync(full).isDirectory()) {
      const index = path.join(full, `index${EXT}`);
      if (existsSync(index)) out.push({ name: entry, file: index });
    } else if (entry.endsWith(EXT)) out.push({ name: entry.slice(0, -EXT.length), file: full });
  }
  return out;
}

/** Loads every job kind in jobs/ once; adding a kind is adding a file (or a folder) there. */
export function loadJobKinds(): Promise<Map<string, JobKind>> {
  registry ??= (async () => {
    const map = new Map<string, JobKind>();
    for (const { name, file } of jobModules()) {
      const where = path.relative(path.dirname(JOBS_DIR), file);
      const mod = (await import(pathToFileURL(file).href)) as { default?: JobKind };
      const job = mod.default;
      if (!job || typeof job.collect !== 'function' || typeof job.view !== 'function') {
        throw new Error(`${where} does not default-export a job kind (defineJobKind({ name, description, period, collect, view }))`);
      }
      if (job.name !== name) throw new Error(`${where} exports the job kind '${job.name}'; name it after the kind (jobs/${job.name}.ts or jobs/${job.name}/index.ts)`);
      map.set(job.name, job);
    }
    return map;
  })();
  return registry;
}
