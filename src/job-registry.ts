import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { JobKind } from './job-kind.ts';

/** The jobs/ folder: every .ts module there is a job kind, found by its file name. */
export const JOBS_DIR = fileURLToPath(new URL('../jobs/', import.meta.url));

let registry: Promise<Map<string, JobKind>> | undefined;

/** Loads every job kind in jobs/ once; adding a kind is adding a file there. */
export function loadJobKinds(): Promise<Map<string, JobKind>> {
  registry ??= (async () => {
    const map = new Map<string, JobKind>();
    const files = readdirSync(JOBS_DIR).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).sort();
    for (const file of files) {
      const mod = (await import(pathToFileURL(path.join(JOBS_DIR, file)).href)) as { default?: JobKind };
      const job = mod.default;
      if (!job || typeof job.collect !== 'function' || typeof job.view !== 'function') {
        throw new Error(`jobs/${file} does not default-export a job kind (name, description, period, collect, view)`);
      }
      if (job.name !== file.slice(0, -3)) throw new Error(`jobs/${file} exports the job kind '${job.name}'; name the file ${job.name}.ts`);
      map.set(job.name, job);
    }
    return map;
  })();
  return registry;
}
