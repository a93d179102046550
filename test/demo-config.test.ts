import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier } from './helpers/cli.ts';
import { dropTestData, uniqueName } from './helpers/services.ts';

/*
 * The shipped demo config, as `npm start` uses it, runs every job kind against the generated
 * demo tenant (on its own tenant, ledger schema and Redis prefix here, so nothing is shared).
 */
const name = uniqueName('crier_democfg');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const dir = mkdtempSync(path.join(tmpdir(), 'crier-democfg-'));
const file = path.join(dir, 'crier.yaml');
writeFileSync(
  file,
  readFileSync('config/crier.yaml', 'utf8')
    .replace('tenant: demo.crier.local', `tenant: ${host}`)
    .replace('  redis: ${REDIS_URL', `  schema: ${name}\n  prefix: ${name}\n  redis: \${REDIS_URL`),
);

afterAll(async () => {
  await dropTestData({ host, schema: name, redisPrefix: name });
});

describe('config/crier.yaml', () => {
  it('runs every job kind against the demo tenant into the outbox', async () => {
    const check = await crier(['check', '--json', '--config', file], {}, dir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const schedules: { id: string; job: string }[] = JSON.parse(check.stdout).schedules;
    // Every job kind in jobs/ is in the demo, or brings an example schedule the gallery fires.
    const jobs = await loadJobKinds();
    const shipped = new Set(schedules.map((s) => s.job));
    for (const kind of jobs.values()) expect(shipped.has(kind.name) || kind.example !== undefined, `${kind.name} is neither in config/crier.yaml nor has an example`).toBe(true);
    for (const job of shipped) expect(jobs.has(job)).toBe(true);

    // The first command creates the demo tenant (platform.demo: true); then every other schedule.
    const at: Record<string, string[]> = { 'launch-check-ins': ['--at', '2025-09-04T10:00'], 'council-quarterly': ['--at', '2025-08-04T09:00'] };
    const first = await crier(['run', 'council-quarterly', ...at['council-quarterly'], '--wait', '--json', '--config', file], {}, dir);
    expect(first.stderr).toBe('');
    const results = [];
    for (const s of schedules.filter((x) => x.id !== 'council-quarterly')) results.push(await crier(['run', s.id, ...(at[s.id] ?? []), '--wait', '--timeout', '60', '--json', '--config', file], {}, dir));
    for (const r of [first, ...results]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.run.status).toBe('done');
      expect(out.deliveries.failed).toBe(0);
      expect(out.deliveries.sent + out.deliveries.skipped).toBeGreaterThan(0);
    }
    const emls = readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.eml'));
    for (const s of schedules) expect(emls.some((f) => f.includes(`-${s.id}-`)), s.id).toBe(true);
    // The survey reminder found the demo's survey closing this week and reached its moderator.
    const surveys = results[schedules.filter((x) => x.id !== 'council-quarterly').findIndex((x) => x.job === 'survey-reminder')];
    expect(JSON.parse(surveys.stdout).deliveries.sent).toBeGreaterThan(0);
  }, 300_000);

  it('previews a job kind the config does not schedule through the kind’s own example', async () => {
    const without = path.join(dir, 'without-survey-reminder.yaml');
    writeFileSync(without, readFileSync(file, 'utf8').replace(/\n  # Moderators whose native surveys close[\s\S]*?within: P7D[^\n]*\n/, '\n'));
    const res = await crier(['preview', '--all', '--json', '--out', path.join(dir, 'gallery'), '--config', without], {}, dir);
    expect(res.code, res.stderr).toBe(0);
    const entries: { schedule: string; job: string; locale: string; recipients: string[]; subject: string }[] = JSON.parse(res.stdout).entries;
    const example = entries.filter((e) => e.job === 'survey-reminder');
    expect(example.map((e) => e.schedule)).toEqual(Array(example.length).fill('example-survey-reminder'));
    expect(example.map((e) => e.locale).sort()).toEqual(['de-DE', 'en', 'fr-BE', 'nl-BE']);
    expect(example[0].recipients.length).toBeGreaterThan(0);
    expect(example.find((e) => e.locale === 'en')!.subject).toMatch(/survey in your projects closes on/);
  }, 120_000);
});
