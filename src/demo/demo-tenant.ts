import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import pg from 'pg';
import { pgConfig } from '../db.ts';
import { recreateTenantSchema } from './tenant-schema.ts';

/*
 * The demo tenant: a generated Go Vocal platform with 18 months of plausible history, so that
 * `npm start`, `crier preview` and the tests of every job kind have something real to read on
 * a fresh machine. Deterministic for a given seed and "now".
 */

export interface DemoOptions {
  /** Postgres URL of the platform database, e.g. postgres://127.0.0.1:5432/postgres. */
  databaseUrl: string;
  /** Tenant host; its schema is the host with '.' replaced by '_'. */
  host: string;
  /** "Now" for the generated history (default: the current time); activity spreads over the 18 months before it. */
  now?: Date;
  /** Seed of the generator: the same seed and now give the same data (default 42). */
  seed?: number;
  /** Registered residents (default 3000). */
  users?: number;
  /** Local date the platform went live, YYYY-MM-DD (default: the Monday about 15 months before now). */
  launch?: string;
}

export interface DemoReport {
  schema: string;
  /** Rows per table. */
  counts: Record<string, number>;
  /** Local date the demo platform went live. */
  launch: string;
}

const ZONE = 'Europe/Brussels';
const LOCALES = ['nl-BE', 'fr-BE', 'en'];

type Row = Record<string, unknown>;
type Status = 'draft' | 'published' | 'archived';
type Method = 'ideation' | 'voting' | 'native_survey' | 'community_monitor_survey' | 'poll' | 'information' | 'volunteering';

/** mulberry32: small, fast and good enough to make demo data repeatable (the big bench tenant uses it too). */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const uuid = () => {
    const h = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
    h[12] = '4';
    h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };
  // Box–Muller: a standard normal draw.
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, int, pick, uuid, gauss, chance: (p: number) => next() < p };
}

