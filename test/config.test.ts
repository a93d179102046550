import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../src/config/errors.ts';
import { loadConfig, parseConfig } from '../src/config/load.ts';
import { readCsvAudience, type CsvAudience } from '../src/config/csv-audience.ts';
import { pgConfig } from '../src/db.ts';
import { hashPassword } from '../src/http/admin/passwords.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier } from './helpers/cli.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';

const VALID = `platform:
  kind: govocal
  database: \${PLATFORM_DATABASE_URL:-postgres://127.0.0.1:5432/postgres}
  tenant: participatie.gent.be
  launch: 2026-03-02
crier:
  database: \${CRIER_DATABASE_URL:-postgres://127.0.0.1:5432/postgres}
  redis: \${REDIS_URL:-redis://127.0.0.1:6379}
mail:
  from: "Participatie Gent <participatie@gent.be>"
  transport: outbox
  outbox: ./outbox
  smtp: \${SMTP_URL}
audiences:
  council:
    - { name: Mathias De Clercq, email: burgemeester@gent.be, locale: nl-BE }
schedules:
  council-quarterly:
    job: council-update
    audience: [council]
    cron: "0 9 * 1,4,7,10 1#1"
    timezone: Europe/Brussels
`;

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigIssue[]> {
  try {
    parseConfig(text, 'config/crier.yaml', { jobs: await loadJobKinds(), env });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('config validation', () => {
  it('accepts the contract example, with defaults filled and the unused ${SMTP_URL} left unset', async () => {
    const config = parseConfig(VALID, 'config/crier.yaml', { jobs: await loadJobKinds(), env: { REDIS_URL: 'redis://cache.internal:6380' } });
    expect(config.crier.redis).toBe('redis://cache.internal:6380');
    expect(config.crier.schema).toBe('crier');
    expect(config.mail.smtp).toBeNull();
    expect(config.schedules[0]).toMatchObject({ id: 'council-quarterly', job: 'council-update', audience: ['council'], time: '09:00', catchUp: 'P2D', timezone: 'Europe/Brussels' });
  });

  it.each<[string, (s: string) => string, Omit<Partial<ConfigIssue>, 'message'> & { message: RegExp }]>([
    ['YAML syntax', (s) => s.replace('  kind: govocal', '  kind: [govocal'), { path: '', message: /Flow sequence|indented|must end/ }],
    ['an unknown key', (s) => s.replace('  transport: outbox', '  transprot: outbox'), { line: 11, column: 3, path: 'mail.transprot', message: /unknown key 'transprot'; allowed here: from, replyTo, transport/ }],
    ['an unknown key in a schedule', (s) => s.replace('    timezone: Europe', '    timzone: Europe'), { line: 22, column: 5, path: 'schedules.council-quarterly.timzone', message: /unknown key 'timzone'.*timezone/ }],
    ['an unknown job', (s) => s.replace('job: council-update', 'job: council-updates'), { line: 19, column: 10, path: 'schedules.council-quarterly.job', message: /'council-updates' is not a job kind; known: .*council-update/ }],
    ['a bad cron', (s) => s.replace('1#1"', 'MON#6"'), { line: 21, column: 31, path: 'schedules.council-quarterly.cron', message: /'MON#6'.*after '#' write 1-5/ }],
    ['a cron with 4 fields', (s) => s.replace('"0 9 * 1,4,7,10 1#1"', '"0 9 * 1,4,7,10"'), { line: 21, path: 'schedules.council-quarterly.cron', message: /expected 5 fields/ }],
    ['an unknown time zone', (s) => s.replace('Europe/Brussels', 'Europe/Brusels'), { line: 22, column: 15, path: 'schedules.council-quarterly.timezone', message: /'Europe\/Brusels' is not an IANA time zone/ }],
    ['an audience not defined', (s) => s.replace('audience: [council]', 'audience: [council, raad]'), { line: 20, column: 25, path: 'schedules.council-quarterly.audience[1]', message: /audience 'raad' is not defined; defined: council/ }],
    ['a malformed e-mail', (s) => s.replace('burgemeester@gent.be', 'burgemeester(at)gent.be'), { line: 16, column: 41, path: 'audiences.council[0].email', message: /'burgemeester\(at\)gent.be' is not an e-mail address/ }],
    ['a malformed sender', (s) => s.replace('<participatie@gent.be>', '<participatie>'), { line: 10, path: 'mail.from', message: /no valid sender address/ }],
    ['a missing variable', (s) => s.replace('${REDIS_URL:-redis://127.0.0.1:6379}', '${CRIER_UNSET_REDIS}'), { line: 8, column: 10, path: 'crier.redis', message: /environment variable CRIER_UNSET_REDIS is not set/ }],
    ['smtp transport without SMTP_URL', (s) => s.replace('transport: outbox', 'transport: smtp'), { line: 13, column: 9, path: 'mail.smtp', message: /SMTP_URL is not set/ }],
    ['a bad launch date', (s) => s.replace('2026-03-02', '2026-02-30'), { line: 5, path: 'platform.launch', message: /not a local date/ }],
    ['a bad ISO duration', (s) => s.replace('    timezone: Europe/Brussels', '    timezone: Europe/Brussels\n    catchUp: 2 days'), { line: 23, path: 'schedules.council-quarterly.catchUp', message: /not an ISO-8601 duration/ }],
    ['a bad date', (s) => s.replace('    cron: "0 9 * 1,4,7,10 1#1"', '    dates: ["2027-13-09 14:00"]'), { line: 21, path: 'schedules.council-quarterly.dates[0]', message: /not a date on the calendar/ }],
    ['a schedule without trigger', (s) => s.replace('    cron: "0 9 * 1,4,7,10 1#1"\n', ''), { line: 18, column: 3, path: 'schedules.council-quarterly', message: /at least one trigger/ }],
    ['a missing required key', (s) => s.replace('  tenant: participatie.gent.be\n', ''), { line: 1, column: 1, path: 'platform.tenant', message: /is required/ }],
    ['a short inbound secret', (s) => s.replace('audiences:', 'inbound:\n  address: calls@gent.be\n  secret: short\naudiences:'), { line: 16, column: 11, path: 'inbound.secret', message: /at least 16 characters, from the environment/ }],
    ['an inbound mailbox that is not IMAP', (s) => s.replace('audiences:', 'inbound:\n  address: calls@gent.be\n  secret: a-long-enough-secret\n  imap: { url: "https://mail.gent.be" }\naudiences:'), { line: 17, path: 'inbound.imap.url', message: /is not a imap or imaps URL/ }],
    ['an overview audience not defined', (s) => s.replace('    job: council-update', '    job: project-call\n    overview: [stuurgroep]'), { line: 20, path: 'schedules.council-quarterly.overview[0]', message: /audience 'stuurgroep' is not defined; defined: council/ }],
    ['afterLaunch without launch', (s) => s.replace('  launch: 2026-03-02\n', '').replace('    timezone: Europe/Brussels', '    timezone: Europe/Brussels\n    afterLaunch: [P0D]'), { path: 'schedules.council-quarterly.afterLaunch', message: /platform.launch, which is not set/ }],
  ])('refuses %s with file, line, column and path', async (_what, edit, expected) => {
    const issues = await issuesOf(edit(VALID));
    expect(issues.length).toBeGreaterThanOrEqual(1);
    const { message, ...where } = expected;
    expect(issues[0]).toMatchObject({ file: 'config/crier.yaml', ...where });
    expect(issues[0].message).toMatch(message);
    expect(issues[0].line).toBeGreaterThan(0);
    expect(issues[0].column).toBeGreaterThan(0);
  });

  it('reports every problem at once, in file order', async () => {
    const broken = VALID.replace('burgemeester@gent.be', 'nope').replace('Europe/Brussels', 'Mars/Olympus').replace('job: council-update', 'job: council-update\n    colour: red');
    const issues = await issuesOf(broken);
    expect(issues.map((i) => i.path)).toEqual(['audiences.council[0].email', 'schedules.council-quarterly.colour', 'schedules.council-quarterly.timezone']);
  });

  it('reads an audience from a CSV file beside the config, and refuses a broken one at its file, line and column', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-csv-'));
    const config = path.join(dir, 'crier.yaml');
    writeFileSync(config, VALID.replace('    - { name: Mathias De Clercq, email: burgemeester@gent.be, locale: nl-BE }', '    - { name: Mathias De Clercq, email: burgemeester@gent.be, locale: nl-BE }\n    - { csv: staff.csv }'));
    writeFileSync(path.join(dir, 'staff.csv'), '\ufeffemail,name,locale,folders\nleen@gent.be,"Wuyts, Leen",nl-BE,wijken; jeugd\n\njan@gent.be,Jan Peeters,,\n');
    const jobs = await loadJobKinds();
    // Checked with the config, kept as its path, read when a run is prepared.
    const [person, csv] = loadConfig(config, { jobs }).audiences.council;
    expect(person).toEqual({ name: 'Mathias De Clercq', email: 'burgemeester@gent.be', locale: 'nl-BE' });
    expect(csv).toMatchObject({ csv: path.join(dir, 'staff.csv'), listed: { line: 17, path: 'audiences.council[1].csv' } });
    expect(readCsvAudience((csv as CsvAudience).csv, config, (csv as CsvAudience).listed)).toEqual({
      issues: [],
      people: [
        { name: 'Wuyts, Leen', email: 'leen@gent.be', locale: 'nl-BE', folders: ['wijken', 'jeugd'] },
        { name: 'Jan Peeters', email: 'jan@gent.be' },
      ],
    });

    writeFileSync(path.join(dir, 'staff.csv'), 'email,name,phone\nleen@gent.be,Leen,123\n');
    expect(() => loadConfig(config, { jobs })).toThrow(/staff\.csv: line 1, column 3, phone: unknown column 'phone'; the columns are name, email, locale, copy, folders, projects \(the CSV file of audiences\.council\[1\]\.csv, .*crier\.yaml line 17\)/);
    writeFileSync(path.join(dir, 'staff.csv'), 'email,name,locale\nleen@gent.be,Leen,nl-BE\nnope,Jan,nl-BE\nanna@gent.be,,de-DE\n');
    const issues = (() => {
      try {
        loadConfig(config, { jobs });
      } catch (e) {
        return (e as ConfigError).issues;
      }
      return [];
    })();
    expect(issues.map((i) => [path.basename(i.file), i.line, i.column, i.path])).toEqual([
      ['staff.csv', 3, 1, 'email'],
      ['staff.csv', 4, 2, 'name'],
    ]);
    expect(issues[0].message).toMatch(/'nope' is not an e-mail address/);
    writeFileSync(config, VALID.replace('    - { name: Mathias De Clercq, email: burgemeester@gent.be, locale: nl-BE }', '    - { csv: missing.csv }'));
    expect(() => loadConfig(config, { jobs })).toThrow(/crier\.yaml: line 16, column 14, audiences\.council\[0\]\.csv: cannot read '.*missing\.csv' \(ENOENT\); the path is relative to the config file's folder/);
  });

  it('reads the dashboard’s users file with the config, and refuses a bad line at its file and line, as crier check does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-users-'));
    const config = path.join(dir, 'crier.yaml');
    const hash = await hashPassword('a password for the test');
    writeFileSync(config, `${VALID}http:\n  admin:\n    users: { ops: ${hash} }\n    usersFile: admins.txt\n    sessionSecrets: [a-session-secret-for-the-test-0123456789]\n`);
    writeFileSync(path.join(dir, 'admins.txt'), `# the dashboard's users\nanna:${hash}\n\nops:${hash}\n`);
    const jobs = await loadJobKinds();
    expect(Object.keys(loadConfig(config, { jobs }).http!.admin!.users).sort()).toEqual(['anna', 'ops']);

    writeFileSync(path.join(dir, 'admins.txt'), `anna:${hash}\nbert ${hash}\nclaire:s3cret\n`);
    const res = await crier(['check', '--config', config]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/admins\.txt: line 2, column 1, http\.admin\.usersFile: is not name:hash .*crier hash-password --user NAME\) \(the users file of http\.admin\.usersFile, .*crier\.yaml line 26\)/);
    expect(res.stderr).toMatch(/admins\.txt: line 3, column 1, http\.admin\.usersFile: is not name:hash/);
    // Neither a hash nor a password written in the file is repeated.
    expect(res.stderr).not.toContain('s3cret');
    expect(res.stderr).not.toContain(hash);

    // A file of comments only, and no users in the config: nobody could log in.
    writeFileSync(config, `${VALID}http:\n  admin:\n    usersFile: admins.txt\n    sessionSecrets: [a-session-secret-for-the-test-0123456789]\n`);
    writeFileSync(path.join(dir, 'admins.txt'), '# the dashboard users\n\n');
    expect(() => loadConfig(config, { jobs })).toThrow(/crier\.yaml: line 25, column 16, http\.admin\.usersFile: names no user .*nobody could log in/);

    writeFileSync(config, `${VALID}http:\n  admin:\n    usersFile: nobody.txt\n    sessionSecrets: [a-session-secret-for-the-test-0123456789]\n`);
    expect(() => loadConfig(config, { jobs })).toThrow(/crier\.yaml: line 25, column 16, http\.admin\.usersFile: cannot read '.*nobody\.txt' \(ENOENT\); the path is relative to the config file's folder/);
  });

  it('names an unreadable file', async () => {
    expect(() => loadConfig('/nonexistent/crier.yaml', { jobs: new Map() })).toThrow(/cannot read the config file \(ENOENT\)/);
  });
});

