import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { unsubscribeToken, type UnsubscribeClaim } from '../src/delivery/unsubscribe.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer, type Received } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * One-click unsubscribe end to end: e-mails of real runs go to a real SMTP server; their
 * List-Unsubscribe link is POSTed to the real HTTP endpoint as Gmail does, and opened in
 * Chromium as a person does; the next run skips the address. Forged, altered and rotated-out
 * tokens change nothing. The public address is https (a reverse proxy terminates TLS): the
 * test plays the proxy, sending what the link names to the server on an ephemeral port.
 */
const name = uniqueName('crier_unsub');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const PUBLIC = 'https://crier.unsubscribe.test';
const NEW_SECRET = 'the-new-link-secret-0123456789';
const OLD_SECRET = 'the-old-link-secret-0123456789';
const GONE_SECRET = 'a-secret-no-longer-listed-0123';
const SCREENSHOTS = path.resolve('test-output/screenshots');
const zone = 'Europe/Brussels';

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;
let crier: Crier;
let server: HttpServer;
let browser: Browser | undefined;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  tenant = await createTenant(host);
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      council: [
        { name: 'Mathias De Clercq', email: 'burgemeester@example.org', locale: 'nl-BE' },
        { name: 'Claire Dubois', email: 'claire@example.org', locale: 'fr-BE' },
        { name: 'Anna Schmidt', email: 'anna@example.org', locale: 'de-DE' },
      ],
      team: [{ name: 'Jan Peeters', email: 'jan@example.org', locale: 'nl-BE' }],
      staff: [{ name: 'Pat Smith', email: 'pat@example.org', locale: 'en' }],
    },
    schedules: {
      'council-a': { job: 'council-update', audience: 'council', dates: ['2027-01-04 09:00', '2027-04-05 09:00'], timezone: zone },
      'team-a': { job: 'council-update', audience: 'team', unsubscribe: 'job', dates: ['2027-01-05 09:00'], timezone: zone },
      'team-b': { job: 'council-update', audience: 'team', dates: ['2027-01-06 09:00'], timezone: zone },
      internal: { job: 'council-update', audience: 'staff', unsubscribe: 'none', dates: ['2027-01-07 09:00'], timezone: zone },
    },
    extra: { http: { host: '127.0.0.1', port: 8080, publicUrl: PUBLIC, secrets: [NEW_SECRET, OLD_SECRET] } },
  });
  const jobs = await loadJobKinds();
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    }),
  );
  crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger });
  await crier.ledger.migrate();
  server = await startHttpServer(crier, { host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await crier?.close();
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

/** What the reverse proxy does: the public https address to the server on its ephemeral port. */
const local = (publicLink: string) => {
  expect(publicLink.startsWith(`${PUBLIC}/u/`), publicLink).toBe(true);
  return server.url + publicLink.slice(PUBLIC.length);
};

const header = (m: Received, key: string) => m.parsed.headers.find((h) => h.key === key)?.value;
const received = (schedule: string, email: string) => smtp.received.filter((m) => header(m, 'x-crier-schedule') === schedule && m.envelopeTo[0] === email);

/** The https link of List-Unsubscribe, as a mail provider reads it. */
function oneClickLink(m: Received): string {
  const value = (header(m, 'list-unsubscribe') ?? '').replace(/\s+/g, ' ');
  const links = [...value.matchAll(/<([^>]+)>/g)].map((x) => x[1].replace(/\s+/g, ''));
  return links.find((l) => l.startsWith('https:'))!;
}

/** A run of one occurrence through the real `crier run`; its id. */
async function run(schedule: string, at: string): Promise<number> {
  const res = await cli(['run', schedule, '--at', at, '--wait', '--json', '--config', configFile]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout).run.id;
}

/** A POST exactly as Gmail sends it (RFC 8058): a form body, no cookies, no following of redirects. */
const gmailPost = (url: string) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click', redirect: 'manual' });

const suppressionsNow = async () => (await crier.ledger.suppressions()).map((s) => `${s.email} ${s.scope} ${s.target} ${s.reason}`).sort();

/** Swaps one character of a token's payload (keeping it base64url). */
function alterPayload(token: string, at = 5): string {
  const [payload, signature] = token.split('.');
  const c = payload[at];
  return `${payload.slice(0, at)}${c === 'A' ? 'B' : 'A'}${payload.slice(at + 1)}.${signature}`;
}

describe('one-click unsubscribe through the real HTTP endpoint', () => {
  let claireLink = '';

  it('an e-mail of a real run carries List-Unsubscribe (https link and mailto) and List-Unsubscribe-Post', async () => {
    await run('council-a', '2027-01-04T09:00');
    const [mail] = received('council-a', 'claire@example.org');
    expect(mail).toBeDefined();
    const value = (header(mail, 'list-unsubscribe') ?? '').replace(/\s+/g, ' ');
    expect(value).toMatch(/^<https:\/\/crier\.unsubscribe\.test\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{24}>, <mailto:participatie@example\.org\?subject=Unsubscribe%20claire%40example\.org%20from%20council-a>$/);
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    claireLink = oneClickLink(mail);
    // The footer links to the same page.
    expect(mail.parsed.html).toContain(claireLink);
  });

  it('a POST as Gmail sends it unsubscribes at once: 200, no redirect, no cookie; `crier suppressions` lists it', async () => {
    const res = await gmailPost(local(claireLink));
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('claire@example.org ne recevra plus « Bilan trimestriel pour le conseil »');
    // Again: still fine, nothing doubled.
    expect((await gmailPost(local(claireLink))).status).toBe(200);

    const list = await cli(['suppressions', '--json', '--config', configFile]);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout).suppressions.filter((s: { email: string }) => s.email === 'claire@example.org');
    expect(rows).toEqual([expect.objectContaining({ email: 'claire@example.org', scope: 'schedule', target: 'council-a', reason: 'unsubscribed' })]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'unsubscribed', email: 'claire@example.org', schedule: 'council-a', scope: 'schedule' }));
  });

  it('a multipart/form-data POST (some providers send one) unsubscribes too', async () => {
    const link = oneClickLink(received('council-a', 'anna@example.org')[0]);
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(local(link), { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('anna@example.org erhält „Quartalsbericht für den Rat“ nicht mehr.');
    expect(await suppressionsNow()).toContain('anna@example.org schedule council-a unsubscribed');
  });

  it("the schedule's next run records the unsubscribed addresses as skipped, with the reason", async () => {
    const runId = await run('council-a', '2027-04-05T09:00');
    const deliveries = await crier.ledger.deliveries(runId);
    const of = (email: string) => deliveries.find((d) => d.email === email);
    expect(of('claire@example.org')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('unsubscribed') });
    expect(of('anna@example.org')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('unsubscribed') });
    expect(of('burgemeester@example.org')?.status).toBe('sent');
    expect(received('council-a', 'claire@example.org')).toHaveLength(1);
  });

  it('the page in Chromium: in the recipient’s language, one button unsubscribes, undo subscribes again', async () => {
    const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    expect(existsSync(chromiumPath), 'chromium is not installed: .ci/run installs it (apt-get install chromium)').toBe(true);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const link = oneClickLink(received('council-a', 'burgemeester@example.org')[0]);
    const mine = async () => (await suppressionsNow()).filter((s) => s.startsWith('burgemeester@'));

    // GET shows the question and changes nothing (scanners fetch links too).
    const res = await page.goto(local(link));
    expect(res?.status()).toBe(200);
    expect(await page.getAttribute('html', 'lang')).toBe('nl-BE');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Uitschrijven');
    await expect.poll(() => page.locator('main').textContent()).toContain('Wil je “Kwartaalupdate voor de gemeenteraad” niet meer ontvangen op burgemeester@example.org?');
    expect(await page.getByRole('button').count()).toBe(1);
    expect(await mine()).toEqual([]);
    // Fits a phone: nothing scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'unsubscribe-nl-BE-confirm.png'), fullPage: true });

    await page.getByRole('button', { name: 'Uitschrijven' }).click();
    await page.getByRole('heading', { name: 'Je bent uitgeschreven' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('burgemeester@example.org ontvangt “Kwartaalupdate voor de gemeenteraad” niet meer.');
    expect(await mine()).toEqual(['burgemeester@example.org schedule council-a unsubscribed']);
    expect(await context.cookies()).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'unsubscribe-nl-BE-done.png'), fullPage: true });

    // Opening the link again shows the done state, with undo.
    await page.goto(local(link));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Je bent uitgeschreven');
    await page.getByRole('button', { name: 'Ongedaan maken' }).click();
    await page.getByRole('heading', { name: 'Je bent opnieuw ingeschreven' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('burgemeester@example.org ontvangt “Kwartaalupdate voor de gemeenteraad” opnieuw.');
    expect(await mine()).toEqual([]);
    // The other unsubscribes are untouched.
    expect(await suppressionsNow()).toEqual(['anna@example.org schedule council-a unsubscribed', 'claire@example.org schedule council-a unsubscribed']);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('escapes what goes into the page', async () => {
    const token = unsubscribeToken([NEW_SECRET], { email: '<img src=x onerror=alert(1)>@example.org', schedule: 'council-a', job: 'council-update', locale: 'en" onload="x' });
    const res = await fetch(`${server.url}/u/${token}`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;@example.org');
    expect(html).not.toContain('<img');
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<(link|script|img)\b/);
  });
});

describe('tokens that are not what Crier signed change nothing', () => {
  const claim: UnsubscribeClaim = { email: 'burgemeester@example.org', schedule: 'council-a', job: 'council-update', locale: 'nl-BE' };

  async function expectRefused(token: string) {
    const before = await suppressionsNow();
    const get = await fetch(`${server.url}/u/${token}`, { headers: { 'Accept-Language': 'fr-BE,fr;q=0.9' } });
    expect([400, 404]).toContain(get.status);
    if (get.status === 400) {
      const html = await get.text();
      expect(html).toContain('<html lang="fr-BE">');
      expect(html).toContain('Ce lien ne fonctionne pas');
    }
    expect([400, 404]).toContain((await gmailPost(`${server.url}/u/${token}`)).status);
    expect([400, 404]).toContain((await fetch(`${server.url}/u/${token}/undo`, { method: 'POST', redirect: 'manual' })).status);
    expect(await suppressionsNow()).toEqual(before);
  }

  it('a forged token is refused', async () => {
    await expectRefused('not-a-token');
    await expectRefused(`${Buffer.from(JSON.stringify({ e: claim.email, s: claim.schedule, j: claim.job, l: claim.locale })).toString('base64url')}.${'A'.repeat(24)}`);
  });

  it('an altered token is refused: a character of the payload changed, or another address under the original signature', async () => {
    const link = oneClickLink(received('council-a', 'burgemeester@example.org')[0]);
    const token = link.slice(link.lastIndexOf('/') + 1);
    await expectRefused(alterPayload(token));
    await expectRefused(alterPayload(token, 12));
    const signature = token.split('.')[1];
    const otherAddress = Buffer.from(JSON.stringify({ e: 'someone-else@example.org', s: 'council-a', j: 'council-update', l: 'nl-BE' })).toString('base64url');
    await expectRefused(`${otherAddress}.${signature}`);
    // The original still works (it was not the server refusing everything).
    expect((await fetch(local(link))).status).toBe(200);
  });

  it('a token signed with the older secret still works after rotation; one signed with a secret no longer listed is refused', async () => {
    const old = unsubscribeToken([OLD_SECRET], { ...claim, email: 'old-link@example.org' });
    expect((await gmailPost(`${server.url}/u/${old}`)).status).toBe(200);
    expect(await suppressionsNow()).toContain('old-link@example.org schedule council-a unsubscribed');
    await expectRefused(unsubscribeToken([GONE_SECRET], { ...claim, email: 'gone-link@example.org' }));
  });
});

describe('what an unsubscribe stops is the schedule’s choice', () => {
  it('`unsubscribe: job` stops every schedule of that job kind', async () => {
    await run('team-a', '2027-01-05T09:00');
    const [mail] = received('team-a', 'jan@example.org');
    const link = oneClickLink(mail);
    const page = await (await fetch(local(link))).text();
    expect(page).toContain('Wil je geen enkele e-mail van deze soort (“Kwartaalupdate voor de gemeenteraad”) meer ontvangen op jan@example.org?');
    const res = await gmailPost(local(link));
    expect(res.status).toBe(200);
    expect(await suppressionsNow()).toContain('jan@example.org job council-update unsubscribed');
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'unsubscribed', email: 'jan@example.org', schedule: 'team-a', scope: 'job', target: 'council-update' }));

    const runId = await run('team-b', '2027-01-06T09:00');
    expect(await crier.ledger.deliveries(runId)).toEqual([expect.objectContaining({ email: 'jan@example.org', status: 'skipped', reason: expect.stringContaining('unsubscribed') })]);
    expect(received('team-b', 'jan@example.org')).toHaveLength(0);
  });

  it('`unsubscribe: none` sends no List-Unsubscribe, the footer says why, and a POST is refused', async () => {
    await run('internal', '2027-01-07T09:00');
    const [mail] = received('internal', 'pat@example.org');
    expect(mail).toBeDefined();
    expect(header(mail, 'list-unsubscribe')).toBeUndefined();
    expect(header(mail, 'list-unsubscribe-post')).toBeUndefined();
    expect(mail.parsed.text?.replace(/\s+/g, ' ')).toContain('comes with this e-mail, so it has no unsubscribe link');
    expect(mail.parsed.html).not.toContain(`${PUBLIC}/u/`);

    // A link made for it anyway (the setting changed after the e-mail went out) unsubscribes nobody.
    const before = await suppressionsNow();
    const token = unsubscribeToken([NEW_SECRET], { email: 'pat@example.org', schedule: 'internal', job: 'council-update', locale: 'en' });
    const post = await gmailPost(`${server.url}/u/${token}`);
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('cannot unsubscribe');
    const get = await fetch(`${server.url}/u/${token}`);
    const html = await get.text();
    expect(html).toContain('You cannot unsubscribe from this e-mail');
    expect(html).not.toContain('<form');
    expect(await suppressionsNow()).toEqual(before);
  });
});
