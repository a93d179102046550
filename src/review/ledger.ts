import type pg from 'pg';
import * as LQ from '../ledger/queries.ts';
import type { ReviewData } from './draft.ts';

/**
 * Records a review round with its deliveries (in the fan-out's transaction: a round fanned out
 * always has its review, which the send waits for): the send it reviews, by when, who was asked,
 * what was numbered.
 */
export async function recordReview(db: Pick<pg.ClientBase, 'query'>, runId: number, data: ReviewData): Promise<void> {
  await db.query(LQ.INSERT_REVIEW, [runId, data.send.key, data.deadline, data.default, JSON.stringify(data.items)]);
}
