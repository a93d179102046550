import { DateTime } from 'luxon';
import nodemailer from 'nodemailer';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CrierConfig } from '../src/config/load.ts';
import { resolveAudience } from '../src/delivery/audience.ts';
import { composeMessage, type ComposeDeps } from '../src/delivery/compose.ts';
import { renderMessage, viewContext, type RenderedMessage } from '../src/delivery/message.ts';
import { createTransport, type OutgoingMessage } from '../src/delivery/transport.ts';
import type { Schedule, ScheduleBook } from '../src/deployment/schedules.ts';
import { roundReader } from '../src/inbound/rounds.ts';
import type { RoundReader } from '../src/kit/rounds.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { clip } from '../src/kit/blocks.ts';
import type { JobKind, PlannedRun, Recipient } from '../src/kit/contract.ts';
import { Platform } from '../src/platform/platform.ts';
import { fallbackChain, loadCatalogues, translate } from '../src/render/catalog.ts';
import { Formatter } from '../src/render/format.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * Hostile platform data (issue 10): a tenant whose every text Crier shows is an attack or a
 * mistake, and a second, bare one where every nullable column Crier reads is NULL. Every job kind
 * in jobs/ (from the registry), every variant it plans, for a recipient in every catalogue
 * language (and in a locale no catalogue has, a malformed one, and none), is rendered and
 * addressed as a run would (composeMessage), built by nodemailer as the SMTP transport builds
 * it, and sent through a real SMTP server. What a person would check:
 * - the HTML shows the data as text: no <script>, no tag or event handler from the data, no
 *   MJML tag, only http(s)/mailto links, no control characters, under Gmail's 102 KB clip even
 *   with 1 MB titles;
 * - the text part shows the data as typed (text/plain is never interpreted: a title
 *   "<script>…" reads as the platform shows it), with no markup of Crier's own and nothing
 *   HTML-escaped twice;
 * - headers: one To, the recipient's; no Bcc or other header smuggled in by CR/LF in a name or
 *   a subject; the SMTP envelope names only the recipient;
 * - NULLs and texts in locales the platform does not list render, with a title for every item
 *   (the catalogue's "(untitled)" when there is none).
 * Project-call answers come back by e-mail and are no more trusted than the platform: the
 * rounds the project call and the steering agenda read are hostile too (stored in a real ledger).
 * Idea bodies are 1 MB as well, though no e-mail shows them.
 *
 * "Invalid UTF-8": Postgres text and jsonb only hold valid UTF-8, and jsonb also refuses lone
 * surrogates and \u0000, so no byte sequence that is not UTF-8 can reach Crier from the
 * platform. What can, and is in the corpus: U+FFFD (what a broken import leaves), bidi
 * overrides (U+202E) and zero-width characters, C0 controls (\u0001, \u001b), and emoji with
 * joiners (astral characters, surrogate pairs in JavaScript strings).
 */

const zone = 'Europe/Brussels';
const GMAIL_CLIP_BYTES = 102 * 1024;
const MB = 1024 * 1024;

/** Everything markup-like the corpus contains: the only tags the text part may show. */
const FRAGMENT = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  `"quotes" & 'apostrophes'`,
  '{{handlebars}} {{{triple}}} {{> partial}}',
  '[[color]] [[locale]]',
  '</mj-text><mj-button href="javascript:alert(1)">click</mj-button><mj-raw>',
  '\uFFFD \u202Egnp.exe\u202C zero\u200Bwidth \u0001\u001b[31m 🏳️‍🌈 👩🏽‍💻',
].join(' ');
/** A hostile text, labelled so a test can find where it went. */
const hostile = (label: string) => `${label} ${FRAGMENT}`;
/** Header injection: what a CR/LF in a name or a subject would smuggle in. */
const INJECT = '\r\nBcc: victim@example.org\r\nX-Injected: yes\r\n';
/** A text of about 1 MB. */
const huge = (label: string) => `${hostile(label)} ${'Lorem ipsum dolor sit amet. '.repeat(Math.ceil(MB / 28))}`;
/** A multiloc in every platform locale. */
const everyLocale = (make: (l: string) => string) => ({ 'nl-BE': make('nl'), 'fr-BE': make('fr'), en: make('en') });

const ORGANIZATION = everyLocale((l) => `Org-${l} ${FRAGMENT}${INJECT}end`);
const FIRST_NAME = `Eve ${FRAGMENT}${INJECT}`;
const LAST_NAME = `<img src=x onerror=alert(1)>${INJECT}Mallory`;

let jobs: Map<string, JobKind>;
const catalogueLocales = [...loadCatalogues().keys()].sort();

/** One rendered, addressed and built e-mail, and what produced it. */
interface Mail {
  tenant: 'hostile' | 'bare';
  kind: string;
  variant: string;
  recipient: Recipient;
  rendered: RenderedMessage & { calendar?: { method: string; content: string } };
  view: Record<string, unknown>;
  message: OutgoingMessage;
  raw: string;
  envelope: { from: string; to: string[] };
}
const mails: Mail[] = [];
const failures: string[] = [];
/** Recipients whose e-mail differs from rendering it afresh (renderMessage with nothing kept: `memo: false`). */
const unlikeFresh: string[] = [];
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
const tenants: { drop(): Promise<void> }[] = [];
const platforms: Platform[] = [];

