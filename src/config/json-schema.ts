import { z } from 'zod';
import { csvEntrySchema, personSchema, roleEntrySchema, scheduleBaseShape, topLevelSchema } from './schema.ts';
import { OWN_KEYS, SHARED_KEYS } from './tenants.ts';

/*
 * The config's JSON Schema, generated from the zod schema that `crier check` applies, for
 * editors: VS Code's YAML extension (yaml-language-server) reads it through the first line of
 * a config, `# yaml-language-server: $schema=crier.schema.json`, and completes and checks keys,
 * job kinds and each kind's options as the superadmin types. `crier check` stays the judge:
 * what JSON Schema cannot say (a cron field's values, a zone's name, an audience that must be
 * defined) is checked there, with file and line.
 */

/** What the schema needs of a job kind: its name, its one line and its option shape. */
export interface SchemaJobKind {
  name: string;
  description: string;
  options?: z.ZodRawShape;
}

/** `${VAR}` or `${VAR:-default}`: a number or a yes/no may come from the environment too. */
const ENV_REFERENCE = { type: 'string', pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$', description: 'a value from the environment: ${VAR} or ${VAR:-default}' };

type Node = Record<string, unknown>;

/** Lets every number, integer and boolean also be written as an environment reference. */
function allowEnvReferences(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(allowEnvReferences);
  const n = node as Node;
  for (const value of Object.values(n)) allowEnvReferences(value);
  if (n.type === 'integer' || n.type === 'number' || n.type === 'boolean') {
    const own = { ...n };
    delete own.default;
    delete own.description;
    for (const key of Object.keys(n)) if (key !== 'default' && key !== 'description') delete n[key];
    n.anyOf = [own, ENV_REFERENCE];
  }
}

const toJson = (schema: z.ZodType): Node =>
  // The input side: what is written in the file, before defaults and transforms.
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-07' }) as Node;

const strip = ({ $schema: _, ...rest }: Node): Node => rest;

/**
 * Which file of a config the schema checks: a whole config (one deployment, or one file with
 * `tenants:`), or in a configs folder of many tenants `defaults.yaml` (the keys they share) or
 * one tenant's own file. The last two are halves merged into a whole, so neither has to hold
 * the keys a whole config requires; each is refused the keys that belong to the other.
 */
export type ConfigPart = 'whole' | 'defaults' | 'tenant';

/**
 * Nothing required in the maps the halves are merged through, key by key (a tenant may write
 * `mail: { dkim: { domain: … } }` over the defaults' selector): down every object's
 * `properties`, not into lists' items or a map's values (an audience entry, a schedule), which
 * are replaced whole.
 */
function optionalMaps(node: Node): void {
  delete node.required;
  for (const child of Object.values((node.properties ?? {}) as Record<string, Node>)) {
    optionalMaps(child);
    for (const branch of (child.anyOf ?? []) as Node[]) if (branch.type === 'object') optionalMaps(branch);
  }
}

/** A whole config's schema made into one half of it (see ConfigPart). */
function halfOf(top: Node, part: Exclude<ConfigPart, 'whole'>): void {
  const properties = top.properties as Record<string, Node>;
  optionalMaps(top);
  if (part === 'defaults') for (const { path } of OWN_KEYS) delete properties[path[0]];
  else
    for (const { path, except = [] } of SHARED_KEYS) {
      const parent = path.slice(0, -1).reduce((node, key) => (node.properties as Record<string, Node>)[key], top);
      const key = path[path.length - 1];
      const own = (parent.properties as Record<string, Node>)[key];
      // A section of which a tenant keeps some keys (crier.schema) keeps those alone.
      if (except.length) own.properties = Object.fromEntries(Object.entries(own.properties as Record<string, Node>).filter(([k]) => except.includes(k)));
      else delete (parent.properties as Record<string, Node>)[key];
    }
}

const TITLES: Record<ConfigPart, string> = { whole: 'Crier config', defaults: "Crier config: the defaults.yaml of a deployment of many (the keys every tenant shares)", tenant: "Crier config: a tenant's own file in a deployment of many (merged over defaults.yaml)" };

/**
 * The config's JSON Schema: the top level as zod has it, audience entries as the three shapes
 * they take (zod tells them apart in a transform, which JSON Schema cannot see), and each
 * schedule as one of the job kinds with that kind's own options.
 */
export function configJsonSchema(jobs: Iterable<SchemaJobKind>, part: ConfigPart = 'whole'): Node {
  const top = toJson(topLevelSchema);
  const properties = top.properties as Record<string, Node>;
  const entry = {
    description: 'a person (name, email), everyone with a platform role (platformRole) or a CSV file of people (csv)',
    anyOf: [strip(toJson(personSchema)), strip(toJson(roleEntrySchema)), strip(toJson(csvEntrySchema))],
  };
  properties.audiences = { ...properties.audiences, additionalProperties: { type: 'array', minItems: 1, items: entry } };

  const kinds = [...jobs].sort((a, b) => a.name.localeCompare(b.name));
  const schedule = (kind: SchemaJobKind): Node => {
    const shape = z.strictObject({ ...scheduleBaseShape, ...(kind.options ?? {}), job: z.literal(kind.name) });
    return { title: kind.name, description: kind.description, ...strip(toJson(shape)) };
  };
  properties.schedules = {
    ...properties.schedules,
    description: 'schedule id (lower-case letters, digits, dashes) → when it fires, for whom, and the job kind it runs',
    additionalProperties: {
      type: 'object',
      required: ['job'],
      properties: { job: { description: 'the job kind (a module in jobs/)', enum: kinds.map((k) => k.name) } },
      // One branch per kind: an editor completes the kind's own options once `job:` is written.
      anyOf: kinds.map(schedule),
    },
  };
  if (part !== 'whole') halfOf(top, part);
  allowEnvReferences(top);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: TITLES[part],
    description: 'Generated by `crier schema` from the schema `crier check` applies; check a config with `npx crier check --config FILE`.',
    ...strip(top),
  };
}
