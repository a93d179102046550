import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../src/config/errors.ts';
import { parseConfig } from '../src/config/load.ts';
import { loadJobKinds } from '../src/job-registry.ts';

const BASE = `platform:
  kind: govocal
  database: postgres://127.0.0.1:5432/postgres
  tenant: participatie.gent.be
crier:
  database: postgres://127.0.0.1:5432/postgres
  redis: redis://127.0.0.1:6379
mail:
  from: "Participatie Gent <participatie@gent.be>"
inbound:
  address: calls@gent.be
  secret: a-secret-of-sixteen-chars
audiences:
  council:
    - { name: Mathias De Clercq, email: burgemeester@gent.be, locale: nl-BE }
  management:
    - { name: Stadssecretaris, email: secretaris@gent.be, locale: nl-BE }
schedules:
  council-quarterly:
    job: council-update
    audience: [council]
    cron: "0 9 * 1,4,7,10 1#1"
    timezone: Europe/Brussels
`;

async function load(text: string) {
  return parseConfig(text, 'config/crier.yaml', { jobs: await loadJobKinds(), env: {} });
}

async function issuesOf(text: string): Promise<ConfigIssue[]> {
  try {
    await load(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('a schedule review: config', () => {
  it('is accepted on any schedule, with its defaults filled', async () => {
    const c = await load(`${BASE}    review: { audience: management }\n`);
    expect(c.schedules[0].review).toEqual({ audience: ['management'], before: 'P5D', decide: 'P2D', default: 'send' });
    const s = await load(`${BASE}  steering:\n    job: steering-meeting\n    audience: [management]\n    dates: ["2027-03-09 14:00"]\n    review: { audience: [council], before: P3D, decide: PT36H, default: hold }\n`);
    expect(s.schedules[1].review).toEqual({ audience: ['council'], before: 'P3D', decide: 'PT36H', default: 'hold' });
  });

  it.each<[string, string, { path: string; line?: number; message: RegExp }]>([
    ['an undefined audience', '    review: { audience: [management, board] }\n', { path: 'schedules.council-quarterly.review.audience[1]', line: 24, message: /audience 'board' is not defined; defined: council, management/ }],
    ['decide not shorter than before', '    review: { audience: management, before: P2D, decide: P3D }\n', { path: 'schedules.council-quarterly.review.decide', message: /'P3D' is not shorter than before 'P2D'.*before: P5D, decide: P2D/ }],
    ['decide equal to before', '    review: { audience: management, before: P2D }\n', { path: 'schedules.council-quarterly.review.decide', message: /'P2D' is not shorter than before 'P2D'/ }],
    ['a default that is neither', '    review: { audience: management, default: maybe }\n', { path: 'schedules.council-quarterly.review.default', message: /'maybe' is not a review default; use send or hold/ }],
    ['an unknown key', '    review: { audience: management, deadline: P2D }\n', { path: 'schedules.council-quarterly.review.deadline', message: /unknown key 'deadline'/ }],
    ['no audience', '    review: { before: P5D }\n', { path: 'schedules.council-quarterly.review.audience', message: /is required: name the reviewers' audience, e\.g\. audience: \[management\]/ }],
    ['a before that leaves no time', '    review: { audience: management, before: PT10M, decide: PT5M }\n', { path: 'schedules.council-quarterly.review.before', message: /'PT10M' leaves the reviewers no time: decisions are due 15 minutes before the send/ }],
    ['a bad duration', '    review: { audience: management, before: 5 days }\n', { path: 'schedules.council-quarterly.review.before', message: /not an ISO-8601 duration/ }],
  ])('refuses %s, naming the field and the fix', async (_name, line, expected) => {
    const issues = await issuesOf(BASE + line);
    expect(issues).toContainEqual(expect.objectContaining({ path: expected.path, message: expect.stringMatching(expected.message), ...(expected.line ? { line: expected.line } : {}) }));
  });

  it('needs inbound:, through which the decisions come back', async () => {
    const issues = await issuesOf(BASE.replace(/inbound:\n.*\n.*\n/, '') + '    review: { audience: management }\n');
    expect(issues).toContainEqual(expect.objectContaining({ path: 'schedules.council-quarterly.review', message: expect.stringMatching(/needs inbound:/) }));
  });
});