const at = (iso: string) => DateTime.fromISO(iso, { zone });
const OCCURRENCE = at('2027-01-04T09:00');
const LAUNCH = at('2026-09-01T00:00');

/** The ledger the rounds are read from (Crier's own tables, on the real Postgres). */
const ledgers: Ledger[] = [];
let ackAnswerId = 0;

/** An empty, real ledger: no round has gone out. */
async function emptyRounds(): Promise<RoundReader> {
  const ledger = Ledger.connect(PG_URL, uniqueName('crier_hostile_ledger'));
  ledgers.push(ledger);
  await ledger.migrate();
  return roundReader(ledger.pool, () => new Date('2027-02-01T00:00:00Z'));
}

/**
 * Answers to a project call as they come back by e-mail: untrusted too, and unbounded. Stored
 * as Crier stores them (a call run, its deliveries, processed inbound messages) in a real
 * ledger, and read back through the real round reader.
 */
async function hostileRounds(folderId: string): Promise<RoundReader> {
  const ledger = Ledger.connect(PG_URL, uniqueName('crier_hostile_ledger'));
  ledgers.push(ledger);
  await ledger.migrate();
  const received = '2027-01-20T10:00:00.000Z';
  const call = await ledger.insertRun({ scheduleId: 'hostile-project-call', key: `call:${OCCURRENCE.toUTC().toISO()}`, occurrence: OCCURRENCE.toJSDate(), job: 'project-call', timezone: zone, origin: 'manual', status: 'due', variant: 'call', meta: { deadline: OCCURRENCE.plus({ days: 21 }).toUTC().toISO() } });
  await ledger.setRunStatus(call.id, 'fanned-out', ['due']);
  await ledger.insertDeliveries(call.id, [
    { email: 'head@example.org', name: `${FIRST_NAME} ${LAST_NAME}`, locale: 'xx-YY', status: 'pending', scope: { folders: [folderId] } },
    { email: 'missing@example.org', name: hostile('missing-head') + INJECT, locale: 'en', status: 'pending' },
  ]);
  await ledger.pool.query(`UPDATE deliveries SET status = 'sent', message_id = '<crier.1.1@example.org>' WHERE run_id = $1 AND email = 'head@example.org'`, [call.id]);
  const insert = async (m: { kind: string; from: string | null; subject?: string; head?: string; schedule?: string; occurrence?: string; late?: boolean; text?: string; items?: unknown[] }) =>
    Number(
      (
        await ledger.pool.query(
          `INSERT INTO inbound_messages (dedupe_key, channel, raw, received_at, from_address, subject, kind, processed_at, schedule_id, occurrence, head_email, answered_at, late, text, items)
           VALUES ($1, 'file', '\\x00', $2, $3, $4, $5, now(), $6, $7, $8, $2, $9, $10, $11) RETURNING id`,
          [uniqueName('m'), received, m.from, m.subject ?? null, m.kind, m.schedule ?? (m.head ? 'hostile-project-call' : null), m.occurrence ?? (m.head ? OCCURRENCE.toJSDate() : null), m.head ?? null, m.late ?? false, m.text ?? null, m.items ? JSON.stringify(m.items) : null],
        )
      ).rows[0].id,
    );
  const items = [
    { title: huge('item-title'), description: huge('item-description') },
    { title: hostile('item2'), description: '' },
    { title: '', description: '' },
  ];
  ackAnswerId = await insert({ kind: 'answer', from: 'head@example.org', head: 'head@example.org', late: true, text: huge('answer-text'), items });
  await insert({ kind: 'unverified', from: `"Eve${INJECT}" <eve@example.org>`, head: 'head@example.org', text: huge('unverified') });
  await insert({ kind: 'unmatched', from: null, subject: huge('unmatched-subject') });
  await insert({ kind: 'unmatched', from: `x${INJECT}@example.org`, subject: '' });
  // A late answer to an earlier round: the steering agenda shows it too.
  await insert({ kind: 'answer', from: 'earlier-head@example.org', head: 'earlier-head@example.org', schedule: 'an-earlier-call', occurrence: '2026-10-05T07:00:00.000Z', late: true, text: 'x', items });
  return roundReader(ledger.pool, () => new Date('2027-02-01T00:00:00Z'));
}

/** Job options a kind is given (parsed as the config parses them), and runs it does not plan itself. */
const OPTIONS: Record<string, Record<string, unknown>> = {
  // The meeting's location is the config's (trusted, so not 1 MB), and reaches the calendar entry.
  'steering-meeting': { location: hostile('meeting-location') + INJECT },
  'project-call': { overview: ['steering'] },
};
const UNPLANNED: Record<string, (planned: PlannedRun[]) => { variant: string; meta: Record<string, unknown>; occurrence: DateTime }[]> = {
  // A cancellation (planned only when `cancelled` lists the meeting) and a reply's acknowledgement.
  'steering-meeting': (planned) => planned.filter((r) => r.variant === 'invitation').map((r) => ({ variant: 'cancellation', meta: { ...r.meta, sequence: 1 }, occurrence: r.occurrence })),
  'project-call': (planned) => [{ variant: 'ack', meta: { ...planned[0]?.meta, answer: ackAnswerId }, occurrence: OCCURRENCE }],
};

