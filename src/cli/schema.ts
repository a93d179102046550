import { writeFileSync } from 'node:fs';
import { configJsonSchema, type ConfigPart } from '../config/json-schema.ts';
import { CommandError } from './context.ts';
import { loadJobKinds } from '../job-registry.ts';

const PARTS: ConfigPart[] = ['whole', 'defaults', 'tenant'];

/** Options of `crier schema`. */
export interface SchemaOptions {
  /** Write the schema into this file instead of printing it. */
  out?: string;
  /** Which file it checks: a whole config (default), or defaults.yaml or a tenant's file in a folder of many. */
  for?: string;
}

/**
 * `crier schema`: the config's JSON Schema, for editors (config/crier.schema.json is this,
 * shipped, with crier-defaults.schema.json and crier-tenant.schema.json for a folder of many;
 * `npm run schema` writes them again after a job kind or the config's shape changes).
 */
export async function schema(opts: SchemaOptions): Promise<number> {
  const part = opts.for ?? 'whole';
  if (!PARTS.includes(part as ConfigPart)) throw new CommandError(`--for '${part}' is not a part of a config; use ${PARTS.join(', ')}`, 2);
  const text = `${JSON.stringify(configJsonSchema((await loadJobKinds()).values(), part as ConfigPart), null, 2)}\n`;
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
  return 0;
}
