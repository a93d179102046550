import { EXPLAIN_PREFIX, RANGE_SCAN, TABLE_COLUMNS, TABLE_INDEX_COLUMNS } from './queries.ts';
import type { Platform } from './platform.ts';

/*
 * Which index would make a slow platform read faster, found without writing to the platform:
 * the query is run again under EXPLAIN ANALYZE on the read-only connection, and a sequential
 * scan that reads a whole table to keep a small time slice of it (a filter on a timestamp
 * column the table has no index for) names the index. What it would save is measured, not
 * guessed: that scan is timed alone (SELECT count(*) with the same bounds, uninstrumented:
 * EXPLAIN ANALYZE's per-row clock reads inflate node times), and capped by the time the query
 * took. An index scan still reads the rows it keeps, so this is an upper bound, reported as
 * "up to".
 */

/** One platform query a summary ran, with its wall-clock time. */
export interface TimedQuery {
  name: string;
  sql: string;
  params: unknown[];
  ms: number;
}

export interface IndexAdvice {
  table: string;
  column: string;
  /** What a DBA would run (CONCURRENTLY: the platform keeps writing meanwhile). */
  statement: string;
  /** Time a scan of the whole table for the slice takes (timed alone), at most the query's time; the largest over the queries. */
  scanMs: number;
  /** Rows read, and rows the filter kept, in the slowest of those scans. */
  rowsRead: number;
  rowsKept: number;
  /** The queries whose plans scanned it. */
  queries: string[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  Filter?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Rows Removed by Filter'?: number;
  'Parallel Aware'?: boolean;
  Plans?: PlanNode[];
}

/** A filter keeps under this share of what a scan reads: an index on the filtered column would read far less. */
const SELECTIVE = 0.2;

/**
 * Runs each query again under EXPLAIN ANALYZE (read-only, as every platform query) and names
 * the indexes that would spare its whole-table scans, most time saved first.
 */
export async function adviseIndexes(platform: Platform, queries: TimedQuery[]): Promise<IndexAdvice[]> {
  /** Per table and column: the widest slice a plan read (its bounds), and the longest query that read it. */
  const found = new Map<string, IndexAdvice & { bounds: [string | null, string | null]; queryMs: number }>();
  const tables = new Map<string, { types: Map<string, string>; leading: Set<string> }>();
  const tableOf = async (table: string) => {
    if (!tables.has(table)) {
      const cols = await platform.query<{ column_name: string; data_type: string }>(TABLE_COLUMNS, [table]);
      const idx = await platform.query<{ column_name: string }>(TABLE_INDEX_COLUMNS, [table]);
      tables.set(table, { types: new Map(cols.map((r) => [r.column_name, r.data_type])), leading: new Set(idx.map((r) => r.column_name)) });
    }
    return tables.get(table)!;
  };
  for (const q of queries) {
    const [row] = await platform.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`${EXPLAIN_PREFIX} ${q.sql}`, q.params);
    for (const node of walk(row['QUERY PLAN'][0].Plan)) {
      if (!/Seq Scan$/.test(node['Node Type']) || !node.Filter || !node['Relation Name']) continue;
      const loops = node['Actual Loops'] ?? 1;
      const kept = (node['Actual Rows'] ?? 0) * loops;
      const read = kept + (node['Rows Removed by Filter'] ?? 0) * loops;
      if (!read || kept / read >= SELECTIVE) continue;
      const table = node['Relation Name'];
      const { types, leading } = await tableOf(table);
      for (const column of rangeColumns(node.Filter)) {
        if (!types.get(column)?.startsWith('timestamp') || leading.has(column)) continue;
        const key = `${table}.${column}`;
        const a = found.get(key) ?? { table, column, statement: `CREATE INDEX CONCURRENTLY index_${table}_on_${column} ON ${identifier(platform.info.schema)}.${identifier(table)} (${identifier(column)});`, scanMs: 0, rowsRead: 0, rowsKept: 0, queries: [], bounds: [null, null], queryMs: 0 };
        if (read > a.rowsRead || (read === a.rowsRead && kept > a.rowsKept)) Object.assign(a, { rowsRead: read, rowsKept: kept, bounds: rangeBounds(node.Filter, column) });
        if (!a.queries.includes(q.name)) a.queries.push(q.name);
        a.queryMs = Math.max(a.queryMs, q.ms);
        found.set(key, a);
      }
    }
  }
  const out: IndexAdvice[] = [];
  for (const { bounds, queryMs, ...advice } of found.values()) {
    // A slice is bounded from below: "since". (A filter like block_end_at <= now keeps most rows;
    // when the scan was selective, something else in its filter made it so.)
    if (bounds[0] === null) continue;
    // The scan alone, as the plan ran it (the widest slice it read), without instrumentation;
    // it cannot save more than the query that ran it took. Its count says whether the time
    // slice itself is small: what the index would spare.
    const t0 = performance.now();
    const [{ kept, read }] = await platform.query<{ kept: string; read: string }>(RANGE_SCAN(advice.table, advice.column), bounds);
    const ms = performance.now() - t0;
    if (Number(kept) / Math.max(1, Number(read)) >= SELECTIVE) continue;
    out.push({ ...advice, rowsRead: Number(read), rowsKept: Number(kept), scanMs: Math.min(ms, queryMs) });
  }
  return out.sort((a, b) => b.scanMs - a.scanMs);
}

/** A name as SQL needs it: quoted unless a plain lower-case identifier (a tenant schema may hold a '-'). */
export function identifier(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

/**
 * The bounds a filter puts on a column, as the plan prints them (`(created_at >= '2026-07-01
 * 00:00:00'::timestamp without time zone)`): [from, until), either may be missing.
 */
export function rangeBounds(filter: string, column: string): [string | null, string | null] {
  const bound = (ops: string) => filter.match(new RegExp(`\\b${column}"? (?:${ops}) '([^']+)'`))?.[1] ?? null;
  return [bound('>=|>'), bound('<|<=')];
}

/** Columns a filter bounds from below or above: `(created_at >= '…'::timestamp …)`. */
export function rangeColumns(filter: string): string[] {
  const out = new Set<string>();
  for (const m of filter.matchAll(/\(?(?:\w+\.)?"?([a-z_][a-z0-9_]*)"? (?:>=|>|<=|<) /g)) out.add(m[1]);
  return [...out];
}