/** Every send of a kind for one occurrence: what it plans, else one plain run. */
function runsOf(kind: JobKind, options: Record<string, unknown>) {
  const planned = kind.plan?.([OCCURRENCE], { scheduleId: `hostile-${kind.name}`, timezone: zone, options, now: OCCURRENCE }) ?? [];
  const runs = planned.length ? planned.map((r) => ({ variant: r.variant, meta: r.meta, occurrence: r.occurrence })) : [{ variant: 'default', meta: {}, occurrence: OCCURRENCE }];
  return [...runs, ...(UNPLANNED[kind.name]?.(planned) ?? [])];
}

/** Renders, addresses and builds every kind × run × recipient of one tenant. */
async function renderAll(which: Mail['tenant'], platform: Platform, recipients: Recipient[], rounds: RoundReader) {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  for (const kind of jobs.values()) {
    const options = z.object(kind.options ?? {}).parse(OPTIONS[kind.name] ?? {}) as Record<string, unknown>;
    const schedule = { id: `hostile-${kind.name}`, job: kind.name, timezone: zone, options, audience: [] } as unknown as Schedule;
    const deps: ComposeDeps = {
      platform: async () => platform,
      schedules: async () => ({ job: () => kind, kindOf: () => kind }) as unknown as ScheduleBook,
      config: { mail: { from: 'Participatie <participatie@example.org>' }, organization: { color: '#0f4c81' }, inbound: { address: 'calls@example.org', secret: 'a-secret-of-16-chars-or-more' } } as unknown as ComposeDeps['config'],
    };
    for (const run of runsOf(kind, options)) {
      const where = `${which} ${kind.name} ${run.variant}`;
      let data: unknown;
      try {
        const ctx = { scheduleId: schedule.id, occurrence: run.occurrence, variant: run.variant, meta: run.meta, timezone: zone, launch: LAUNCH, options };
        const period = kind.period(ctx);
        // As a run keeps it: the snapshot is JSON.
        data = JSON.parse(JSON.stringify(await kind.collect({ ...ctx, period, platform, recipients, rounds })));
        for (const recipient of recipients) {
          try {
            const { message, rendered } = await composeMessage(deps, { schedule, data, period, recipient, run, fileStem: 'x', runId: 1, deliveryId: mails.length + 1 });
            const view = kind.view(data, viewContext({ recipient, platform: platform.info, period, timezone: zone, run }));
            // What composeMessage gave renderMessage here, rendered with nothing kept between recipients.
            const fresh = await renderMessage({ job: kind, data, recipient, platform: platform.info, period, timezone: zone, run, sender: { name: 'Participatie', address: 'participatie@example.org' }, color: '#0f4c81', replyTo: 'participatie@example.org', unsubscribe: { url: undefined, required: false } }, { memo: false });
            for (const part of ['subject', 'html', 'text', 'preheader', 'locale'] as const) if (rendered[part] !== fresh[part]) unlikeFresh.push(`${where} ${part} for ${recipient.email} ${recipient.locale} ${recipient.variant ?? ''}`);
            const { fileStem: _f, ...mail } = message;
            const built = await transport.sendMail(mail);
            mails.push({ tenant: which, kind: kind.name, variant: run.variant, recipient, rendered, view, message, raw: (built.message as Buffer).toString('utf8'), envelope: built.envelope as Mail['envelope'] });
          } catch (e) {
            failures.push(`${where} for ${recipient.locale} ${recipient.variant ?? ''}: ${(e as Error).stack}`);
          }
        }
      } catch (e) {
        failures.push(`${where}: ${(e as Error).stack}`);
      }
    }
  }
}

/** Every audience entry with the admin role: the hostile names come from the platform's users table. */
async function admins(platform: Platform): Promise<Recipient[]> {
  const config = { audiences: { a: [{ platformRole: 'admin', includeVendorStaff: true }] }, departments: {} } as unknown as CrierConfig;
  return resolveAudience(config, { id: 's', job: 'council-update', audience: ['a'] } as never, jobs.get('council-update')!, platform, new Date('2027-01-04T08:00:00Z'));
}

/**
 * The hostile tenant. Folder and project titles, idea titles, phase titles, survey titles, event
 * titles, locations and addresses, slugs, the organisation's name and the admins' names: each
 * a hostile text, 1 MB, in a locale the platform does not list, {} or NULL.
 */