describe('crier with an invalid config', () => {
  it('exits 2 with the errors as JSON and changes nothing already scheduled', async () => {
    const schema = uniqueName('crier_cfg');
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-cfg-'));
    const file = path.join(dir, 'crier.yaml');
    writeFileSync(file, VALID.replace('  redis:', `  schema: ${schema}\n  redis:`).replace('1#1"', 'MON#6"'));

    const checked = await crier(['check', '--json', '--config', file]);
    expect(checked.code).toBe(2);
    const out = JSON.parse(checked.stdout);
    expect(out.ok).toBe(false);
    expect(out.errors).toEqual([expect.objectContaining({ file: expect.stringContaining('crier.yaml'), line: 22, column: 31, path: 'schedules.council-quarterly.cron' })]);

    const human = await crier(['run', 'council-quarterly', '--config', file]);
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/refused; nothing was changed[\s\S]*line 22, column 31, schedules\.council-quarterly\.cron: 'MON#6'/);

    // Refused before anything was touched: the ledger schema was never even created.
    const client = new pg.Client(pgConfig(PG_URL));
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema]);
    await client.end();
    expect(rows[0].n).toBe(0);
  });
});

describe('the shipped configs', () => {
  it('config/crier.yaml (the demo) and config/example.yaml (with its variables set) are valid', async () => {
    const jobs = await loadJobKinds();
    const demo = loadConfig(path.resolve('config/crier.yaml'), { jobs, env: {} });
    expect(demo.schedules.map((s) => s.id)).toContain('council-quarterly');
    expect(demo.mail.transport).toBe('outbox');
    const example = loadConfig(path.resolve('config/example.yaml'), {
      jobs,
      env: { PLATFORM_DATABASE_URL: 'postgres://reader@db:5432/citizenlab', CRIER_DATABASE_URL: 'postgres://crier@db:5432/crier', SMTP_URL: 'smtp://relay:587', CRIER_INBOUND_SECRET: 'a-long-secret-from-the-vault', INBOUND_IMAP_URL: 'imaps://calls%40gent.be:pw@outlook.office365.com:993' },
    });
    expect(example.mail.transport).toBe('smtp');
  });

  it('ships the platform schema of the shared reference, byte for byte', async () => {
    const { readFileSync, existsSync } = await import('node:fs');
    const { SCHEMA_FILE } = await import('../src/demo/tenant-schema.ts');
    const shared = path.resolve('../shared/reference/govocal-structure-2025-11.sql');
    if (!existsSync(shared)) return; // outside the project's workspace there is no reference copy
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });
});

describe('crier when a service is away', () => {
  it('says which one, where (without the password) and what to check, instead of hanging', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crier-away-'));
    const file = path.join(dir, 'crier.yaml');
    writeFileSync(file, VALID);
    const deadDb = await crier(['status', '--config', file], { CRIER_DATABASE_URL: 'postgres://crier:s3cret@127.0.0.1:1/crier' });
    expect(deadDb.code).toBe(1);
    expect(deadDb.stderr).toMatch(/cannot reach Crier's database at postgres:\/\/crier:\*\*\*@127\.0\.0\.1:1\/crier: nothing listens there \(ECONNREFUSED.*check that it runs and that crier\.database is right/);
    expect(deadDb.stderr).not.toContain('s3cret');
    const deadRedis = await crier(['start', '--config', file], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(deadRedis.code).toBe(1);
    expect(deadRedis.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1 did not answer within 5 s; check that it runs and that crier\.redis is right/);
  });
});
