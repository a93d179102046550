import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../config/json-schema.ts';
import { loadJobKinds } from '../job-registry.ts';

/** Options of `crier schema`. */
export interface SchemaOptions {
  /** Write the schema into this file instead of printing it. */
  out?: string;
}

/**
 * `crier schema`: the config's JSON Schema, for editors (config/crier.schema.json is this,
 * shipped; `npm run schema` writes it again after a job kind or the config's shape changes).
 */
export async function schema(opts: SchemaOptions): Promise<number> {
  const text = `${JSON.stringify(configJsonSchema((await loadJobKinds()).values()), null, 2)}\n`;
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
  return 0;
}