async function hostileTenant() {
  const name = uniqueName('hostile');
  const host = `${name.replace(/_/g, '-')}.crier.test`;
  const t = await createTenant(host, { organization_name: ORGANIZATION, currency: 'EUR' });
  tenants.push(t);
  const published = (ids: string[], when: string) => t.client.query(`UPDATE admin_publications SET first_published_at = $2 WHERE publication_id = ANY($1::uuid[])`, [ids, when]);

  // People: a resident, and admins (the recipients) with hostile names, no names, odd locales.
  const resident = await t.user({ first_name: hostile('resident'), last_name: null, locale: null });
  await t.user({ email: 'eve@example.org', first_name: FIRST_NAME, last_name: LAST_NAME, locale: 'nl-BE', roles: [{ type: 'admin' }] });
  await t.user({ email: 'nameless@example.org', first_name: null, last_name: null, locale: null, slug: null, roles: [{ type: 'admin' }] });
  await t.user({ email: 'unlisted@example.org', first_name: '', last_name: hostile('unlisted-locale'), locale: 'xx-YY', roles: [{ type: 'admin' }] });
  await t.user({ email: 'malformed@example.org', first_name: 'Mal', last_name: 'Formed', locale: 'nl_BE', roles: [{ type: 'admin' }] });

  // Folders: hostile and 1 MB in every locale (slug an attack too); NULL; only an unlisted locale.
  const f1 = await t.folder(everyLocale((l) => huge(`F1-${l}`)), `"><script>alert(1)</script>`);
  const f2 = await t.folder({}, undefined);
  await t.client.query(`UPDATE project_folders_folders SET title_multiloc = NULL, slug = NULL WHERE id = $1`, [f2.id]);
  const f3 = await t.folder({ 'xx-YY': hostile('F3-xx') });

  // Projects, published in Q4 2026 unless a draft.
  const p1 = await t.project(everyLocale((l) => huge(`P1-${l}`)), 'published', f1.publication, `javascript:alert(1)//"><img src=x onerror=alert(1)>`);
  const p2 = await t.project({}, 'published', f2.publication);
  await t.client.query(`UPDATE projects SET title_multiloc = NULL, slug = NULL WHERE id = $1`, [p2]);
  const p3 = await t.project({ 'xx-YY': hostile('P3-xx') } as Record<string, string>, 'published', f3.publication);
  const p4 = await t.project({}, 'published', undefined, 'p4 with spaces & "quotes"');
  const p5 = await t.project(everyLocale((l) => hostile(`P5-draft-${l}`)), 'draft', f1.publication);
  // jsonb holds null and blank translations too: nothing to show.
  const p6 = await t.project({ 'nl-BE': '   ', en: '' }, 'published');
  await t.client.query(`UPDATE projects SET title_multiloc = '{"fr-BE": null, "en": null}'::jsonb WHERE id = $1`, [p6]);
  await published([p1, p2, p3, p4, p6], '2026-10-15 10:00:00');
  // A moderator for p1 only: the others are unmoderated (launch check-in lists them).
  await t.user({ email: 'mod@example.org', first_name: null, roles: [{ type: 'project_moderator', project_id: p1 }] });

  // Phases: open-ended, NULL dates, starting and ending in January and February 2027
  // (department digest, moderator digest, communication brief), native surveys ending soon.
  await t.phase(p1, 'ideation', { title_multiloc: everyLocale((l) => huge(`PH1-${l}`)), start_at: '2026-10-01', end_at: null });
  await t.phase(p3, 'ideation', { title_multiloc: null, start_at: '2027-01-05', end_at: '2027-01-08' });
  await t.phase(p4, 'information', { title_multiloc: { 'xx-YY': hostile('PH3-xx') }, start_at: '2027-01-10', end_at: '2027-02-10' });
  await t.phase(p2, 'a_method_crier_does_not_know', { title_multiloc: {}, start_at: '2027-02-01', end_at: '2027-02-28' });
  await t.phase(p3, 'voting', { title_multiloc: null, start_at: null, end_at: null, voting_method: 'budgeting' });
  const survey1 = await t.phase(p4, 'native_survey', { title_multiloc: everyLocale((l) => hostile(`SV1-${l}`)), native_survey_title_multiloc: everyLocale((l) => huge(`SV1-own-${l}`)), start_at: '2026-12-01', end_at: '2027-01-07' });
  const survey2 = await t.phase(p1, 'native_survey', { title_multiloc: { 'xx-YY': hostile('SV2-xx') }, start_at: '2026-12-01', end_at: '2027-01-08' });
  await t.client.query(`UPDATE phases SET native_survey_title_multiloc = '{"en": null, "nl-BE": "  "}'::jsonb WHERE id = $1`, [survey2]);
  const survey3 = await t.phase(p2, 'native_survey', { title_multiloc: null, native_survey_title_multiloc: null, start_at: '2026-12-01', end_at: '2027-01-09' });

  // Inputs: 1 MB title and body, NULL title and slug, unlisted locale, {}, a hostile slug; one
  // with a NULL publication status (never shown).
  const i1 = await t.idea({ project_id: p1, author_id: resident, published_at: '2026-12-30 10:00:00', title_multiloc: everyLocale((l) => huge(`I1-${l}`)), body_multiloc: everyLocale((l) => huge(`I1-body-${l}`)) });
  const i2 = await t.idea({ project_id: p3, author_id: resident, published_at: '2026-12-15 10:00:00', title_multiloc: null, slug: null, body_multiloc: null });
  const i3 = await t.idea({ project_id: p4, author_id: null, published_at: '2026-12-29 10:00:00', title_multiloc: { 'xx-YY': hostile('I3-xx') }, slug: `"><script>alert(1)</script>` });
  await t.idea({ project_id: p2, author_id: resident, published_at: '2026-11-10 10:00:00', title_multiloc: {} });
  await t.idea({ project_id: p1, author_id: resident, published_at: '2026-12-31 10:00:00', title_multiloc: everyLocale((l) => hostile(`I5-${l}`)), publication_status: null });
  for (const survey of [survey1, survey2, survey3]) await t.idea({ project_id: survey === survey1 ? p4 : survey === survey2 ? p1 : p2, creation_phase_id: survey, author_id: resident, published_at: '2027-01-02 10:00:00', title_multiloc: null });
  for (const [idea, when] of [[i1, '2026-12-10 10:00:00'], [i1, '2026-12-30 11:00:00'], [i2, '2026-12-11 10:00:00'], [i3, '2026-12-30 12:00:00']]) {
    await t.comment({ idea_id: idea, author_id: resident, created_at: when, body_multiloc: everyLocale((l) => hostile(`comment-${l}`)) });
  }

  // Events in February 2027 (the communication brief of 4 January promotes February).
  await t.insert('events', { project_id: p1, title_multiloc: everyLocale((l) => huge(`EV1-${l}`)), location_multiloc: everyLocale((l) => huge(`EV1-location-${l}`)), address_1: huge('EV1-address'), online_link: 'javascript:alert(1)', start_at: '2027-02-03 17:00:00', end_at: null });
  await t.insert('events', { project_id: null, title_multiloc: null, location_multiloc: null, address_1: null, online_link: null, start_at: '2027-02-04 17:00:00', end_at: null });
  await t.insert('events', { project_id: p3, title_multiloc: { 'xx-YY': hostile('EV3-xx') }, location_multiloc: {}, address_1: huge('EV3-address') + INJECT, online_link: `https://x.example/" onmouseover="alert(1)`, start_at: '2027-02-05 17:00:00' });
  await t.insert('events', { project_id: p4, title_multiloc: {}, location_multiloc: { 'xx-YY': hostile('EV4-location-xx') }, address_1: null, online_link: 'https://meet.example/room', start_at: '2027-02-06 17:00:00' });
  await t.insert('events', { project_id: p1, title_multiloc: everyLocale((l) => hostile(`EV5-${l}`)), start_at: null });

  const platform = await Platform.connect({ database: PG_URL, tenant: host });
  platforms.push(platform);
  const found = await admins(platform);
  const eve = found.find((r) => r.email === 'eve@example.org')!;
  // Eve in every catalogue language, in a locale no catalogue has, and as the IT copy of the
  // launch check-in (the embed snippet); the other admins as the platform has them.
  const recipients = [...catalogueLocales.map((locale) => ({ ...eve, locale })), { ...eve, locale: 'xx-YY' }, { ...eve, locale: 'en', variant: 'it' }, ...found.filter((r) => r !== eve)];
  await renderAll('hostile', platform, recipients, await hostileRounds(f1.id));
}

