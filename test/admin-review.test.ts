import { DateTime } from 'luxon';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { Crier } from '../src/deployment/deployment.ts';
import { engineOf, transportOf } from '../src/cli/context.ts';
import { hashPassword } from '../src/http/admin/passwords.ts';
import { reviewsPage } from '../src/http/admin/reviews.ts';
import { startHttpServer, type HttpServer } from '../src/http/server.ts';
import { startSmtpReceiver } from '../src/inbound/smtp-receiver.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { runNow } from '../src/queue/actions.ts';
import { CrierQueues, startWorkers, type Workers } from '../src/queue/queues.ts';
import type { Transport } from '../src/delivery/transport.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { smtpDeliver } from './helpers/smtp-client.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';
import { openProfile } from './helpers/browser.ts';

/*
 * The dashboard's Reviews page as a superadmin checks it, in Chromium: a real review round sent
 * over SMTP, replies received by Crier's own SMTP receiver (a stranger's, a reviewer's hold
 * whose reason is markup, a later "leave out"), the send held at its occurrence, and a second
 * reviewed schedule whose round has not gone out. One project's title is markup too: the page
 * shows all of it as text.
 */
const name = uniqueName('crier_adrev');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const zone = 'Europe/Brussels';
const PASSWORD = 'correct horse battery staple';
const OCCURRENCE = DateTime.fromISO('2027-01-04T09:00', { zone });
// Crier's clock, whatever the date the suite runs on: the replies come before the deadline (1 Jan
// 09:00), and the spring schedule's round (31 Mar) is still ahead.
const NOW = DateTime.fromISO('2026-12-29T10:00', { zone }).toJSDate();
const REVIEWERS = { secretaris: 'secretaris@city.example', directeur: 'directeur@city.example' };
const HOSTILE_TITLE = '<img src=x onerror=alert(1)>Plein';
const HOLD_REASON = '<script>alert("hold")</script> de parkcijfers kloppen niet';
const STRANGER_TEXT = 'approve\n\n<b onmouseover=alert(2)>Pieter Pers</b>, De Krant';
// Most active first: the round numbers them in this order.
const PROJECTS: { title: Record<string, string>; ideas: number }[] = [
  { title: { 'nl-BE': 'Marktplein', fr: 'Place du Marché', en: 'Market square' }, ideas: 3 },
  { title: { 'nl-BE': HOSTILE_TITLE, en: 'Square' }, ideas: 2 },
  { title: { 'nl-BE': 'Bibliotheek', en: 'Library' }, ideas: 1 },
];

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let crier: Crier;
let queues: CrierQueues;
let transport: Transport;
let workers: Workers;
let server: HttpServer;
let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
let browser: Awaited<ReturnType<typeof openProfile>> | undefined;
let roundId: number;
let sendId: number;

