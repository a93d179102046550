import { DateTime, Interval } from 'luxon';
import { describe, expect, it } from 'vitest';
import { viewContext } from '../src/delivery/message.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { NO_ACTIVITY } from '../src/platform/activity.ts';
import type { ProjectFact } from '../src/platform/facts.ts';
import type { PlatformInfo } from '../src/platform/platform.ts';
import { applyDecision } from '../src/review/apply.ts';
import type { ReviewData } from '../src/review/draft.ts';

/*
 * What a reviewer's "leave out" does to a list that shows only its first rows: the council
 * update's table of 12. A project the reviewers never numbered must not move up into it.
 */

const zone = 'Europe/Brussels';
const project = (n: number): ProjectFact & typeof NO_ACTIVITY => ({
  ...NO_ACTIVITY,
  id: `p${n}`,
  slug: `project-${n}`,
  title: { en: `Project ${n}` },
  status: 'published',
  folderId: null,
  folderTitle: {},
  firstPublishedAt: null,
  hidden: false,
  listed: true,
  visibleTo: 'public',
  participants: 100 - n,
});

describe('leaving out a project of the council update’s full table', () => {
  it('shows the other numbered projects and not the next one down, which nobody reviewed; the unlisted rest is still counted', async () => {
    const job = (await loadJobKinds()).get('council-update')!;
    const period = Interval.fromDateTimes(DateTime.fromISO('2026-10-01', { zone }), DateTime.fromISO('2027-01-01', { zone })) as Interval<true>;
    const totals = { ...NO_ACTIVITY, newUsers: 0 };
    const draft = { period: { start: period.start.toISO(), end: period.end.toISO(), timezone: zone }, previousPeriod: null, sinceLaunch: false, totals, previous: null, projects: Array.from({ length: 15 }, (_, i) => project(i + 1)), months: [], newProjects: [] };
    const items = job.reviewItems!(draft);
    // The table's 12 rows are what the reviewers number.
    expect(items.map((i) => i.id)).toEqual(Array.from({ length: 12 }, (_, i) => `p${i + 1}`));
    const round = { items, draft } as unknown as ReviewData;
    const sent = applyDecision(job, round, { action: 'send', leaveOut: [2, 5], note: null });

    const platform: PlatformInfo = { host: 'city.example', schema: 'city_example', timezone: zone, locales: ['en'], organizationName: { en: 'City' }, url: 'https://city.example', currency: 'EUR' } as PlatformInfo;
    const view = job.view(sent, viewContext({ recipient: { email: 'mayor@city.example', name: 'Mayor', locale: 'en' }, platform, period, timezone: zone })) as { projectTable: { rows: { title: string }[]; more: string } };
    expect(view.projectTable.rows.map((r) => r.title)).toEqual([1, 3, 4, 6, 7, 8, 9, 10, 11, 12].map((n) => `Project ${n}`));
    // Projects 13-15 were never listed: still "3 more", as in the draft.
    expect(view.projectTable.more).toMatch(/3 more/);
  });
});