/**
 * The bare tenant: app_configurations with NULL host and settings (no organisation name, no
 * locales, no time zone), and one of everything with every nullable column Crier reads NULL.
 */
async function bareTenant() {
  const name = uniqueName('bare');
  const host = `${name.replace(/_/g, '-')}.crier.test`;
  const t = await createTenant(host);
  tenants.push(t);
  await t.client.query(`UPDATE app_configurations SET host = NULL, settings = NULL`);
  const folder = await t.folder({});
  await t.client.query(`UPDATE project_folders_folders SET title_multiloc = NULL, slug = NULL`);
  const project = await t.project({}, 'published', folder.publication);
  await t.client.query(`UPDATE projects SET title_multiloc = NULL, slug = NULL`);
  await t.client.query(`UPDATE admin_publications SET first_published_at = '2026-10-15 10:00:00' WHERE publication_id = $1`, [project]);
  await t.phase(project, 'ideation', { title_multiloc: null, start_at: null, end_at: null });
  await t.phase(project, 'ideation', { title_multiloc: null, start_at: '2027-01-05', end_at: '2027-01-08' });
  const survey = await t.phase(project, 'native_survey', { title_multiloc: null, native_survey_title_multiloc: null, start_at: '2026-12-01', end_at: '2027-01-07' });
  await t.phase(project, 'ideation', { title_multiloc: null, start_at: '2027-02-01', end_at: null });
  const author = await t.user({ first_name: null, last_name: null, locale: null, slug: null });
  await t.user({ email: 'admin@example.org', first_name: null, last_name: null, locale: null, slug: null, roles: [{ type: 'admin' }] });
  const idea = await t.idea({ project_id: project, author_id: null, published_at: '2026-12-30 10:00:00', title_multiloc: null, body_multiloc: null, slug: null });
  await t.idea({ project_id: project, creation_phase_id: survey, author_id: author, published_at: '2027-01-02 10:00:00', title_multiloc: null });
  await t.comment({ idea_id: idea, author_id: null, created_at: '2026-12-30 11:00:00', body_multiloc: null });
  await t.insert('events', { project_id: project, title_multiloc: null, location_multiloc: null, address_1: null, online_link: null, start_at: '2027-02-03 17:00:00', end_at: null });
  const platform = await Platform.connect({ database: PG_URL, tenant: host });
  platforms.push(platform);
  const [admin] = await admins(platform);
  await renderAll('bare', platform, [...catalogueLocales.map((locale) => ({ ...admin, locale })), admin], await emptyRounds());
}

