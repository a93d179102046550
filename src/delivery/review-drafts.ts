import type { DateTime } from 'luxon';
import type { Schedule } from '../deployment/schedules.ts';
import type { JobKind } from '../kit/contract.ts';
import type { PlatformInfo } from '../platform/platform.ts';
import { renderMessage } from './message.ts';
import { draftPeriod, type ReviewData } from '../review/draft.ts';

/** What rendering the drafts needs: the reviewed kind, the round's snapshot and the look of the real send. */
export interface DraftInput {
  job: JobKind;
  data: ReviewData;
  platform: PlatformInfo;
  schedule: Schedule;
  occurrence: DateTime;
  sender: { name: string; address: string };
  organizationName?: string;
  color: string;
  replyTo: string;
}

/**
 * The reviewed e-mail, rendered as the send will render it, for one real recipient per
 * language: an .html file each (draft-nl-BE.html …), which every mail client opens in a browser.
 * Attached rather than linked: a link would need Crier's web endpoint reachable from the
 * reviewers' desks, and an attachment is what the reviewers forward or keep.
 */
export async function draftAttachments(input: DraftInput): Promise<{ filename: string; content: string; contentType: string }[]> {
  const period = draftPeriod(input.data, input.schedule.timezone);
  const out = [];
  for (const sample of input.data.samples) {
    const rendered = await renderMessage(
      {
        job: input.job,
        data: input.data.draft,
        recipient: sample,
        platform: input.platform,
        period,
        timezone: input.schedule.timezone,
        run: { occurrence: input.occurrence, variant: input.data.send.variant, meta: input.data.send.meta },
        sender: input.sender,
        organizationName: input.organizationName,
        color: input.color,
        replyTo: input.replyTo,
        unsubscribe: { required: input.schedule.unsubscribe === 'none' },
      },
      // The drafts are not the round's own e-mail: kept views belong to the send's snapshot.
      { memo: false },
    );
    out.push({ filename: `draft-${sample.locale}.html`, content: rendered.html, contentType: 'text/html; charset=utf-8' });
  }
  return out;
}
