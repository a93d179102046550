import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * The management team reviews the council update before the council sees it, by e-mail: the
 * draft goes to the reviewers with real SMTP, their replies come back through Crier's own SMTP
 * receiver, and the send at the occurrence carries their decision.
 */
const name = uniqueName('crier_rev');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const SECRET = 'test-secret-for-review-tokens-0123';
const INBOUND = 'review@city.example';
// The first Monday of 2027: the council update reports Q4 2026.
const OCCURRENCE = '2027-01-04T09:00:00+01:00';
const REVIEWERS = { secretaris: 'secretaris@city.example', directeur: 'directeur@city.example' };
const PROJECTS = ['Fietsstraten', 'Speelpleinen', 'Stadspark', 'Bibliotheek', 'Marktplein'];

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

const header = (m: Received, key: string) => m.parsed.headers.find((h) => h.key === key)?.value ?? '';
const sentTo = (email: string, subject: RegExp) => smtp.received.filter((m) => m.envelopeTo.includes(email) && subject.test(m.parsed.subject ?? ''));

async function runCli(args: string[]) {
  const res = await cli([...args, '--json', '--config', configFile]);
  expect(res.code, res.stderr + res.stdout).toBe(0);
  return JSON.parse(res.stdout);
}

beforeAll(async () => {
  tenant = await createTenant(host);
  const resident = await tenant.user({ first_name: 'Eva' });
  // More activity the further down the list, so the table's order is known: Marktplein first.
  for (const [i, title] of PROJECTS.entries()) {
    const project = await tenant.project({ 'nl-BE': title, 'fr-BE': `${title} (fr)`, en: `${title} (en)` }, 'published');
    for (let n = 0; n <= i; n++) await tenant.idea({ project_id: project, author_id: resident, published_at: `2026-11-0${n + 1} 10:00:00`, title_multiloc: { 'nl-BE': `Idee ${n}` } });
  }
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      council: [
        { name: 'Mathias De Clercq', email: 'burgemeester@city.example', locale: 'nl-BE' },
        { name: 'Claire Dubois', email: 'claire@city.example', locale: 'fr-BE' },
        { name: 'Anna Schmidt', email: 'anna@city.example', locale: 'de-DE' },
      ],
      management: [
        { name: 'Sofie Secretaris', email: REVIEWERS.secretaris, locale: 'nl-BE' },
        { name: 'Dirk Directeur', email: REVIEWERS.directeur, locale: 'en' },
      ],
    },
    schedules: {
      council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { audience: ['management'], before: 'P5D', decide: 'P2D', default: 'send' } },
    },
    extra: { inbound: { address: INBOUND, secret: SECRET }, operator: { name: 'Olga Operator', email: 'operator@city.example', locale: 'en' } },
  });
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('the review round', () => {
  it('is planned before the send, at `before`, and listed by crier check', async () => {
    const out = await runCli(['check', '--from', '2026-12-01T00:00']);
    const sends = out.schedules[0].sends.map((s: { at: string; variant: string }) => [s.variant, s.at]);
    expect(sends).toEqual([
      ['review', expect.stringMatching(/^2026-12-30T09:00/)],
      ['default', expect.stringMatching(/^2027-01-04T09:00/)],
    ]);
  });

  it('sends each reviewer the draft in every language the council reads, its projects numbered, with a personal signed Reply-To', async () => {
    const out = await runCli(['run', 'council', '--at', OCCURRENCE, '--variant', 'review', '--wait']);
    expect(out.deliveries).toMatchObject({ sent: 2, failed: 0 });
    // Nothing went to the council.
    expect(smtp.received.filter((m) => m.envelopeTo.some((a) => /burgemeester|claire|anna/.test(a)))).toEqual([]);

    const [nl] = sentTo(REVIEWERS.secretaris, /./);
    const [en] = sentTo(REVIEWERS.directeur, /./);
    expect(nl.parsed.subject).toMatch(/^Ter controle: /);
    expect(en.parsed.subject).toMatch(/^For review: /);
    // The reviewer reads the instructions in their own language.
    expect(nl.parsed.text).toContain('weglaten 3, 5');
    expect(en.parsed.text).toContain('leave out 3, 5');
    expect(en.parsed.text).toMatch(/Decide by January 1, 2027\. Without a decision by then it goes out as it is/);
    // Numbered as the council's table lists them: most active first.
    const numbered = [...en.parsed.text!.matchAll(/^- (\d+)\. (.+?)\s*$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(numbered).toEqual([...PROJECTS].reverse().map((p, i) => [i + 1, `${p} (en)`]));
    // The drafts, one per language the council reads, as the council will see them.
    const files = en.parsed.attachments.map((a) => a.filename).sort();
    expect(files).toEqual(['draft-de-DE.html', 'draft-fr-BE.html', 'draft-nl-BE.html']);
    const draft = (locale: string) => {
      const a = en.parsed.attachments.find((x) => x.filename === `draft-${locale}.html`)!;
      return typeof a.content === 'string' ? a.content : Buffer.from(a.content as ArrayBuffer).toString('utf8');
    };
    expect(draft('nl-BE')).toContain('Mathias De Clercq');
    expect(draft('nl-BE')).toContain('Marktplein');
    expect(draft('fr-BE')).toContain('Claire Dubois');
    expect(draft('fr-BE')).toContain('Marktplein (fr)');
    expect(draft('de-DE')).toContain('Anna Schmidt');
    expect(nl.parsed.attachments.length).toBe(3);
    // Personal, signed reply addresses, one per reviewer.
    const replyTos = [nl, en].map((m) => m.parsed.replyTo?.[0]?.address ?? '');
    for (const r of replyTos) expect(r).toMatch(/^review\+\d+\.[a-z2-7]{16}@city\.example$/);
    expect(new Set(replyTos).size).toBe(2);
    expect(header(en, 'x-crier-schedule')).toBe('council');
  });

  it('is recorded in the ledger: the send it reviews, the deadline, the reviewers and the numbering', async () => {
    const jobs = await loadJobKinds();
    const crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }) });
    try {
      const { rows } = await crier.ledger.pool.query('SELECT * FROM reviews');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ schedule_id: 'council', send_key: '2027-01-04T08:00:00.000Z', default_decision: 'send' });
      expect(rows[0].deadline.toISOString()).toBe('2027-01-01T08:00:00.000Z');
      expect(rows[0].reviewers.map((r: { email: string }) => r.email).sort()).toEqual([REVIEWERS.directeur, REVIEWERS.secretaris]);
      expect(rows[0].items.map((i: { title: Record<string, string> }) => i.title['nl-BE'])).toEqual([...PROJECTS].reverse());
    } finally {
      await crier.close();
    }
  });
});