beforeAll(async () => {
  jobs = await loadJobKinds();
  await Promise.all([hostileTenant(), bareTenant()]);
  smtp = await startSmtpServer();
}, 240_000);

afterAll(async () => {
  await smtp?.close();
  for (const l of ledgers) {
    await l.pool.query(`DROP SCHEMA IF EXISTS ${l.schema} CASCADE`);
    await l.close();
  }
  for (const p of platforms) await p.close();
  for (const t of tenants) await t.drop();
});

const hostileMails = () => mails.filter((m) => m.tenant === 'hostile');
const label = (m: Mail) => `${m.tenant} ${m.kind} ${m.variant} to ${m.recipient.email} in ${m.recipient.locale}${m.recipient.variant ? ` (${m.recipient.variant})` : ''}`;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first match of a pattern with some context, or undefined: short failure messages on 1 MB texts. */
function found(text: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(text);
  return m ? JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 60)) : undefined;
}

/** Every tag of an HTML document (comments' contents included): name and attribute names. */
function tagsOf(html: string) {
  return [...html.matchAll(/<([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)].map((m) => ({
    tag: m[0],
    name: m[1].toLowerCase(),
    attributes: [...m[2].matchAll(/([^\s=/"']+)\s*(?:=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g)].map((a) => a[1].toLowerCase()),
  }));
}

/** The header block of a raw message, unfolded: one entry per header. */
function headersOf(raw: string): { name: string; value: string }[] {
  const block = raw.slice(0, raw.indexOf('\r\n\r\n'));
  return block
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .map((line) => ({ name: line.slice(0, line.indexOf(':')).toLowerCase(), value: line.slice(line.indexOf(':') + 1).trim() }));
}

describe('every job kind × language on hostile data', () => {
  it('renders every kind, variant and recipient without throwing (NULLs, {}, unlisted and malformed locales)', () => {
    expect(failures).toEqual([]);
    for (const kind of jobs.keys()) {
      for (const tenant of ['hostile', 'bare'] as const) {
        for (const locale of catalogueLocales) expect(mails.some((m) => m.tenant === tenant && m.kind === kind && m.recipient.locale === locale), `${tenant} ${kind} ${locale}`).toBe(true);
      }
    }
    for (const locale of ['xx-YY', 'nl_BE']) expect(hostileMails().some((m) => m.recipient.locale === locale), locale).toBe(true);
  });

  it('gives each recipient byte for byte what rendering afresh gives (views and template parts are kept per run and language)', () => {
    expect(unlikeFresh).toEqual([]);
  });

  it('the HTML shows the data as text: no script, no tag or handler from the data, no MJML, only web and mail links', () => {
    expect(mails.length).toBeGreaterThan(0);
    for (const m of mails) {
      const html = m.rendered.html;
      expect(found(html, /<\s*script/i), label(m)).toBeUndefined();
      expect(found(html, /<\/?mj-/), label(m)).toBeUndefined();
      for (const { tag, name, attributes } of tagsOf(html)) {
        expect(['script', 'img', 'iframe', 'object', 'embed', 'svg', 'form', 'input', 'base'], `${label(m)}: ${tag.slice(0, 200)}`).not.toContain(name);
        expect(attributes.filter((a) => a.startsWith('on')), `${label(m)}: ${tag.slice(0, 200)}`).toEqual([]);
      }
      for (const [, href] of html.matchAll(/\bhref="([^"]*)"/g)) expect(href, label(m)).toMatch(/^(https:\/\/|mailto:)[^\s<>"']*$/);
      // Control characters are not allowed in HTML text; tabs and line breaks are.
      expect(found(html, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/), label(m)).toBeUndefined();
      expect(found(html, LONE_SURROGATE), label(m)).toBeUndefined();
    }
    for (const m of hostileMails()) {
      // The data is there, escaped, and its Handlebars and compile tokens are plain text.
      for (const shown of ['&lt;script&gt;alert(1)&lt;/script&gt;', '{{handlebars}} {{{triple}}}', '[[color]] [[locale]]']) expect(m.rendered.html.includes(shown), `${label(m)}: ${shown}`).toBe(true);
    }
  });

  it('stays under Gmail’s 102 KB clip with 1 MB titles, locations and answers', () => {
    for (const m of mails) {
      expect(Buffer.byteLength(m.rendered.html), label(m)).toBeLessThanOrEqual(GMAIL_CLIP_BYTES);
      expect(Buffer.byteLength(m.rendered.text), label(m)).toBeLessThanOrEqual(GMAIL_CLIP_BYTES);
      expect(Buffer.byteLength(m.raw), label(m)).toBeLessThanOrEqual(3 * GMAIL_CLIP_BYTES);
    }
  });

  it('the text part shows the data as typed: no markup of its own, nothing escaped for HTML', () => {
    for (const m of mails) {
      const text = m.rendered.text;
      expect(found(text, /<\/?(td|tr|div|span|table|a|br|strong|mj-section|mj-column)\b/), label(m)).toBeUndefined();
      // Any tag in it is the data's own, verbatim (a title that reads "<script>…" on the platform).
      const snippet = m.recipient.variant === 'it' && m.kind === 'launch-check-in' ? /<iframe src="https:\/\/[^"]+\/widgets\/projects" title="[^"<>]*" width="100%" height="480" style="border:0"><\/iframe>/.exec(text)?.[0] : undefined;
      if (m.recipient.variant === 'it' && m.kind === 'launch-check-in') expect(snippet, `${label(m)}: the embed snippet, its title escaped for the page it is pasted in`).toBeTruthy();
      expect(found(text, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/), label(m)).toBeUndefined();
      const rest = snippet ? text.replace(snippet, '') : text;
      // Addresses are written "Name <address>".
      const tags = (rest.match(/<\/?[a-zA-Z][^<>\n]*>/g) ?? []).filter((tag) => !/^<[^\s<>@]+@[^\s<>@]+>$/.test(tag));
      for (const tag of tags) expect(FRAGMENT.includes(tag), `${label(m)}: ${tag.slice(0, 200)}`).toBe(true);
      if (m.tenant === 'hostile') {
        expect(text.includes('<script>alert(1)</script>'), label(m)).toBe(true);
        expect(found(rest, /&(lt|gt|quot|amp|#x27|#x3D|#x60);/), label(m)).toBeUndefined();
      }
    }
  });

  it('no title is blank: items without one read "(untitled)" in the recipient’s language', () => {
    const blank: string[] = [];
    const walk = (node: unknown, path: string, m: Mail) => {
      if (Array.isArray(node)) node.forEach((x, i) => walk(x, `${path}[${i}]`, m));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if ((k === 'title' || k === 'subject' || k === 'label') && typeof v === 'string' && !v.trim()) blank.push(`${label(m)}: ${path}.${k}`);
          walk(v, `${path}.${k}`, m);
        }
      }
    };
    for (const m of mails) walk(m.view, 'view', m);
    expect(blank).toEqual([]);
    for (const tenant of ['hostile', 'bare'] as const) {
      for (const locale of catalogueLocales) {
        const untitled = translate(fallbackChain(locale), 'common.untitled');
        const council = mails.find((m) => m.tenant === tenant && m.kind === 'council-update' && m.recipient.locale === locale)!;
        // Q4's new projects include one with a NULL title (and one with only null translations).
        expect(council.rendered.text.includes(untitled), `${tenant} ${locale}`).toBe(true);
        expect(council.rendered.html.includes(untitled.replace(/'/g, '&#x27;')), `${tenant} ${locale}`).toBe(true);
      }
    }
  });

  it('shows a text in a locale the platform does not list rather than nothing', () => {
    const council = hostileMails().find((m) => m.kind === 'council-update' && m.recipient.locale === 'en')!;
    expect(council.rendered.text.includes('P3-xx')).toBe(true);
    const brief = hostileMails().find((m) => m.kind === 'communication-brief' && m.recipient.locale === 'fr-BE')!;
    for (const shown of ['EV3-xx', 'EV4-location-xx']) expect(brief.rendered.text.includes(shown), shown).toBe(true);
  });

  it('the bare tenant is named by its host and still says something in every language', () => {
    for (const m of mails.filter((x) => x.tenant === 'bare')) {
      expect(m.rendered.subject.trim(), label(m)).not.toBe('');
      expect(m.rendered.html.includes('.crier.test'), label(m)).toBe(true);
    }
  });
});

describe('headers and envelope on hostile names and subjects', () => {
  it('the subject is one line, the To is the recipient, and no header is smuggled in', async () => {
    for (const m of mails) {
      expect(found(m.rendered.subject, /[\r\n]/), label(m)).toBeUndefined();
      const headers = headersOf(m.raw);
      expect(headers.filter((h) => !/^[a-z0-9-]+$/.test(h.name)), label(m)).toEqual([]);
      expect(headers.map((h) => h.name), label(m)).not.toContain('bcc');
      expect(headers.map((h) => h.name), label(m)).not.toContain('x-injected');
      expect(headers.filter((h) => h.name === 'to'), label(m)).toHaveLength(1);
      expect(headers.filter((h) => h.name === 'subject'), label(m)).toHaveLength(1);
      expect(m.envelope.to, label(m)).toEqual([m.recipient.email]);
      const parsed = await PostalMime.parse(m.raw);
      expect(found(parsed.subject ?? '', /[\r\n]/), label(m)).toBeUndefined();
      expect(parsed.to?.map((a) => a.address), label(m)).toEqual([m.recipient.email]);
      expect(parsed.cc, label(m)).toBeUndefined();
      expect(parsed.bcc, label(m)).toBeUndefined();
      // The HTML arrives as rendered (line breaks in the data travel as the transport's CRLF).
      const lines = (s: string) => s.replace(/\r\n?/g, '\n').trimEnd();
      expect(lines(parsed.html ?? '') === lines(m.rendered.html), label(m)).toBe(true);
    }
  });

  it('the recipient’s hostile name reaches the greeting escaped and the To header encoded', async () => {
    const eve = hostileMails().find((m) => m.recipient.email === 'eve@example.org' && m.recipient.locale === 'en' && !m.recipient.variant)!;
    expect(eve.rendered.html.includes('Eve &lt;script&gt;alert(1)&lt;/script&gt;')).toBe(true);
    const to = headersOf(eve.raw).find((h) => h.name === 'to')!.value;
    expect(to).toMatch(/<eve@example\.org>$/);
    expect(to).not.toMatch(/[\r\n]|Bcc:/);
  });

  it('a calendar invitation keeps hostile names and locations inside their properties', () => {
    const calendars = mails.filter((m) => m.rendered.calendar);
    expect(calendars.length).toBeGreaterThan(0);
    const known = new Set(['BEGIN', 'END', 'VERSION', 'PRODID', 'METHOD', 'NAME', 'X-WR-CALNAME', 'UID', 'SEQUENCE', 'DTSTAMP', 'DTSTART', 'DTEND', 'SUMMARY', 'LOCATION', 'ORGANIZER', 'ATTENDEE', 'STATUS', 'X-MICROSOFT-CDO-BUSYSTATUS']);
    for (const m of calendars) {
      const lines = m.rendered.calendar!.content.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);
      for (const line of lines) expect(known, `${label(m)}: ${line.slice(0, 120)}`).toContain(/^[A-Z-]+/.exec(line)?.[0]);
      expect(lines.filter((l) => l.startsWith('ATTENDEE')), label(m)).toHaveLength(1);
      expect(lines.find((l) => l.startsWith('ATTENDEE'))?.toLowerCase(), label(m)).toMatch(new RegExp(`:mailto:${m.recipient.email.replace(/[.]/g, '\\.')}$`));
    }
  });

  it('through a real SMTP server, each message reaches its recipient and no one else', async () => {
    const transport = createTransport({ kind: 'smtp', smtp: smtp.url, outbox: '', pool: { maxConnections: 2 } });
    try {
      for (const m of mails) await transport.send(m.message);
    } finally {
      await transport.close();
    }
    expect(smtp.received).toHaveLength(mails.length);
    for (const [i, r] of smtp.received.entries()) {
      expect(r.envelopeTo, label(mails[i])).toEqual([mails[i].recipient.email]);
      expect(r.parsed.bcc, label(mails[i])).toBeUndefined();
      expect(r.parsed.headers.map((h) => h.key), label(mails[i])).not.toContain('x-injected');
      expect(r.parsed.subject, label(mails[i])).toBe(mails[i].rendered.subject);
    }
  }, 120_000);
});

describe('robustness of the pieces', () => {
  it('a malformed locale tag on the platform does not stop a recipient’s e-mail', () => {
    expect(Formatter.for('nl_BE', zone).number(1234)).toBe('1.234'); // read as nl-BE
    expect(fallbackChain('nl_BE', ['fr-BE'])[0]).toBe('nl-BE');
    expect(() => Formatter.for('', zone).date('2027-01-04')).not.toThrow();
    expect(() => Formatter.for('<script>', zone).money(5, 'EUR')).not.toThrow();
  });

  it('a 1 MB title is clipped without reading all of it (it took 130 ms a title, every recipient)', () => {
    const text = huge('speed');
    const started = performance.now();
    for (let i = 0; i < 100; i++) clip(text, 120);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(clip(`${' '.repeat(MB)}x`, 120)).toBe('x'); // a start of nothing but spaces still finds the text
  });

  it('a clipped text never ends in half an emoji', () => {
    const cut = clip(`${'a'.repeat(118)}😀😀`, 120);
    expect(cut).toBe(`${'a'.repeat(118)}…`);
    expect(LONE_SURROGATE.test(cut)).toBe(false);
  });

  it('a catalogue message stays one line whatever its placeholders hold', () => {
    const subject = translate(['en'], 'launch-check-in.subject', { days: 3, platform: `City${INJECT}of\u0001 Test` });
    expect(subject).not.toMatch(/[\r\n\u0001]/);
    expect(subject).toContain('City Bcc: victim@example.org X-Injected: yes of Test');
  });
});
