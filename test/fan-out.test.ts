import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audiencePages, AudienceError, resolveAudience } from '../src/delivery/audience.ts';
import { fanOut } from '../src/delivery/fan-out.ts';
import type { Recipient } from '../src/kit/contract.ts';
import { openEngine } from './helpers/worker.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * A CSV audience is read in pages during the fan-out, never held whole: the people it shares an
 * address with (a role holder, a person in the YAML, a row twice in the file) are still merged
 * as they always were, and a bad row anywhere refuses the run with nothing written.
 */
const name = uniqueName('crier_fan');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let configFile: string;
let csvFile: string;
const PEOPLE = 2500;

function csv(bad?: number): string {
  const rows = ['email,name,locale,projects'];
  // Shared with others: the admin (a role holder), the YAML person, and an address twice in the file.
  rows.push('Admin@example.org,Admin from the file,en,speelpleinen');
  rows.push('dup@example.org,Dup first,fr-BE,speelpleinen');
  rows.push('yaml@example.org,Yaml from the file,en,');
  for (let i = 0; i < PEOPLE; i++) rows.push(i === bad ? `p${i}-at-example.org,Bad,en,` : `p${i}@example.org,Person ${i},${i % 2 ? 'nl-BE' : 'en'},`);
  rows.push('dup@example.org,Dup second,en,schoolstraten');
  return `${rows.join('\n')}\n`;
}

beforeAll(async () => {
  tenant = await createTenant(host);
  await tenant.user({ email: 'admin@example.org', first_name: 'Ada', last_name: 'Admin', roles: [{ type: 'admin' }], locale: 'nl-BE' });
  await tenant.project({ 'nl-BE': 'Speelpleinen' }, 'published', undefined, 'speelpleinen');
  await tenant.project({ 'nl-BE': 'Schoolstraten' }, 'published', undefined, 'schoolstraten');
  configFile = writeTestConfig({
    tenant: host,
    name,
    audiences: { everyone: [{ name: 'Yaml Person', email: 'YAML@example.org', locale: 'de-DE' }, { csv: 'people.csv' }, { platformRole: 'admin' }] },
    schedules: { big: { job: 'council-update', audience: ['everyone'], dates: ['2027-02-01 09:00'], timezone: 'Europe/Brussels' } },
  });
  csvFile = path.join(path.dirname(configFile), 'people.csv');
  writeFileSync(csvFile, csv());
});

afterAll(async () => {
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('a CSV audience in pages', () => {
  it('gives every address once, merged with the rest as a whole-list read does', async () => {
    const { crier, close } = await openEngine(configFile);
    try {
      const book = await crier.schedules();
      const schedule = book.get('big', configFile);
      const platform = await crier.platform();
      const read = await audiencePages(crier.config, schedule, book.job(schedule.job), platform, crier.now(), 700);
      const pages: Recipient[][] = [];
      for await (const page of read.pages()) pages.push(page);
      expect(Math.max(...pages.map((p) => p.length))).toBeLessThanOrEqual(700);
      const all = pages.flat();
      expect(all).toHaveLength(PEOPLE + 3);
      expect(new Set(all.map((r) => r.email)).size).toBe(all.length);
      const by = new Map(all.map((r) => [r.email, r]));
      const projects = (await platform.query<{ id: string; slug: string }>('SELECT id, slug FROM projects')).reduce((m, p) => m.set(p.slug, p.id), new Map<string, string>());
      // The role holder comes first and covers everything; the file's row adds nothing to narrow it.
      expect(by.get('admin@example.org')).toMatchObject({ name: 'Ada Admin', locale: 'nl-BE', scope: undefined });
      // The YAML person is listed before the file: their name and locale win.
      expect(by.get('yaml@example.org')).toMatchObject({ name: 'Yaml Person', locale: 'de-DE', scope: undefined });
      // Twice in the file: the first row's name and locale, both rows' projects.
      expect(by.get('dup@example.org')).toMatchObject({ name: 'Dup first', locale: 'fr-BE', scope: { projects: [projects.get('speelpleinen'), projects.get('schoolstraten')] } });
      expect(by.get('p1@example.org')).toMatchObject({ name: 'Person 1', locale: 'nl-BE', scope: undefined });
      // collect() sees each scope, not each person.
      expect(read.forCollect.length).toBeLessThan(10);
      // The whole-list read (check, preview) is the same recipients, in address order.
      const whole = await resolveAudience(crier.config, schedule, book.job(schedule.job), platform, crier.now());
      expect(whole).toEqual([...all].sort((a, b) => a.email.localeCompare(b.email)));
    } finally {
      await close();
    }
  });

  it('refuses a run whose file has a bad row far down, with its line, and writes no delivery', async () => {
    const { crier, engine, close } = await openEngine(configFile);
    try {
      const run = await crier.ledger.insertRun({ scheduleId: 'big', key: 'bad-row', occurrence: new Date('2027-02-01T08:00:00Z'), job: 'council-update', timezone: 'Europe/Brussels', origin: 'manual', status: 'due' });
      // The config was read with a good file; the file breaks before the run is prepared.
      writeFileSync(csvFile, csv(2200));
      const refused = await fanOut(engine, run.id).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(refused).toBeInstanceOf(AudienceError);
      expect(refused!.message).toMatch(/people\.csv: line 2205, column 1, email: 'p2200-at-example\.org' is not an e-mail address/);
      expect(await crier.ledger.deliveries(run.id)).toEqual([]);
      expect((await crier.ledger.run(run.id))!.status).toBe('due');

      // Refused after pages were written (a file that changed between its reads): none of them stays.
      const failing = (async function* () {
        yield [{ email: 'first@example.org', name: 'First', locale: 'en', status: 'pending' as const }];
        throw new AudienceError('the file changed');
      })();
      await expect(crier.ledger.fanOut(run.id, failing)).rejects.toThrow('the file changed');
      expect(await crier.ledger.deliveries(run.id)).toEqual([]);
      expect((await crier.ledger.run(run.id))!.status).toBe('due');

      writeFileSync(csvFile, csv());
      expect(await fanOut(engine, run.id)).toEqual({ fanned: true });
      const counts = await crier.ledger.deliveryCounts(run.id);
      expect(counts.pending).toBe(PEOPLE + 3);
      expect((await crier.ledger.run(run.id))!.status).toBe('fanned-out');
    } finally {
      writeFileSync(csvFile, csv());
      await close();
    }
  });
});
