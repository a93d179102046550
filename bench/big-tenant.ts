/*
 * The big tenant: a Go Vocal platform the size of a large city's after six years, in a Postgres
 * database of its own, for `npm run bench summaries` and for trying Crier's queries at scale:
 * 1,002,556 inputs, 3,003,523 comments, 5,010,147 reactions, ~200,000 residents, 300 projects
 * in 30 folders, their phases across the participation methods, votes, polls, volunteering,
 * events, official feedback and status changes, up to the moment it was made.
 *
 *   node --import tsx bench/big-tenant.ts [--force]      # makes it (minutes), unless already there
 *   PLATFORM_DATABASE_URL=postgres://127.0.0.1:5432/crier_bench_big npx crier preview council-quarterly
 *
 * The tenant's host is the demo's (demo.crier.local), in another database, so the shipped
 * config reads it once PLATFORM_DATABASE_URL names that database. It is built on the platform's
 * real tables, with exactly the indexes and foreign keys of its structure.sql (loaded after the
 * rows, as a restore would), then VACUUM ANALYZE. Folders, projects, phases and staff are
 * written from here (a seeded generator); the volume comes from big-tenant.sql (generate_series,
 * set-based INSERTs). A marker row records the generator version: a database that holds this
 * version is used as it is; bump GENERATOR_VERSION whenever what is generated changes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import pg from 'pg';
import { pgConfig } from '../src/db.ts';
import { prng } from '../src/demo/demo-tenant.ts';
import { SCHEMA_FILE } from '../src/demo/tenant-schema.ts';
import { tenantSchema } from '../src/platform/platform.ts';

export const GENERATOR_VERSION = 2;
/** BENCH_BIG_SCALE (default 1): a smaller tenant, to try the generator itself; in a database of its own, recorded in the marker. */
const SCALE = Number(process.env.BENCH_BIG_SCALE ?? 1);
export const BIG_TENANT_DATABASE = process.env.BENCH_BIG_DATABASE_URL ?? `postgres://127.0.0.1:5432/crier_bench_big${SCALE === 1 ? '' : `_scale_${String(SCALE).replace(/\W/g, '_')}`}`;
export const BIG_TENANT_HOST = 'demo.crier.local';
export const BIG_TENANT_ZONE = 'Europe/Brussels';

/** Exact row counts of the three big tables (the issue's tenant); the rest follows from them. */
const FULL = { residents: 200_000, ideas: 1_002_556, comments: 3_003_523, reactions: 5_010_147 };
const SIZE = Object.fromEntries(Object.entries(FULL).map(([k, n]) => [k, Math.max(1000, Math.round(n * SCALE))])) as typeof FULL;
const YEARS = 6;
const SEED = 0.4242;

export interface BigTenant {
  database: string;
  host: string;
  version: number;
  /** The instant the tenant's history ends (UTC ISO): its "now". */
  now: string;
  /** Local date the platform went live. */
  launch: string;
  /** Seconds the generation took. */
  seconds: number;
  /** Rows per table. */
  counts: Record<string, number>;
  /** Whether this call generated it (false: it was there). */
  generated: boolean;
}

type Row = Record<string, unknown>;

/** The big tenant, generated first when the database lacks this generator version. */
export async function ensureBigTenant(opts: { force?: boolean; log?: (line: string) => void } = {}): Promise<BigTenant> {
  const log = opts.log ?? (() => {});
  await ensureDatabase(BIG_TENANT_DATABASE);
  const client = new pg.Client(pgConfig(BIG_TENANT_DATABASE, { application_name: 'crier-bench-big-tenant' }));
  await client.connect();
  try {
    if (!opts.force) {
      const found = await readMarker(client);
      if (found) return { ...found, generated: false };
    }
    return { ...(await generate(client, log)), generated: true };
  } finally {
    await client.end();
  }
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client(pgConfig(admin.toString()));
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (e) {
    // Two processes creating it at once: the other one won.
    if ((e as { code?: string }).code !== '42P04') throw e;
  } finally {
    await client.end();
  }
}