/** Waits until a run has `status` (the workers of this process work it; expect.poll is for tests only). */
async function settled(id: number, status: string) {
  for (let i = 0; i < 300; i++) {
    const run = await crier.ledger.run(id);
    if (run?.status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} is not ${status} after 30 s: ${(await crier.ledger.run(id))?.status}`);
}

/** A plain-text reply as a mail client sends it, to a reviewer's personal reply address. */
const replyOf = (o: { from: string; to: string; subject: string; text: string }) =>
  Buffer.from(
    [`From: ${o.from}`, `To: ${o.to}`, `Subject: ${o.subject}`, `Date: ${NOW.toUTCString()}`, `Message-ID: <${Math.random().toString(36).slice(2)}@mail.example>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', o.text.replace(/\n/g, '\r\n'), ''].join('\r\n'),
    'utf8',
  );

beforeAll(async () => {
  tenant = await createTenant(host);
  const resident = await tenant.user({ first_name: 'Eva' });
  for (const p of PROJECTS) {
    const project = await tenant.project(p.title, 'published');
    for (let n = 0; n < p.ideas; n++) await tenant.idea({ project_id: project, author_id: resident, published_at: `2026-11-0${n + 1} 10:00:00`, title_multiloc: { 'nl-BE': `Idee ${n}` } });
  }
  smtp = await startSmtpServer();
  const review = { audience: ['management'], before: 'P5D', decide: 'P2D' };
  const configFile = writeTestConfig({
    tenant: host,
    name,
    smtp: smtp.url,
    audiences: {
      council: [{ name: 'Mathias De Clercq', email: 'burgemeester@city.example', locale: 'nl-BE' }],
      management: [
        { name: 'Sofie Secretaris', email: REVIEWERS.secretaris, locale: 'nl-BE' },
        { name: 'Dirk Directeur', email: REVIEWERS.directeur, locale: 'en' },
      ],
    },
    schedules: {
      council: { job: 'council-update', audience: ['council'], dates: ['2027-01-04 09:00'], timezone: zone, review: { ...review, default: 'send' } },
      'council-spring': { job: 'council-update', audience: ['council'], dates: ['2027-04-05 09:00'], timezone: zone, review: { ...review, default: 'hold' } },
    },
    extra: {
      inbound: { address: 'review@city.example', secret: 'test-secret-for-review-tokens-0123' },
      operator: { name: 'Olga Operator', email: 'operator@city.example', locale: 'en' },
      http: { port: 0, admin: { users: { browser: await hashPassword(PASSWORD) }, sessionSecrets: ['a-session-secret-for-the-test-0123456789'] } },
    },
  });
  const jobs = await loadJobKinds();
  crier = new Crier(loadConfig(configFile, { jobs }), jobs, { logger: pino({ level: 'silent' }), now: () => NOW });
  await crier.ledger.migrate();
  queues = new CrierQueues(crier.config.crier, crier.ledger, crier.log);
  transport = transportOf(crier);
  // What `crier start` runs, minus the tick: the runs below are asked for, as `crier run` would.
  workers = startWorkers(engineOf(crier, transport), queues, { tick: false });
  server = await startHttpServer(crier, { host: '127.0.0.1', port: 0, queues });
  receiver = await startSmtpReceiver(crier, { host: '127.0.0.1', port: 0, maxSize: 1024 * 1024 });

  // The round goes to the two reviewers.
  roundId = (await runNow(crier, queues, { scheduleId: 'council', at: OCCURRENCE, variant: 'review' })).run.id;
  await settled(roundId, 'done');
  const replyTo = (email: string) => smtp.received.find((m) => m.envelopeTo.includes(email))!.parsed.replyTo![0].address!;
  const deliver = async (to: string, o: { from: string; subject: string; text: string }) => expect(await smtpDeliver(receiver.port, to, replyOf({ ...o, to }))).toMatch(/^250 /);
  // A journalist the draft was forwarded to, writing to Sofie's address: kept, counts for nothing.
  await deliver(replyTo(REVIEWERS.secretaris), { from: 'Pieter Pers <pers@krant.example>', subject: 'Re: Ter controle <b>Q4</b>', text: STRANGER_TEXT });
  // Sofie holds the send, her reason markup; Dirk's later "leave out 2" comes after her decision.
  await deliver(replyTo(REVIEWERS.secretaris), { from: `Sofie Secretaris <${REVIEWERS.secretaris}>`, subject: 'Re: Ter controle: Q4 2026', text: `hold: ${HOLD_REASON}` });
  await deliver(replyTo(REVIEWERS.directeur), { from: `Dirk Directeur <${REVIEWERS.directeur}>`, subject: 'Re: For review: Q4 2026', text: 'leave out 2' });

  // At the occurrence the send is held.
  sendId = (await runNow(crier, queues, { scheduleId: 'council', at: OCCURRENCE })).run.id;
  await settled(sendId, 'held');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await server?.close();
  await workers?.close(10_000);
  await queues?.close();
  await transport?.close();
  await crier?.close();
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('the Reviews page', () => {
  it('in Chromium: the schedule, the numbered items, every reply with its message and outcome, what applies and the held send; hostile text as text', async () => {
    browser = await openProfile('admin-review');
    const context = browser.context;
    const page = context.pages()[0] ?? (await context.newPage());
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    await page.goto(`${server.url}/admin`);
    await page.getByLabel('User name').fill('browser');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/admin');
    await page.getByRole('link', { name: 'Reviews', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/admin/reviews');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Reviews');

    const council = page.locator('section').filter({ has: page.getByRole('heading', { name: /^council: / }) });
    const text = (await council.innerText()).replace(/\s+/g, ' ');
    // The schedule, its send and the deadline in its local time, the default.
    expect(await council.getByRole('heading', { level: 2 }).textContent()).toBe('council: the send of Mon 4 Jan 2027 09:00 Europe/Brussels (council-update)');
    expect(text).toContain('Decisions due Fri 1 Jan 2027 09:00 Europe/Brussels');
    expect(text).toContain('Default send');
    // The items in the numbering the reviewers saw, in the superadmin's language, the others after.
    const items = await council.locator('table').nth(1).getByRole('row').allInnerTexts();
    expect(items.slice(1)).toEqual(['1\tMarket square (fr: Place du Marché · nl-BE: Marktplein)', `2\tSquare (nl-BE: ${HOSTILE_TITLE})`, '3\tLibrary (nl-BE: Bibliotheek)']);
    // Who was asked, their drafts sent.
    const asked = (await council.locator('table').nth(2).getByRole('row').allInnerTexts()).slice(1);
    expect(asked.map((r) => r.split('\t').slice(0, 3)).sort()).toEqual([
      [`Dirk Directeur <${REVIEWERS.directeur}>`, 'en', 'sent'],
      [`Sofie Secretaris <${REVIEWERS.secretaris}>`, 'nl-BE', 'sent'],
    ]);

    // Every reply, in the order they came, with its outcome and the message it came from.
    const replies = council.locator('.reply');
    expect(await replies.count()).toBe(3);
    const reply = async (i: number) => (await replies.nth(i).innerText()).replace(/\s+/g, ' ');
    const stranger = await reply(0);
    expect(stranger).toContain('pers@krant.example');
    expect(stranger).toContain('unverified: not one of the reviewers');
    expect(stranger).toContain('unverified not from a reviewer: counts for nothing, not answered');
    expect(stranger).toContain('Read as: send');
    expect(stranger).toContain('Re: Ter controle <b>Q4</b>');
    expect(await replies.nth(0).locator('pre').textContent()).toBe(STRANGER_TEXT);
    const sofie = await reply(1);
    expect(sofie).toContain(`${REVIEWERS.secretaris}`);
    expect(sofie).toContain('verified: one of the reviewers');
    expect(sofie).toContain('taken taken: the first verified decision · this decision applies');
    expect(sofie).toContain(`Read as: hold: ${HOLD_REASON}`);
    expect(await replies.nth(1).locator('pre').textContent()).toContain(`hold: ${HOLD_REASON}`);
    const dirk = await reply(2);
    expect(dirk).toContain(REVIEWERS.directeur);
    expect(dirk).toContain('already a decision had already been taken');
    expect(dirk).toContain('Read as: send; leaving out 2');
    expect(dirk).not.toContain('this decision applies');

    // What applies, and the send it held.
    expect(text).toContain(`What applies: hold: ${HOLD_REASON}; decided by ${REVIEWERS.secretaris}; the first verified decision stands`);
    expect(text).toContain(`#${sendId} held held by ${REVIEWERS.secretaris}: ${HOLD_REASON}`);
    expect(text).toContain('crier run council --at 2027-01-04T09:00 --force sends it anyway');

    // The reviewed schedule whose round has not gone out: when it will.
    const spring = page.locator('section').filter({ has: page.getByRole('heading', { name: /^council-spring/ }) });
    expect((await spring.innerText()).replace(/\s+/g, ' ')).toContain('No review round has gone out yet. The next is planned for Wed 31 Mar 2027 09:00 Europe/Brussels.');

    // Hostile text stayed text: no element made of it, nothing ran.
    expect(await page.locator('main script, main img, main b').count()).toBe(0);
    expect(await page.content()).not.toContain('<script>alert');
    expect(dialogs).toEqual([]);

    // The round is a run: its page lists the e-mails the reviewers got.
    await council.getByRole('link', { name: `#${roundId}` }).click();
    await page.waitForURL((u) => u.pathname === `/admin/runs/${roundId}`);
    expect(await page.locator('main').textContent()).toContain(REVIEWERS.directeur);
  }, 60_000);

  it('says where to start when the config has no schedule with review:', () => {
    const text = reviewsPage({ user: 'ops', csrf: 't' }, [], 'en').text;
    expect(text).toContain('The config has no schedule with <code>review:</code>. See “Review before sending” in the README');
  });
});