/** A stable uuid for a host, so two demo tenants never share a public.tenants id. */
function hostUuid(host: string): string {
  const h = createHash('sha1').update(host).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The platform stores UTC without a zone. */
const ts = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

const FIRST = ['Emma', 'Lucas', 'Louise', 'Noah', 'Marie', 'Arthur', 'Elise', 'Jules', 'Camille', 'Victor', 'Lotte', 'Wout', 'Fatima', 'Mohamed', 'Sarah', 'Thomas', 'Nina', 'Milan', 'Hanne', 'Ibrahim', 'Julie', 'Pieter', 'Chloé', 'Hugo', 'Amira', 'Bram', 'Léa', 'Senne', 'Ayoub', 'Charlotte'];
const LAST = ['Peeters', 'Janssens', 'Maes', 'Jacobs', 'Mertens', 'Willems', 'Claes', 'Goossens', 'Wouters', 'De Smet', 'Dubois', 'Lambert', 'Dupont', 'Martin', 'Vermeulen', 'Van den Broeck', 'El Amrani', 'Yilmaz', 'Leroy', 'De Backer', 'Smith', 'Hermans', 'Michiels', 'Desmet', 'Claeys'];

const FOLDERS = [
  { key: 'mobility', title: { 'nl-BE': 'Mobiliteit', 'fr-BE': 'Mobilité', en: 'Mobility' }, manager: 'Koen Vandamme' },
  { key: 'green', title: { 'nl-BE': 'Groen en klimaat', 'fr-BE': 'Nature et climat', en: 'Green and climate' }, manager: 'Griet Lievens' },
  { key: 'youth', title: { 'nl-BE': 'Jeugd', 'fr-BE': 'Jeunesse', en: 'Youth' }, manager: 'Tom De Vos' },
  { key: 'culture', title: { 'nl-BE': 'Cultuur', 'fr-BE': 'Culture', en: 'Culture' }, manager: 'Ann Verhaeghe' },
  // No folder manager: the department head comes from the config's `departments:`.
  { key: 'neighbourhoods', title: { 'nl-BE': 'Wijken', 'fr-BE': 'Quartiers', en: 'Neighbourhoods' }, manager: null },
] as const;

interface PhaseSpec {
  method: Method;
  /** Months relative to now (negative = past) for start, and for end (null = open-ended). */
  from: number;
  to: number | null;
  /** Ends this many days from now instead (a survey closing this week, for the survey reminder). */
  endsInDays?: number;
  voting?: 'budgeting' | 'multiple_voting';
  title: Record<string, string>;
}
interface ProjectSpec {
  title: Record<string, string>;
  folder: (typeof FOLDERS)[number]['key'] | null;
  status: Status;
  weight: number;
  phases: PhaseSpec[];
  /** The platform's community monitor: hidden from the public, internal_role community_monitor. */
  communityMonitor?: boolean;
}

const phase = (method: Method, from: number, to: number | null, nl: string, en: string, voting?: PhaseSpec['voting']): PhaseSpec => ({ method, from, to, voting, title: { 'nl-BE': nl, 'fr-BE': en, en } });

const PROJECTS: ProjectSpec[] = [
  { title: { 'nl-BE': 'Fietsstraten in de binnenstad', 'fr-BE': 'Rues cyclables au centre-ville', en: 'Cycle streets in the city centre' }, folder: 'mobility', status: 'published', weight: 5, phases: [phase('ideation', -10, -4, 'Ideeën verzamelen', 'Collecting ideas'), phase('voting', -4, 1, 'Stemronde', 'Vote', 'multiple_voting')] },
  { title: { 'nl-BE': 'Veilige schoolstraten', 'fr-BE': 'Rues scolaires sûres', en: 'Safe school streets' }, folder: 'mobility', status: 'published', weight: 3, phases: [phase('native_survey', -5, 1, 'Bevraging ouders', 'Parents survey'), phase('information', 1, 3, 'Resultaten', 'Results')] },
  { title: { 'nl-BE': 'Deelmobiliteit', 'fr-BE': 'Mobilité partagée', en: 'Shared mobility' }, folder: 'mobility', status: 'archived', weight: 2, phases: [phase('ideation', -14, -9, 'Ideeën', 'Ideas')] },
  { title: { 'nl-BE': 'Meer bomen in de wijk', 'fr-BE': 'Plus d’arbres dans le quartier', en: 'More trees in the neighbourhood' }, folder: 'green', status: 'published', weight: 4, phases: [phase('ideation', -6, 0, 'Plekken voorstellen', 'Suggest places'), phase('poll', 0, 1, 'Snelle peiling', 'Quick poll')] },
  { title: { 'nl-BE': 'Klimaatplan 2030', 'fr-BE': 'Plan climat 2030', en: 'Climate plan 2030' }, folder: 'green', status: 'published', weight: 4, phases: [phase('native_survey', -12, -2, 'Enquête', 'Survey'), phase('information', -2, null, 'Opvolging', 'Follow-up')] },
  { title: { 'nl-BE': 'Speelpleinen vernieuwen', 'fr-BE': 'Rénover les plaines de jeux', en: 'Renewing playgrounds' }, folder: 'youth', status: 'published', weight: 3, phases: [phase('ideation', -8, -3, 'Wensen', 'Wishes'), phase('voting', -3, 0, 'Budget verdelen', 'Share the budget', 'budgeting')] },
  { title: { 'nl-BE': 'Jeugdraad 2027', 'fr-BE': 'Conseil des jeunes 2027', en: 'Youth council 2027' }, folder: 'youth', status: 'draft', weight: 0, phases: [phase('ideation', 1, 4, 'Ideeën', 'Ideas')] },
  { title: { 'nl-BE': 'Cultuurzomer', 'fr-BE': 'Été culturel', en: 'Summer of culture' }, folder: 'culture', status: 'published', weight: 3, phases: [phase('ideation', -4, 1, 'Voorstellen', 'Proposals'), phase('information', 1, 3, 'Programma', 'Programme')] },
  { title: { 'nl-BE': 'Bibliotheek van de toekomst', 'fr-BE': 'La bibliothèque de demain', en: 'Library of the future' }, folder: 'culture', status: 'archived', weight: 2, phases: [phase('native_survey', -13, -8, 'Bevraging', 'Survey')] },
  { title: { 'nl-BE': 'Wijkbudget Sluizeken <script>alert("x")</script> & "Muide"', 'fr-BE': 'Budget de quartier Sluizeken', en: 'Sluizeken neighbourhood budget' }, folder: 'neighbourhoods', status: 'published', weight: 3, phases: [phase('ideation', -7, -2, 'Ideeën', 'Ideas'), phase('voting', -2, 1, 'Stemmen', 'Vote', 'multiple_voting')] },
  { title: { 'nl-BE': 'Burgerbegroting 2027', 'fr-BE': 'Budget participatif 2027', en: 'Participatory budget 2027' }, folder: null, status: 'draft', weight: 0, phases: [phase('voting', 2, 4, 'Stemronde', 'Vote', 'budgeting')] },
  { title: { 'nl-BE': 'Open ideeënbus' }, folder: null, status: 'published', weight: 3, phases: [phase('ideation', -15, null, 'Altijd open', 'Always open')] },
  { title: { 'nl-BE': 'Vrijwilligers voor de buurt', 'fr-BE': 'Bénévoles pour le quartier', en: 'Volunteers for the neighbourhood' }, folder: null, status: 'published', weight: 1, phases: [phase('volunteering', -3, 2, 'Inschrijven', 'Sign up')] },
  { title: { 'nl-BE': 'Nieuwe markthal', 'fr-BE': 'Nouvelle halle', en: 'New market hall' }, folder: null, status: 'archived', weight: 2, phases: [phase('ideation', -15, -11, 'Ideeën', 'Ideas'), phase('information', -11, -10, 'Besluit', 'Decision')] },
  { title: { 'nl-BE': 'Sportterreinen in de buurt', 'fr-BE': 'Terrains de sport du quartier', en: 'Sports grounds nearby' }, folder: 'youth', status: 'published', weight: 2, phases: [{ ...phase('native_survey', -1, null, 'Bevraging sportclubs', 'Sports clubs survey'), endsInDays: 8 }] },
  { title: { 'nl-BE': 'Gemeentemonitor', 'fr-BE': 'Baromètre communal', en: 'Community monitor' }, folder: null, status: 'published', weight: 2, communityMonitor: true, phases: [phase('community_monitor_survey', -12, null, 'Tevredenheidsmeting', 'Satisfaction survey')] },
];

const IDEA_WORDS = ['Meer', 'Veiliger', 'Groener', 'Betere', 'Nieuwe', 'Autovrije', 'Extra', 'Gezellige'];
const IDEA_THINGS = ['fietsenstalling', 'zitbanken', 'speeltuin', 'bomen', 'verlichting', 'oversteekplaats', 'moestuin', 'waterpunt', 'hondenweide', 'buurtfeest', 'deelauto’s', 'laadpalen'];
const IDEA_PLACES = ['aan het station', 'op het plein', 'in de Brugse Poort', 'aan de school', 'langs de Leie', 'in Ledeberg', 'in de Muide', 'aan de markt'];

/** Creates, or recreates, the demo tenant and returns what it made. */
export async function createDemoTenant(opts: DemoOptions): Promise<DemoReport> {
  const rnd = prng(opts.seed ?? 42);
  const now = DateTime.fromJSDate(opts.now ?? new Date(), { zone: ZONE });
  const nowMs = now.toMillis();
  const launchDay = opts.launch ? DateTime.fromISO(opts.launch, { zone: ZONE }) : now.minus({ months: 15 }).startOf('week'); // luxon weeks start on Monday
  const launchMs = launchDay.plus({ hours: 10 }).toMillis();
  const at = (months: number) => now.plus({ months }).startOf('day');
  /** A moment between two instants, clamped to [launch, now]. */
  const between = (lo: number, hi: number) => {
    const a = Math.max(lo, launchMs);
    const b = Math.min(hi, nowMs - 60_000);
    return b <= a ? a : a + Math.floor(rnd.next() * (b - a));
  };

  const rows: Record<string, Row[]> = {};
  const add = (table: string, row: Row) => {
    (rows[table] ??= []).push(row);
    return row;
  };
  // Rows filled in later (a voting phase prices its options and gets offline votes).
  const ideaRows = new Map<string, Row>();
  const phaseRows = new Map<string, Row>();
  const stamp = (ms: number) => ({ created_at: ts(ms), updated_at: ts(ms) });

  // Residents: a launch surge, then a steady trickle.
  const userCount = opts.users ?? 3000;
  const users: { id: string; registered: number | null }[] = [];
  for (let i = 0; i < userCount; i++) {
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    const surge = rnd.chance(0.3);
    const registeredMs = surge ? between(launchMs, launchMs + 30 * 86_400_000) : between(launchMs, nowMs);
    const unfinished = rnd.chance(0.02);
    const id = rnd.uuid();
    const slugBase = `${first}-${last}`.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '-');
    add('users', {
      id,
      email: `${slugBase.replace(/-/g, '.')}.${i}@example.org`,
      slug: `${slugBase}-${i}`,
      first_name: first,
      last_name: last,
      locale: rnd.pick(['nl-BE', 'nl-BE', 'nl-BE', 'fr-BE', 'en']),
      roles: [],
      registration_completed_at: unfinished ? null : ts(registeredMs),
      email_confirmed_at: unfinished ? null : ts(registeredMs),
      block_start_at: i % 150 === 7 ? ts(nowMs - 86_400_000) : null,
      block_end_at: i % 150 === 7 ? ts(nowMs + 30 * 86_400_000) : null,
      last_active_at: ts(between(registeredMs, nowMs)),
      ...stamp(registeredMs - 5 * 60_000),
    });
    users.push({ id, registered: unfinished ? null : registeredMs });
  }
  const active = users.filter((u) => u.registered !== null);
  /** A resident already registered at `ms` (the earliest one otherwise). */
  const residentAt = (ms: number) => {
    for (let tries = 0; tries < 20; tries++) {
      const u = rnd.pick(active);
      if (u.registered! <= ms) return u.id;
    }
    return active.reduce((a, b) => (a.registered! < b.registered! ? a : b)).id;
  };

  // Folders and projects, nested in admin_publications (lft/rgt as the platform's nested set).
  let counter = 0;
  const folderIds = new Map<string, { id: string; publication: string }>();
  const projects: { id: string; spec: ProjectSpec; phases: { id: string; spec: PhaseSpec; start: DateTime; end: DateTime | null }[] }[] = [];
  let ordering = 0;
  const publications: Row[] = [];
  let left = 1;
  const publish = (type: 'Project' | 'ProjectFolders::Folder', id: string, status: Status, parent: string | null, children: number) => {
    const pubId = rnd.uuid();
    const firstPublished = status === 'draft' ? null : ts(between(launchMs, launchMs + 60 * 86_400_000));
    const row = { id: pubId, parent_id: parent, lft: left, rgt: left + 1 + children * 2, ordering: ordering++, publication_status: status, publication_id: id, publication_type: type, depth: parent ? 1 : 0, children_allowed: type !== 'Project', children_count: children, first_published_at: firstPublished, ...stamp(launchMs - 86_400_000) };
    publications.push(row);
    left += 1;
    return pubId;
  };
  const makeProject = (spec: ProjectSpec, parentPublication: string | null) => {
    const id = rnd.uuid();
    const slug = (spec.title.en ?? spec.title['nl-BE']).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    add('projects', { id, title_multiloc: spec.title, description_multiloc: { 'nl-BE': `<p>${spec.title['nl-BE']}</p>` }, slug, preview_token: rnd.uuid(), visible_to: 'public', hidden: Boolean(spec.communityMonitor), internal_role: spec.communityMonitor ? 'community_monitor' : null, ...stamp(launchMs - 86_400_000) });
    publish('Project', id, spec.status, parentPublication, 0);
    left += 1;
    const phases = spec.phases.map((p) => {
      const start = at(p.from);
      const end = p.endsInDays !== undefined ? now.plus({ days: p.endsInDays }).startOf('day') : p.to === null ? null : at(p.to).minus({ days: 1 });
      const phaseId = rnd.uuid();
      phaseRows.set(phaseId, add('phases', { id: phaseId, project_id: id, title_multiloc: p.title, start_at: start.toISODate(), end_at: end?.toISODate() ?? null, participation_method: p.method, voting_method: p.voting ?? null, native_survey_title_multiloc: p.method === 'native_survey' ? p.title : {}, ...stamp(launchMs - 86_400_000) }));
      return { id: phaseId, spec: p, start, end };
    });
    projects.push({ id, spec, phases });
  };
  for (const f of FOLDERS) {
    const id = rnd.uuid();
    add('project_folders_folders', { id, title_multiloc: f.title, slug: `folder-${f.key}`, description_multiloc: {}, ...stamp(launchMs - 86_400_000) });
    const inFolder = PROJECTS.filter((p) => p.folder === f.key);
    const publication = publish('ProjectFolders::Folder', id, 'published', null, inFolder.length);
    folderIds.set(f.key, { id, publication });
    for (const spec of inFolder) makeProject(spec, publication);
    left += 1;
  }
  for (const spec of PROJECTS.filter((p) => p.folder === null)) makeProject(spec, null);
  rows.admin_publications = publications;

  // Staff: admins, folder managers (a moderator of every project in their folder), project managers.
  const staff = (first: string, last: string, roles: Row[], locale = 'nl-BE') => {
    const id = rnd.uuid();
    const handle = `${first}.${last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]+/g, '');
    add('users', { id, email: `${handle}@gent.example.org`, slug: handle.replace(/\./g, '-'), first_name: first, last_name: last, locale, roles, registration_completed_at: ts(launchMs - 20 * 86_400_000), email_confirmed_at: ts(launchMs - 20 * 86_400_000), last_active_at: ts(nowMs - 86_400_000), ...stamp(launchMs - 20 * 86_400_000) });
    return id;
  };
  add('users', { id: rnd.uuid(), email: 'superadmin@gent.example.org', slug: 'superadmin', first_name: 'Sara', last_name: 'Van Damme', locale: 'nl-BE', roles: [{ type: 'admin' }], registration_completed_at: ts(launchMs - 30 * 86_400_000), ...stamp(launchMs - 30 * 86_400_000) });
  staff('Jonas', 'Declercq', [{ type: 'admin' }]);
  for (const f of FOLDERS) {
    if (!f.manager) continue;
    const folder = folderIds.get(f.key)!;
    const [first, ...rest] = f.manager.split(' ');
    const roles: Row[] = [{ type: 'project_folder_moderator', project_folder_id: folder.id }];
    // Older platforms also gave folder managers a project role per project; culture's manager
    // holds only the folder role, as newer ones store it.
    if (f.key !== 'culture') for (const p of projects.filter((x) => x.spec.folder === f.key)) roles.push({ type: 'project_moderator', project_id: p.id });
    staff(first, rest.join(' '), roles);
  }
  const moderatorOf = (i: number) => ({ type: 'project_moderator', project_id: projects[i % projects.length].id });
  staff('Lies', 'Baert', [moderatorOf(0), moderatorOf(1)]);
  staff('Pierre', 'Lemaire', [moderatorOf(4)], 'fr-BE');
  staff('Youssef', 'Bakkali', [moderatorOf(9)]);
  staff('Eline', 'Coppens', [moderatorOf(11), moderatorOf(12)]);
  staff('Hilde', 'Maenhout', [moderatorOf(7)]);
  // The vendor's support staff (an admin at govocal.com) and a role type Crier does not map.
  add('users', { id: rnd.uuid(), email: 'support@govocal.com', slug: 'go-vocal-support', first_name: 'Go Vocal', last_name: 'Support', locale: 'en', roles: [{ type: 'admin' }], registration_completed_at: ts(launchMs - 40 * 86_400_000), ...stamp(launchMs - 40 * 86_400_000) });
  staff('Sofie', 'Ruiz', [{ type: 'space_moderator', space_id: rnd.uuid() }]);

  // Inputs, survey responses and everything residents do with them.
  const ideas: { id: string; project: string; published: number | null; phase: string }[] = [];
  const comments: { id: string; project: string; created: number }[] = [];
  for (const p of projects) {
    if (p.spec.status === 'draft') continue;
    for (const ph of p.phases) {
      const startMs = ph.start.toMillis();
      const endMs = ph.end ? ph.end.plus({ days: 1 }).toMillis() : nowMs;
      if (startMs >= nowMs) continue;
      const months = Math.max(1, (Math.min(endMs, nowMs) - Math.max(startMs, launchMs)) / (30 * 86_400_000));
      if (ph.spec.method === 'ideation' || ph.spec.method === 'native_survey' || ph.spec.method === 'community_monitor_survey') {
        const survey = ph.spec.method !== 'ideation';
        const n = Math.round(p.spec.weight * months * (survey ? 14 : 9) * (0.7 + rnd.next() * 0.6));
        for (let i = 0; i < n; i++) {
          const id = rnd.uuid();
          const publishedMs = between(startMs, endMs);
          const anonymous = rnd.chance(0.05);
          const status = survey ? 'published' : rnd.chance(0.03) ? rnd.pick(['draft', 'submitted']) : 'published';
          const title = `${rnd.pick(IDEA_WORDS)} ${rnd.pick(IDEA_THINGS)} ${rnd.pick(IDEA_PLACES)}`;
          const hostile = counter === 40;
          add('ideas', {
            id,
            title_multiloc: { 'nl-BE': hostile ? `<img src=x onerror=alert(1)> ${title} & "co"` : survey ? `Antwoord ${i + 1}` : title },
            body_multiloc: { 'nl-BE': `<p>${title}: dat zou de buurt echt helpen.</p>` },
            publication_status: status,
            published_at: status === 'published' ? ts(publishedMs) : null,
            submitted_at: status === 'draft' ? null : ts(publishedMs),
            project_id: p.id,
            creation_phase_id: survey ? ph.id : null,
            author_id: anonymous ? null : residentAt(publishedMs),
            author_hash: anonymous ? rnd.uuid().slice(0, 16) : null,
            anonymous,
            slug: `input-${++counter}`,
            ...stamp(publishedMs),
          });
          if (!survey) add('ideas_phases', { id: rnd.uuid(), idea_id: id, phase_id: ph.id, ...stamp(publishedMs) });
          ideaRows.set(id, rows.ideas[rows.ideas.length - 1]);
          if (status === 'published' && !survey) ideas.push({ id, project: p.id, published: publishedMs, phase: ph.id });
        }
      }
      if (ph.spec.method === 'poll' || ph.spec.method === 'volunteering') {
        const n = Math.round(40 * months);
        if (ph.spec.method === 'volunteering') {
          const cause = rnd.uuid();
          add('volunteering_causes', { id: cause, phase_id: ph.id, title_multiloc: { 'nl-BE': 'Buurtploeg', en: 'Neighbourhood team' }, ordering: 0, volunteers_count: n, ...stamp(startMs) });
          const seen = new Set<string>();
          for (let i = 0; i < n; i++) {
            const ms = between(startMs, endMs);
            const user = residentAt(ms);
            if (seen.has(user)) continue;
            seen.add(user);
            add('volunteering_volunteers', { id: rnd.uuid(), cause_id: cause, user_id: user, ...stamp(ms) });
          }
        } else {
          for (let i = 0; i < n; i++) {
            const ms = between(startMs, endMs);
            add('polls_responses', { id: rnd.uuid(), phase_id: ph.id, user_id: residentAt(ms), ...stamp(ms) });
          }
        }
      }
    }
    // Voting phases vote on the project's ideation inputs (transitive: linked to the voting phase too).
    for (const ph of p.phases.filter((x) => x.spec.method === 'voting')) {
      const startMs = ph.start.toMillis();
      if (startMs >= nowMs) continue;
      const candidates = ideas.filter((i) => i.project === p.id).slice(0, 25);
      for (const c of candidates) add('ideas_phases', { id: rnd.uuid(), idea_id: c.id, phase_id: ph.id, ...stamp(startMs) });
      if (!candidates.length) continue;
      const budgeting = ph.spec.voting === 'budgeting';
      // A budget option has a price; a budget ballot's baskets_ideas.votes holds it.
      const price = new Map<string, number>();
      for (const c of candidates) {
        const row = ideaRows.get(c.id)!;
        if (budgeting) row.budget = rnd.int(2, 60) * 2_500;
        price.set(c.id, Number(row.budget ?? 0));
      }
      // Votes cast on paper at a neighbourhood meeting, entered by an admin a week before the end.
      const entered = Math.min(ph.end ? ph.end.toMillis() - 7 * 86_400_000 : nowMs, nowMs - 86_400_000);
      if (entered > startMs) {
        for (const c of candidates.slice(0, 5)) Object.assign(ideaRows.get(c.id)!, { manual_votes_amount: rnd.int(2, 30), manual_votes_last_updated_at: ts(entered) });
        Object.assign(phaseRows.get(ph.id)!, { manual_voters_amount: rnd.int(10, 40), manual_voters_last_updated_at: ts(entered) });
      }
      const endMs = ph.end ? ph.end.plus({ days: 1 }).toMillis() : nowMs;
      const voters = new Set<string>();
      for (let i = 0; i < 60 * p.spec.weight; i++) {
        const ms = between(startMs, endMs);
        const user = residentAt(ms);
        if (voters.has(user)) continue;
        voters.add(user);
        const basket = rnd.uuid();
        add('baskets', { id: basket, user_id: user, phase_id: ph.id, submitted_at: rnd.chance(0.85) ? ts(ms) : null, ...stamp(ms) });
        const chosen = new Set<string>();
        for (let k = rnd.int(1, 4); k > 0; k--) chosen.add(rnd.pick(candidates).id);
        for (const idea of chosen) add('baskets_ideas', { id: rnd.uuid(), basket_id: basket, idea_id: idea, votes: budgeting ? price.get(idea)! : rnd.int(1, 3), ...stamp(ms) });
      }
    }
  }
  const reacted = new Set<string>();
  const react = (type: 'Idea' | 'Comment', target: string, afterMs: number) => {
    const ms = between(afterMs, nowMs);
    const user = residentAt(ms);
    const key = `${type}:${target}:${user}`;
    if (reacted.has(key)) return;
    reacted.add(key);
    add('reactions', { id: rnd.uuid(), reactable_id: target, reactable_type: type, user_id: user, mode: rnd.chance(0.8) ? 'up' : rnd.chance(0.7) ? 'down' : 'neutral', ...stamp(ms) });
  };
  for (const idea of ideas) {
    const published = idea.published!;
    let lft = 1;
    const thread: string[] = [];
    for (let k = rnd.int(0, 5); k > 0; k--) {
      const id = rnd.uuid();
      const ms = between(published, published + 60 * 86_400_000);
      const anonymous = rnd.chance(0.04);
      const parent = thread.length && rnd.chance(0.25) ? rnd.pick(thread) : null;
      add('comments', {
        id,
        idea_id: idea.id,
        parent_id: parent,
        lft: lft++,
        rgt: lft++,
        author_id: anonymous ? null : residentAt(ms),
        author_hash: anonymous ? rnd.uuid().slice(0, 16) : null,
        anonymous,
        body_multiloc: { 'nl-BE': rnd.pick(['Goed idee!', 'Eens, maar denk ook aan de buren.', 'Hier is al lang nood aan.', 'Is dit wel betaalbaar?', 'Ja, graag <b>snel</b>!']) },
        publication_status: rnd.chance(0.05) ? 'deleted' : 'published',
        ...stamp(ms),
      });
      if (!parent) thread.push(id);
      comments.push({ id, project: idea.project, created: ms });
    }
    for (let k = rnd.int(0, 9); k > 0; k--) react('Idea', idea.id, published);
    if (rnd.chance(0.35)) {
      const ms = between(published + 7 * 86_400_000, published + 90 * 86_400_000);
      add('official_feedbacks', { id: rnd.uuid(), idea_id: idea.id, body_multiloc: { 'nl-BE': '<p>Bedankt, we nemen dit mee.</p>' }, author_multiloc: { 'nl-BE': 'Stad Gent' }, ...stamp(ms) });
    } else if (rnd.chance(0.15)) {
      // Answered the other way the platform counts: a moderator changed its status, no written feedback.
      const ms = between(published + 3 * 86_400_000, published + 60 * 86_400_000);
      add('activities', { id: rnd.uuid(), item_type: 'Idea', item_id: idea.id, action: 'changed_status', payload: {}, acted_at: ts(ms), created_at: ts(ms), project_id: idea.project });
    }
  }
  for (const c of comments) for (let k = rnd.int(0, 2); k > 0; k--) react('Comment', c.id, c.created);

  // Events: past ones and some in the coming month, for the communication brief.
  for (let i = 0; i < 14; i++) {
    const p = projects[i % projects.length];
    if (p.spec.status === 'draft') continue;
    const start = i < 5 ? now.plus({ months: 1 }).startOf('month').plus({ days: i * 5 + 2, hours: 19 }) : now.minus({ days: 20 * i }).set({ hour: 19, minute: 0 });
    const eventId = rnd.uuid();
    if (start.toMillis() < nowMs) {
      const seen = new Set<string>();
      for (let k = rnd.int(5, 25); k > 0; k--) {
        const user = residentAt(start.toMillis() - 86_400_000);
        if (seen.has(user)) continue;
        seen.add(user);
        add('events_attendances', { id: rnd.uuid(), attendee_id: user, event_id: eventId, ...stamp(between(start.toMillis() - 14 * 86_400_000, start.toMillis())) });
      }
    }
    add('events', { id: eventId, project_id: p.id, title_multiloc: { 'nl-BE': `Infoavond ${p.spec.title['nl-BE']}`, en: `Information evening: ${p.spec.title.en ?? p.spec.title['nl-BE']}` }, location_multiloc: { 'nl-BE': 'Stadshal' }, address_1: 'Emile Braunplein, Gent', start_at: ts(start.toMillis()), end_at: ts(start.plus({ hours: 2 }).toMillis()), ...stamp(Math.min(start.toMillis(), nowMs) - 30 * 86_400_000) });
  }

  // The platform's own e-mail preferences: some staff opted out of digests.
  const staffUsers = rows.users.filter((u) => String(u.email).endsWith('@gent.example.org'));
  for (const [i, u] of staffUsers.entries()) {
    for (const campaign of ['EmailCampaigns::Campaigns::AdminDigest', 'EmailCampaigns::Campaigns::ModeratorDigest']) {
      add('email_campaigns_consents', { id: rnd.uuid(), campaign_type: campaign, user_id: u.id, consented: i % 4 !== 3, ...stamp(launchMs) });
    }
  }

  add('app_configurations', {
    // One per host (it is also the tenant's id in public.tenants, shared by every tenant).
    id: hostUuid(opts.host),
    name: 'Stad Gent',
    host: opts.host,
    settings: { core: { timezone: ZONE, locales: LOCALES, currency: 'EUR', organization_name: { 'nl-BE': 'Stad Gent', 'fr-BE': 'Ville de Gand', en: 'City of Ghent' }, lifecycle_stage: 'active', from_email: 'participatie@gent.be' } },
    style: {},
    ...stamp(launchMs - 60 * 86_400_000),
  });

  const client = new pg.Client(pgConfig(opts.databaseUrl, { application_name: 'crier-demo' }));
  await client.connect();
  try {
    await client.query('BEGIN');
    const schema = await recreateTenantSchema(client, opts.host);
    const tenantId = (rows.app_configurations[0] as { id: string }).id;
    await client.query('DELETE FROM public.tenants WHERE host = $1', [opts.host]);
    await client.query(`INSERT INTO public.tenants (id, name, host, settings, created_at, updated_at, creation_finalized_at) VALUES ($1, 'Stad Gent', $2, '{}', $3, $3, $3)`, [tenantId, opts.host, ts(launchMs - 60 * 86_400_000)]);
    // Parents before children, for the foreign keys.
    const order = ['app_configurations', 'users', 'project_folders_folders', 'projects', 'admin_publications', 'phases', 'ideas', 'ideas_phases', 'comments', 'reactions', 'official_feedbacks', 'activities', 'baskets', 'baskets_ideas', 'polls_responses', 'volunteering_causes', 'volunteering_volunteers', 'events', 'events_attendances', 'email_campaigns_consents'];
    const counts: Record<string, number> = {};
    for (const table of order) {
      counts[table] = await insertAll(client, table, rows[table] ?? []);
    }
    await client.query(`UPDATE ideas SET comments_count = c.n FROM (SELECT idea_id, count(*)::int AS n FROM comments WHERE publication_status = 'published' GROUP BY idea_id) c WHERE c.idea_id = ideas.id`);
    await client.query(`UPDATE ideas SET official_feedbacks_count = f.n FROM (SELECT idea_id, count(*)::int AS n FROM official_feedbacks GROUP BY idea_id) f WHERE f.idea_id = ideas.id`);
    await client.query(`UPDATE projects SET ideas_count = i.n FROM (SELECT project_id, count(*)::int AS n FROM ideas WHERE publication_status = 'published' GROUP BY project_id) i WHERE i.project_id = projects.id`);
    await client.query('COMMIT');
    return { schema, counts, launch: launchDay.toISODate()! };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

/** Multi-row INSERTs in chunks under Postgres's 65,535-parameter limit; returns the row count. */
async function insertAll(client: pg.ClientBase, table: string, list: Row[]): Promise<number> {
  if (!list.length) return 0;
  const columns = [...new Set(list.flatMap((r) => Object.keys(r)))];
  const perChunk = Math.floor(60_000 / columns.length);
  for (let i = 0; i < list.length; i += perChunk) {
    const chunk = list.slice(i, i + perChunk);
    const params: unknown[] = [];
    const values = chunk.map((r) => `(${columns.map((c) => {
      const v = r[c];
      params.push(v !== null && typeof v === 'object' ? JSON.stringify(v) : v === undefined ? null : v);
      return `$${params.length}`;
    }).join(', ')})`);
    await client.query(`INSERT INTO ${pg.escapeIdentifier(table)} (${columns.map((c) => pg.escapeIdentifier(c)).join(', ')}) VALUES ${values.join(', ')}`, params);
  }
  return list.length;
}
