import type { Ledger } from '../ledger/ledger.ts';
import * as LQ from '../ledger/queries.ts';
import type { ReviewData } from './draft.ts';

/** Records a review round once its deliveries exist: the send it reviews, by when, who was asked, what was numbered. */
export async function recordReview(ledger: Ledger, runId: number, data: ReviewData): Promise<void> {
  await ledger.pool.query(LQ.INSERT_REVIEW, [runId, data.send.key, data.deadline, data.default, JSON.stringify(data.items)]);
}
