import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { parseConfig } from '../src/config/load.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier } from './helpers/cli.ts';

/*
 * The JSON Schema an editor checks a config with (VS Code's YAML extension, through the first
 * line of the shipped configs). It must accept what `crier check` accepts, or the superadmin
 * sees red lines under a good config, and it must flag the mistakes an editor can see.
 */

const SHIPPED = 'config/crier.schema.json';

async function validator() {
  const schema = configJsonSchema((await loadJobKinds()).values());
  // Formats (email) are `crier check`'s to judge, with its own messages.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

describe('the config JSON Schema', () => {
  it('is shipped as `crier schema` writes it (run `npm run schema` after changing the config shape or a job kind)', async () => {
    const generated = await crier(['schema']);
    expect(generated.code).toBe(0);
    expect(JSON.parse(readFileSync(SHIPPED, 'utf8'))).toEqual(JSON.parse(generated.stdout));
  });

  it.each(['config/crier.yaml', 'config/example.yaml'])('is named on the first line of %s, which it accepts', async (file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=crier.schema.json');
    const validate = await validator();
    // As the editor sees the file: ${VAR} references unreplaced.
    expect(validate(parse(text)), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('completes job kinds and flags what an editor can see: a misspelt key, an unknown kind, another kind’s option', async () => {
    const validate = await validator();
    const base = parse(readFileSync('config/crier.yaml', 'utf8')) as Record<string, object>;
    const withSchedule = (s: Record<string, unknown>) => ({ ...base, schedules: { extra: s } });
    const errorsOf = (config: unknown) => (validate(config) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));

    // A project call's own options are accepted on a project call…
    expect(errorsOf(withSchedule({ job: 'project-call', audience: 'council', cron: '0 9 * * 1', deadline: 'P14D' }))).toEqual([]);
    // …and nowhere else.
    expect(errorsOf(withSchedule({ job: 'council-update', cron: '0 9 * * 1', deadline: 'P14D' })).join('\n')).toMatch(/additionalProperty":"deadline"/);
    expect(errorsOf(withSchedule({ job: 'council-update', crom: '0 9 * * 1' })).join('\n')).toMatch(/additionalProperty":"crom"/);
    expect(errorsOf(withSchedule({ job: 'council-updates', cron: '0 9 * * 1' })).join('\n')).toMatch(/\/schedules\/extra\/job must be equal to one of the allowed values/);
    expect(errorsOf({ ...base, mail: { ...base.mail, windw: {} } }).join('\n')).toMatch(/additionalProperty":"windw"/);
    // A number may come from the environment, as the loader allows.
    expect(errorsOf({ ...base, crier: { ...base.crier, concurrency: '${CRIER_CONCURRENCY:-5}' } })).toEqual([]);
    expect(errorsOf({ ...base, crier: { ...base.crier, concurrency: 'five' } }).length).toBeGreaterThan(0);
  });

  it('tells the three kinds of audience entry apart: a person, a platform role, a CSV file', async () => {
    const validate = await validator();
    const base = parse(readFileSync('config/crier.yaml', 'utf8')) as Record<string, unknown>;
    const audiences = (entries: unknown[]) => validate({ ...base, audiences: { ...(base.audiences as object), extra: entries } });
    expect(audiences([{ name: 'Ann', email: 'ann@example.org' }, { platformRole: 'admin' }, { csv: 'people/staff.csv' }])).toBe(true);
    expect(audiences([{ name: 'Ann', emial: 'ann@example.org' }])).toBe(false);
    expect(audiences([{ platformRole: 'admin', folders: ['parks'], includeVendorStaff: 'no' }])).toBe(false);
  });

  it('agrees with the loader: a number written as ${VAR} is read as the number, quoted it stays text', async () => {
    const jobs = await loadJobKinds();
    const text = readFileSync('config/crier.yaml', 'utf8').replace('  port: 8025\n', '  port: ${CRIER_HTTP_PORT:-8025}\n');
    expect(text).toContain('${CRIER_HTTP_PORT:-8025}');
    const config = parseConfig(text, 'crier.yaml', { jobs, env: { CRIER_HTTP_PORT: '8091' } });
    expect(config.http?.port).toBe(8091);
    expect((await validator())(parse(text))).toBe(true);
    expect(() => parseConfig(text.replace('${CRIER_HTTP_PORT:-8025}', '"${CRIER_HTTP_PORT:-8025}"'), 'crier.yaml', { jobs, env: {} })).toThrow(/http\.port: expected a number, not the text '8025'/);
  });
});

describe('the JSON Schemas of a folder of many tenants', () => {
  const PARTS = { defaults: 'config/crier-defaults.schema.json', tenant: 'config/crier-tenant.schema.json' } as const;
  const validatorOf = async (part: keyof typeof PARTS) => new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(configJsonSchema((await loadJobKinds()).values(), part));

  it.each(Object.entries(PARTS))('for %s is shipped as `crier schema --for` writes it', async (part, file) => {
    const generated = await crier(['schema', '--for', part]);
    expect(generated.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(generated.stdout));
  });

  it.each([
    ['config/many/defaults.yaml', 'defaults'],
    ['config/many/gent.yaml', 'tenant'],
    ['config/many/leuven.yaml', 'tenant'],
  ] as const)('is named on the first line of %s, which it accepts without the keys the other half gives', async (file, part) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=../crier-${part}.schema.json`);
    const validate = await validatorOf(part);
    expect(validate(parse(text)), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('flags in a tenant’s file the keys every tenant shares, and in the defaults the keys each tenant keeps, as crier check refuses them', async () => {
    const tenant = await validatorOf('tenant');
    const gent = parse(readFileSync('config/many/gent.yaml', 'utf8')) as Record<string, Record<string, unknown>>;
    const flagged = (validate: typeof tenant, config: unknown) => (validate(config) ? [] : validate.errors!.map((e) => `${e.instancePath} ${JSON.stringify(e.params)}`)).join('\n');
    expect(flagged(tenant, { ...gent, http: { port: 8080 } })).toMatch(/"additionalProperty":"http"/);
    expect(flagged(tenant, { ...gent, crier: { redis: 'redis://elsewhere:6379' } })).toMatch(/\/crier .*"additionalProperty":"redis"/);
    expect(flagged(tenant, { ...gent, crier: { schema: 'crier_gent_own' } })).toBe('');
    // Merged key by key: a key of a map within a map, over the defaults' others.
    expect(flagged(tenant, { ...gent, mail: { ...gent.mail, dkim: { domain: 'gent.crier.local' } } })).toBe('');
    expect(flagged(tenant, { ...gent, mail: { ...gent.mail, rateLimit: { max: 10, duration: 'PT1S' } } })).toMatch(/\/mail .*"additionalProperty":"rateLimit"/);
    // Still a config: a misspelt key of a tenant's own is flagged too.
    expect(flagged(tenant, { ...gent, platform: { ...gent.platform, tenannt: 'gent.crier.local' } })).toMatch(/"additionalProperty":"tenannt"/);
    const defaults = await validatorOf('defaults');
    const shared = parse(readFileSync('config/many/defaults.yaml', 'utf8')) as Record<string, unknown>;
    expect(flagged(defaults, { ...shared, inbound: { address: 'calls@gent.be', secret: 'a-secret-of-sixteen-chars' } })).toMatch(/"additionalProperty":"inbound"/);
  });
});
