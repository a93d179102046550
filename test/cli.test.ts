import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crier } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { uniqueName } from './helpers/services.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/* The command line's JSON is a contract: these tests read it as a script would. */
const name = uniqueName('crier_cli');
const host = `${name.replace(/_/g, '-')}.crier.test`;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let config: string;

beforeAll(async () => {
  tenant = await createTenant(host, { timezone: 'America/Santiago' });
  const folder = await tenant.folder({ 'nl-BE': 'Groen' });
  const project = await tenant.project({ 'nl-BE': 'Parken', en: 'Parks' }, 'published', folder.publication);
  const author = await tenant.user();
  await tenant.idea({ project_id: project, author_id: author, published_at: '2026-08-10 12:00:00' });
  smtp = await startSmtpServer();
  config = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    launch: '2026-03-02',
    schedules: {
      'council-quarterly': { job: 'council-update', audience: 'council', cron: '0 9 * 1,4,7,10 1#1', timezone: 'Europe/Brussels' },
      // No timezone: the tenant's core.timezone (America/Santiago) applies.
      'council-santiago': { job: 'council-update', audience: 'council', afterLaunch: ['P0D', 'P6M'], dates: ['2027-03-09 14:00'] },
    },
  });
});

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
});

describe('crier check', () => {
  it('lists each schedule’s next occurrences in local time, strictly after --from', async () => {
    const res = await crier(['check', '--json', '--from', '2026-11-23T00:00:00Z', '--count', '3', '--config', config]);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.ok).toBe(true);
    expect(out.schedules).toEqual([
      expect.objectContaining({ id: 'council-quarterly', job: 'council-update', timezone: 'Europe/Brussels', occurrences: ['2027-01-04T09:00:00.000+01:00', '2027-04-05T09:00:00.000+02:00', '2027-07-05T09:00:00.000+02:00'] }),
      expect.objectContaining({ id: 'council-santiago', timezone: 'America/Santiago', occurrences: ['2027-03-09T14:00:00.000-03:00'] }),
    ]);
    const launchDay = JSON.parse((await crier(['check', '--json', '--from', '2026-03-01T00:00', '--count', '2', '--config', config])).stdout);
    // Chile is on summer time (-03:00) until April and on standard time (-04:00) until September.
    expect(launchDay.schedules[1].occurrences).toEqual(['2026-03-02T09:00:00.000-03:00', '2026-09-02T09:00:00.000-04:00']);
  });

  it('prints a readable list without --json', async () => {
    const res = await crier(['check', '--from', '2026-11-23T00:00:00Z', '--count', '1', '--config', config]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/OK, 2 schedules/);
    expect(res.stdout).toMatch(/council-quarterly \(council-update, Europe\/Brussels\)[\s\S]*Mon 4 Jan 2027 09:00 \+01:00/);
  });
});

describe('crier preview', () => {
  it('renders the occurrence with live data into .html, .txt and .eml files and sends nothing', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'crier-preview-'));
    const res = await crier(['preview', 'council-quarterly', '--at', '2026-10-05T09:00', '--out', out, '--json', '--config', config]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout);
    expect(json).toMatchObject({
      schedule: 'council-quarterly',
      occurrence: '2026-10-05T09:00:00.000+02:00',
      period: { start: '2026-07-01T00:00:00.000+02:00', end: '2026-10-01T00:00:00.000+02:00' },
      recipients: [
        { email: 'anna@example.org', name: 'Anna Schmidt', locale: 'de-DE' },
        { email: 'burgemeester@example.org', name: 'Mathias De Clercq', locale: 'nl-BE' },
        { email: 'claire@example.org', name: 'Claire Dubois', locale: 'fr-BE' },
      ],
      summary: {
        period: { start: '2026-07-01T00:00:00.000+02:00', end: '2026-10-01T00:00:00.000+02:00', timezone: 'Europe/Brussels' },
        totals: { newUsers: 0, participants: 1, inputs: 1, surveyResponses: 0, comments: 0, reactions: 0, votes: 0 },
        previous: { participants: 0, inputs: 0 },
        projects: [{ title: 'Parken', status: 'published', folder: 'Groen', inputs: 1, surveyResponses: 0, comments: 0, reactions: 0, votes: 0, participants: 1 }],
      },
    });
    // The subject shown is the first recipient's (in address order): Anna's, in German.
    expect(json.subject.replace(/\s/g, ' ')).toBe('Beteiligung Q3 2026: 1 Person hat teilgenommen');
    expect(json.files).toHaveLength(9);
    for (const f of json.files) expect(existsSync(f)).toBe(true);
    const eml = readFileSync(json.files.find((f: string) => f.endsWith('.eml') && f.includes('claire')), 'utf8');
    expect(eml).toMatch(/^To: Claire Dubois <claire@example.org>$/m);
    expect(smtp.received).toHaveLength(0);
  });

  it('uses the tenant’s time zone for a schedule without one', async () => {
    const res = await crier(['preview', 'council-santiago', '--at', '2027-03-09T14:00', '--out', mkdtempSync(path.join(tmpdir(), 'crier-preview-')), '--json', '--config', config]);
    const json = JSON.parse(res.stdout);
    expect(json.occurrence).toBe('2027-03-09T14:00:00.000-03:00');
    expect(json.period).toEqual({ start: '2026-10-01T00:00:00.000-03:00', end: '2027-01-01T00:00:00.000-03:00' });
  });

  it('names an unknown schedule and the ones there are', async () => {
    const res = await crier(['preview', 'council-monthly', '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no schedule 'council-monthly'.*schedules: council-quarterly, council-santiago/);
  });
});
