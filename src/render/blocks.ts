import type { ViewContext } from '../job-kind.ts';
import type { ActivityCounts, ProjectActivity } from '../platform/activity.ts';

/** A stat tile: the figure, its label and its change against the previous period. */
export interface StatTile {
  value: string;
  label: string;
  change: string;
}

/** Stat tiles, three to a row (what fits a phone at 375 px). */
export function statRows<K extends string>(ctx: ViewContext, current: Record<K, number>, previous: Record<K, number>, keys: K[]): StatTile[][] {
  const tiles = keys.map((k) => {
    const change = ctx.format.change(current[k], previous[k]);
    return {
      value: ctx.format.number(current[k]),
      label: ctx.t(`common.${k}`),
      change: change ? ctx.t('common.changeVsPrevious', { change }) : current[k] > 0 ? ctx.t('common.newThisPeriod') : '',
    };
  });
  const rows: StatTile[][] = [];
  for (let i = 0; i < tiles.length; i += 3) rows.push(tiles.slice(i, i + 3));
  return rows;
}

/** Rows of a project table with a bar scaled to the busiest project's participants. */
export function projectRows(ctx: ViewContext, projects: (ProjectActivity & ActivityCounts)[]) {
  const max = Math.max(1, ...projects.map((p) => p.participants));
  return projects.map((p) => {
    const folder = p.folderMultiloc ? ctx.text(p.folderMultiloc) : '';
    const status = p.status ? ctx.t(`common.status.${p.status}`) : '';
    return {
      title: ctx.text(p.titleMultiloc),
      url: p.slug ? `${ctx.platformUrl}/projects/${encodeURIComponent(p.slug)}` : ctx.platformUrl,
      meta: [folder, status].filter(Boolean).join(' · '),
      participants: ctx.format.number(p.participants),
      inputs: ctx.format.number(p.inputs + p.surveyResponses),
      comments: ctx.format.number(p.comments),
      bar: Math.round((p.participants / max) * 100),
    };
  });
}