async function readMarker(client: pg.Client): Promise<Omit<BigTenant, 'generated'> | null> {
  const table = await client.query(`SELECT to_regclass('crier_bench.big_tenant') IS NOT NULL AS ok`);
  if (!table.rows[0].ok) return null;
  const rows = await client.query(`SELECT version, now, launch, seconds, counts FROM crier_bench.big_tenant WHERE host = $1 AND version = $2 AND scale = $3`, [BIG_TENANT_HOST, GENERATOR_VERSION, SCALE]);
  const m = rows.rows[0];
  if (!m) return null;
  const schema = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenantSchema(BIG_TENANT_HOST)]);
  if (!schema.rowCount) return null;
  return { database: BIG_TENANT_DATABASE, host: BIG_TENANT_HOST, version: m.version, now: (m.now as Date).toISOString(), launch: m.launch, seconds: Number(m.seconds), counts: m.counts };
}


/** The uuid Postgres makes of md5(text)::uuid, so TypeScript and SQL name the same rows. */
const md5uuid = (text: string) => {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const sqlTs = (d: DateTime) => d.toUTC().toFormat('yyyy-MM-dd HH:mm:ss');

const FOLDERS: [key: string, nl: string, fr: string, en: string][] = [
  ['mobility', 'Mobiliteit', 'Mobilité', 'Mobility'], ['green', 'Groen en klimaat', 'Nature et climat', 'Green and climate'], ['youth', 'Jeugd', 'Jeunesse', 'Youth'],
  ['culture', 'Cultuur', 'Culture', 'Culture'], ['neighbourhoods', 'Wijken', 'Quartiers', 'Neighbourhoods'], ['sports', 'Sport', 'Sport', 'Sports'],
  ['education', 'Onderwijs', 'Enseignement', 'Education'], ['care', 'Zorg', 'Soins', 'Care'], ['housing', 'Wonen', 'Logement', 'Housing'],
  ['economy', 'Economie', 'Économie', 'Economy'], ['safety', 'Veiligheid', 'Sécurité', 'Safety'], ['energy', 'Energie', 'Énergie', 'Energy'],
  ['digital', 'Digitaal', 'Numérique', 'Digital'], ['seniors', 'Senioren', 'Seniors', 'Seniors'], ['health', 'Gezondheid', 'Santé', 'Health'],
  ['tourism', 'Toerisme', 'Tourisme', 'Tourism'], ['heritage', 'Erfgoed', 'Patrimoine', 'Heritage'], ['water', 'Water', 'Eau', 'Water'],
  ['food', 'Voeding', 'Alimentation', 'Food'], ['animals', 'Dieren', 'Animaux', 'Animals'], ['nightlife', 'Nachtleven', 'Vie nocturne', 'Nightlife'],
  ['markets', 'Markten', 'Marchés', 'Markets'], ['port', 'Haven', 'Port', 'Port'], ['north', 'Gent-Noord', 'Gand-Nord', 'Ghent North'],
  ['south', 'Gent-Zuid', 'Gand-Sud', 'Ghent South'], ['east', 'Gent-Oost', 'Gand-Est', 'Ghent East'], ['west', 'Gent-West', 'Gand-Ouest', 'Ghent West'],
  ['participation', 'Participatie', 'Participation', 'Participation'], ['welfare', 'Welzijn', 'Bien-être', 'Welfare'], ['events', 'Evenementen', 'Événements', 'Events'],
];
/** Folders nobody manages on the platform (neighbourhoods: the shipped config's `departments:` names its head). */
const UNMANAGED = new Set(['neighbourhoods', 'heritage', 'animals', 'events']);
const THEMES = ['Fietsstraten', 'Schoolstraten', 'Meer bomen', 'Speelpleinen', 'Buurtbudget', 'Pleinen', 'Deelmobiliteit', 'Zwemvijver', 'Buurtfeesten', 'Wijkcentrum', 'Parkeerplan', 'Klimaatplan', 'Bibliotheek', 'Marktplein', 'Jeugdhuis', 'Sporthal'];
const PLACES = ['Brugse Poort', 'Ledeberg', 'Muide', 'Sint-Amandsberg', 'Gentbrugge', 'Zwijnaarde', 'Oostakker', 'Drongen', 'Wondelgem', 'Mariakerke', 'Binnenstad', 'Rabot', 'Dampoort', 'Sluizeken', 'Stationsbuurt'];

type Method = 'ideation' | 'proposals' | 'voting' | 'native_survey' | 'poll' | 'volunteering' | 'information' | 'common_ground' | 'document_annotation' | 'survey' | 'community_monitor_survey';
/** The phases a project runs, in order, and how often a project is run that way. */
const TEMPLATES: [number, Method[]][] = [
  [22, ['ideation']], [14, ['ideation', 'voting']], [10, ['ideation', 'information']], [8, ['ideation', 'voting', 'information']],
  [8, ['proposals']], [12, ['native_survey']], [6, ['native_survey', 'information']], [4, ['information', 'poll']],
  [3, ['volunteering']], [3, ['common_ground']], [2, ['document_annotation']], [2, ['survey']], [6, ['information', 'ideation', 'native_survey', 'voting']],
];

interface Phase { id: string; projectId: string; method: Method; voting: string | null; start: DateTime; end: DateTime | null; title: Record<string, string> }
interface Project { id: string; slug: string; title: Record<string, string>; status: 'draft' | 'published' | 'archived'; folder: number | null; weight: number; hidden: boolean; phases: Phase[] }

async function generate(client: pg.Client, log: (line: string) => void): Promise<Omit<BigTenant, 'generated'>> {
  const started = Date.now();
  const now = DateTime.utc().startOf('minute');
  const launchDay = now.setZone(BIG_TENANT_ZONE).minus({ years: YEARS }).startOf('week');
  const launch = launchDay.plus({ hours: 10 });
  const span = now.diff(launch, 'seconds').seconds;
  const rnd = prng(20261127);
  const sFrom = (u: number) => (-1 + Math.sqrt(1 + 15 * u)) / 3; // the growing density, as in the SQL
  const at = (s: number) => launch.plus({ seconds: s * span }).setZone(BIG_TENANT_ZONE).startOf('day');
  const rows: Record<string, Row[]> = {};
  const add = (table: string, row: Row) => (rows[table] ??= []).push(row);
  const stamp = (d: DateTime) => ({ created_at: sqlTs(d), updated_at: sqlTs(d) });
  const before = launch.minus({ days: 30 });

  // Folders, then projects: some in folders, some drafts, archived ones, the community monitor.
  const folders = FOLDERS.map(([key, nl, fr, en], i) => ({ id: md5uuid(`folder:${i}`), key, title: { 'nl-BE': nl, 'fr-BE': fr, en } }));
  for (const f of folders) add('project_folders_folders', { id: f.id, title_multiloc: f.title, description_multiloc: {}, description_preview_multiloc: {}, slug: `folder-${f.key}`, ...stamp(before) });
  const projects: Project[] = [];
  const templateTotal = TEMPLATES.reduce((n, [w]) => n + w, 0);
  const pickTemplate = () => {
    let r = rnd.next() * templateTotal;
    for (const [w, t] of TEMPLATES) if ((r -= w) < 0) return t;
    return TEMPLATES[0][1];
  };
  const makePhases = (projectId: string, methods: Method[], start: DateTime, months: number, openEnded: boolean, lastEnd?: DateTime): Phase[] => {
    const out: Phase[] = [];
    const step = months / methods.length;
    methods.forEach((method, i) => {
      const s = start.plus({ days: Math.round(i * step * 30.4) });
      const e = i === methods.length - 1 ? (openEnded ? null : (lastEnd ?? start.plus({ days: Math.round(months * 30.4) - 1 }))) : start.plus({ days: Math.round((i + 1) * step * 30.4) - 1 });
      const voting = method === 'voting' ? rnd.pick(['budgeting', 'budgeting', 'budgeting', 'multiple_voting', 'multiple_voting', 'single_voting']) : null;
      out.push({ id: md5uuid(`phase:${projectId}:${i}`), projectId, method, voting, start: s, end: e, title: { 'nl-BE': `${method === 'voting' ? 'Stemronde' : method === 'native_survey' ? 'Bevraging' : 'Fase'} ${i + 1}`, en: `${method.replace(/_/g, ' ')} ${i + 1}` } });
    });
    return out;
  };
  for (let i = 0; i < 300; i++) {
    const id = md5uuid(`project:${i}`);
    const theme = rnd.pick(THEMES);
    const place = rnd.pick(PLACES);
    let title: Record<string, string> = { 'nl-BE': `${theme} ${place}`, 'fr-BE': `${theme} (${place})`, en: `${theme}, ${place}` };
    let slug = `project-${i}`;
    let folder: number | null = rnd.chance(0.62) ? rnd.int(0, folders.length - 1) : null;
    let status: Project['status'] = rnd.chance(0.08) ? 'draft' : rnd.chance(0.19) ? 'archived' : 'published';
    let methods = pickTemplate();
    let hidden = false;
    const weight = Math.exp(0.9 * rnd.gauss());
    let months = rnd.int(2, 24);
    let start: DateTime;
    let openEnded = false;
    let lastEnd: DateTime | undefined;
    if (i === 0) {
      // The shipped config names these: a moderator's project and a folder without a manager.
      title = { 'nl-BE': 'Speelpleinen vernieuwen', 'fr-BE': 'Rénover les plaines de jeux', en: 'Renewing playgrounds' };
      slug = 'renewing-playgrounds';
      folder = FOLDERS.findIndex(([k]) => k === 'youth');
      status = 'published';
      methods = ['ideation', 'voting'];
      months = 10;
      start = now.setZone(BIG_TENANT_ZONE).minus({ months: 8 }).startOf('day');
    } else if (i === 1) {
      // The community monitor: hidden from the public, its survey open for years.
      title = { 'nl-BE': 'Gemeentemonitor', 'fr-BE': 'Baromètre communal', en: 'Community monitor' };
      slug = 'community-monitor';
      folder = null;
      status = 'published';
      hidden = true;
      methods = ['community_monitor_survey'];
      start = now.setZone(BIG_TENANT_ZONE).minus({ years: 3 }).startOf('day');
      openEnded = true;
    } else if (i < 10) {
      // Native surveys closing within days (the survey reminder), after an ideation phase.
      status = 'published';
      methods = ['ideation', 'native_survey'];
      months = rnd.int(4, 9);
      lastEnd = now.setZone(BIG_TENANT_ZONE).plus({ days: i - 1 }).startOf('day');
      start = lastEnd.minus({ months });
    } else if (status === 'draft') {
      start = now.setZone(BIG_TENANT_ZONE).plus({ days: rnd.int(5, 90) }).startOf('day');
    } else {
      // Projects started as the platform grew; archived ones have ended.
      for (;;) {
        start = at(sFrom(rnd.next()) * 0.985);
        if (status !== 'archived' || start.plus({ months }) < now) break;
      }
      openEnded = status === 'published' && rnd.chance(0.12);
    }
    if (i === 5 || i === 6) folder = FOLDERS.findIndex(([k]) => k === 'neighbourhoods');
    projects.push({ id, slug, title, status, folder, weight: i === 1 ? 3 : weight, hidden, phases: makePhases(id, methods, start!, months, openEnded, lastEnd) });
  }
  for (const p of projects) {
    const visible = p.hidden ? 'admins' : rnd.chance(0.06) ? 'groups' : rnd.chance(0.02) ? 'admins' : 'public';
    add('projects', {
      id: p.id, title_multiloc: p.title, description_multiloc: { 'nl-BE': `<p>${p.title['nl-BE']}: denk mee over de toekomst van je buurt.</p>` }, slug: p.slug,
      visible_to: visible, internal_role: p.hidden ? 'community_monitor' : null, hidden: p.hidden, listed: !rnd.chance(0.05), preview_token: md5uuid(`token:${p.id}`),
      ...stamp(p.status === 'draft' ? now.minus({ days: 3 }) : p.phases[0].start.minus({ days: 14 })),
    });
    for (const ph of p.phases) {
      add('phases', {
        id: ph.id, project_id: p.id, title_multiloc: ph.title, participation_method: ph.method, voting_method: ph.voting, start_at: ph.start.toISODate(), end_at: ph.end?.toISODate() ?? null,
        native_survey_title_multiloc: ph.method === 'native_survey' ? { 'nl-BE': `Bevraging ${p.title['nl-BE']}`, en: `Survey: ${p.title.en}` } : {},
        survey_service: ph.method === 'survey' ? 'typeform' : null, survey_embed_url: ph.method === 'survey' ? 'https://form.typeform.com/to/abc' : null,
        voting_max_total: ph.voting === 'budgeting' ? 250_000 : ph.voting ? 10 : null, ...stamp(ph.start.minus({ days: 14 })),
      });
    }
  }
  // admin_publications: the platform's nested set, folders with their projects, then the rest.
  let left = 1;
  let ordering = 0;
  const published = (p: Project) => (p.status === 'draft' ? null : sqlTs(p.phases[0].start.minus({ days: 1 })));
  const publish = (p: Project, parent: string | null) => {
    add('admin_publications', { id: md5uuid(`publication:${p.id}`), parent_id: parent, lft: left, rgt: left + 1, ordering: ordering++, publication_status: p.status, publication_id: p.id, publication_type: 'Project', depth: parent ? 1 : 0, children_allowed: false, children_count: 0, first_published_at: published(p), ...stamp(before) });
    left += 2;
  };
  folders.forEach((f, i) => {
    const inside = projects.filter((p) => p.folder === i);
    const pub = md5uuid(`publication:${f.id}`);
    const lft = left++;
    for (const p of inside) publish(p, pub);
    add('admin_publications', { id: pub, parent_id: null, lft, rgt: left++, ordering: ordering++, publication_status: 'published', publication_id: f.id, publication_type: 'ProjectFolders::Folder', depth: 0, children_count: inside.length, first_published_at: sqlTs(launch), ...stamp(before) });
  });
  for (const p of projects.filter((x) => x.folder === null)) publish(p, null);

  // Staff: admins (staff:1–6 answer inputs in big-tenant.sql), the vendor's support, folder
  // managers, 180 project moderators; some opted out of the platform's moderator digest.
  let staffNo = 0;
  const staff = (email: string, first: string, last: string, roles: Row[], locale = 'nl-BE') => {
    const id = md5uuid(`staff:${++staffNo}`);
    add('users', { id, email, slug: `staff-${staffNo}`, first_name: first, last_name: last, locale, roles, registration_completed_at: sqlTs(before), email_confirmed_at: sqlTs(before), last_active_at: sqlTs(now.minus({ days: 1 })), ...stamp(before) });
    if (roles.length) add('email_campaigns_consents', { id: md5uuid(`consent:${id}`), campaign_type: 'EmailCampaigns::Campaigns::ModeratorDigest', user_id: id, consented: staffNo % 5 !== 0, ...stamp(before) });
    return id;
  };
  staff('superadmin@gent.example.org', 'Sara', 'Van Damme', [{ type: 'admin' }]);
  for (let i = 2; i <= 6; i++) staff(`admin${i}@stad.example.org`, rnd.pick(['Jonas', 'Eva', 'Karim', 'Lien', 'Bart']), 'Admin', [{ type: 'admin', ...(i === 2 ? { project_reviewer: true } : {}) }], i === 4 ? 'fr-BE' : 'nl-BE');
  staff('support@govocal.com', 'Go Vocal', 'Support', [{ type: 'admin' }], 'en');
  staff('space@stad.example.org', 'Sofie', 'Ruiz', [{ type: 'space_moderator', space_id: md5uuid('space') }]);
  folders.forEach((f, i) => {
    if (UNMANAGED.has(f.key)) return;
    const roles: Row[] = [{ type: 'project_folder_moderator', project_folder_id: f.id }];
    // Older platforms also gave a folder manager a project role per project of the folder.
    if (i % 2 === 0) for (const p of projects.filter((x) => x.folder === i)) roles.push({ type: 'project_moderator', project_id: p.id });
    // Two managers run a second department.
    if (i === 2 || i === 7) roles.push({ type: 'project_folder_moderator', project_folder_id: folders[i + 1].id });
    if (i === 3 || i === 8) return;
    staff(`${f.key}@stad.example.org`, rnd.pick(['Koen', 'Griet', 'Tom', 'Ann', 'Leen', 'Dirk', 'Nadia']), f.title.en, roles, i % 6 === 0 ? 'fr-BE' : 'nl-BE');
  });
  for (let i = 1; i <= 180; i++) {
    const mine = Array.from({ length: rnd.int(1, 3) }, () => ({ type: 'project_moderator', project_id: rnd.pick(projects).id }));
    staff(`moderator${i}@stad.example.org`, rnd.pick(['Lies', 'Pierre', 'Youssef', 'Eline', 'Hilde', 'Wim', 'Sam']), `Moderator ${i}`, mine, i % 7 === 0 ? 'fr-BE' : 'nl-BE');
  }

  for (const [method, codes] of [['ideation', ['proposed', 'viewed', 'under_consideration', 'accepted', 'implemented', 'rejected']], ['proposals', ['proposed', 'threshold_reached', 'expired', 'answered', 'ineligible']]] as const) {
    codes.forEach((code, i) => add('idea_statuses', { id: md5uuid(`status:${method}:${code}`), title_multiloc: { en: code.replace(/_/g, ' ') }, ordering: i, code, color: '#687782', participation_method: method, ...stamp(before) }));
  }
  add('app_configurations', {
    id: md5uuid(`tenant:${BIG_TENANT_HOST}`), name: 'Stad Gent', host: BIG_TENANT_HOST, style: {},
    settings: { core: { timezone: BIG_TENANT_ZONE, locales: ['nl-BE', 'fr-BE', 'en'], currency: 'EUR', organization_name: { 'nl-BE': 'Stad Gent', 'fr-BE': 'Ville de Gand', en: 'City of Ghent' }, lifecycle_stage: 'active' } },
    ...stamp(before),
  });

  // One transaction: the tables, the rows, then the indexes and foreign keys of the real schema.
  const structure = readFileSync(SCHEMA_FILE, 'utf8');
  const cut = structure.indexOf('-- primary keys');
  if (cut < 0) throw new Error(`${SCHEMA_FILE}: no '-- primary keys' section to split the tables from their indexes at`);
  const schema = tenantSchema(BIG_TENANT_HOST);
  const ident = pg.escapeIdentifier(schema);
  const step = async (name: string, sql: string, params: unknown[] = []) => {
    const t0 = Date.now();
    await client.query(sql, params);
    log(`  ${name.padEnd(34)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`);
  };
  log(`Generating the big tenant ${BIG_TENANT_HOST} (schema ${schema}) in ${BIG_TENANT_DATABASE.replace(/\/\/[^@]*@/, '//')}: ${YEARS} years up to ${now.toISO()}`);
  await client.query('BEGIN');
  try {
    // Work memory for the sorts of the generator only; one core (others share the machine) and a
    // plan that does not change between runs, so random() draws the same rows.
    await client.query(`SET LOCAL work_mem = '512MB'; SET LOCAL maintenance_work_mem = '1GB'; SET LOCAL temp_buffers = '1GB'; SET LOCAL synchronous_commit = off;
                        SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL max_parallel_maintenance_workers = 1; SELECT setseed(${SEED})`);
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['crier-tenant-registry']);
    await client.query(`DROP SCHEMA IF EXISTS ${ident} CASCADE; CREATE SCHEMA ${ident}; SET LOCAL search_path = ${ident}, public`);
    await step('tables', structure.slice(0, cut));
    await client.query(`DELETE FROM public.tenants WHERE host = $1`, [BIG_TENANT_HOST]);
    await client.query(`INSERT INTO public.tenants (id, name, host, settings, created_at, updated_at, creation_finalized_at) VALUES ($1, 'Stad Gent', $2, '{}', $3, $3, $3)`, [md5uuid(`tenant:${BIG_TENANT_HOST}`), BIG_TENANT_HOST, sqlTs(before)]);
    for (const table of ['app_configurations', 'users', 'project_folders_folders', 'projects', 'admin_publications', 'phases', 'idea_statuses', 'email_campaigns_consents']) {
      await insertAll(client, table, rows[table] ?? []);
    }
    // What big-tenant.sql reads about the phases: the activity window in UTC, the project's weight.
    await client.query(`CREATE TEMP TABLE gen_phase (id uuid, project_id uuid, method text, voting_method text, a timestamp, b timestamp, weight float8, draft boolean, title text) ON COMMIT DROP`);
    const phaseRows = projects.flatMap((p) =>
      p.phases.map((ph) => ({
        id: ph.id, project_id: p.id, method: ph.method, voting_method: ph.voting,
        a: sqlTs(ph.start), b: sqlTs(ph.end ? ph.end.plus({ days: 1 }) : now.plus({ years: 1 })), weight: p.weight, draft: p.status === 'draft', title: p.title['nl-BE'],
      })),
    );
    await insertAll(client, 'gen_phase', phaseRows);
    const values: Record<string, string> = {
      now: `'${sqlTs(now)}'`, launch: `'${sqlTs(launch)}'`, span: String(span),
      residents: String(SIZE.residents), ideas: String(SIZE.ideas), comments: String(SIZE.comments), reactions: String(SIZE.reactions),
    };
    const volume = readFileSync(fileURLToPath(new URL('./big-tenant.sql', import.meta.url)), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
      if (!(k in values)) throw new Error(`big-tenant.sql: no value for {{${k}}}`);
      return values[k];
    });
    const steps = volume.split(/^-- step: (.+)$/m);
    for (let i = 1; i < steps.length; i += 2) await step(steps[i].trim(), steps[i + 1]);
    await step('indexes and foreign keys', structure.slice(cut));
    const counts: Record<string, number> = {};
    for (const table of ['users', 'project_folders_folders', 'projects', 'phases', 'ideas', 'ideas_phases', 'comments', 'reactions', 'official_feedbacks', 'activities', 'baskets', 'baskets_ideas', 'polls_responses', 'volunteering_volunteers', 'events', 'events_attendances', 'email_campaigns_consents']) {
      counts[table] = Number((await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(table)}`)).rows[0].n);
    }
    await client.query('COMMIT');
    // As autovacuum would have on a live platform: hint bits set, visibility map, statistics.
    await client.query(`SET search_path = ${ident}, public`);
    await step('vacuum analyze', 'VACUUM (ANALYZE)');
    // The marker last: a tenant without it (a generation that stopped half-way) is made again.
    const seconds = (Date.now() - started) / 1000;
    await client.query(`CREATE SCHEMA IF NOT EXISTS crier_bench;
      CREATE TABLE IF NOT EXISTS crier_bench.big_tenant (host text PRIMARY KEY, version int NOT NULL, now timestamptz NOT NULL, launch text NOT NULL, seconds numeric NOT NULL, counts jsonb NOT NULL, scale float8 NOT NULL DEFAULT 1, made_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`DELETE FROM crier_bench.big_tenant WHERE host = $1`, [BIG_TENANT_HOST]);
    await client.query(`INSERT INTO crier_bench.big_tenant (host, version, now, launch, seconds, counts, scale) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [BIG_TENANT_HOST, GENERATOR_VERSION, now.toJSDate(), launchDay.toISODate(), seconds, counts, SCALE]);
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return (await readMarker(client))!;
}

/** Multi-row INSERTs in chunks under Postgres's 65,535-parameter limit. */
async function insertAll(client: pg.ClientBase, table: string, list: Row[]): Promise<void> {
  if (!list.length) return;
  const columns = [...new Set(list.flatMap((r) => Object.keys(r)))];
  const perChunk = Math.floor(60_000 / columns.length);
  for (let i = 0; i < list.length; i += perChunk) {
    const params: unknown[] = [];
    const values = list.slice(i, i + perChunk).map((r) => `(${columns.map((c) => {
      const v = r[c];
      if (v === undefined) return 'DEFAULT'; // a column another row sets: the table's default here
      params.push(v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
      return `$${params.length}`;
    }).join(', ')})`);
    await client.query(`INSERT INTO ${pg.escapeIdentifier(table)} (${columns.map((c) => pg.escapeIdentifier(c)).join(', ')}) VALUES ${values.join(', ')}`, params);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = await ensureBigTenant({ force: process.argv.includes('--force'), log: (l) => console.log(l) });
  console.log(`${t.generated ? 'Generated' : 'Already there (generator version ' + t.version + '), made'} in ${t.seconds.toFixed(0)} s: ${t.host} in ${t.database}, launch ${t.launch}, history up to ${t.now}`);
  for (const [table, n] of Object.entries(t.counts)) console.log(`  ${table.padEnd(26)} ${n.toLocaleString('en')}`);
}
