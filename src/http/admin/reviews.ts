import { DateTime } from 'luxon';
import { fallbackChain, translate } from '../../render/catalog.ts';
import { resolveMultiloc } from '../../render/multiloc.ts';
import { decisionInWords, sendInWords, type ReviewReplyView, type ReviewStatus } from '../../review/status.ts';
import { forceCommand } from '../../review/gate.ts';
import { html, type Html } from './html.ts';
import { baseOf, command, local, page, status, type Chrome } from './views.ts';

/*
 * The Reviews page: for each schedule with `review:`, its latest round as `crier review SCHEDULE`
 * shows it (src/review/status.ts reads both). Item titles and replies are platform and reviewer
 * text, hostile until shown otherwise: like every value they go through html`…`.
 */

/** One reviewed schedule: its latest round, or when the next one is planned. */
export interface ReviewedSchedule {
  id: string;
  job: string;
  timezone: string;
  enabled: boolean;
  status?: ReviewStatus;
  /** When the next round goes out, when none has yet. */
  nextRound?: DateTime;
}

const OUTCOME: Record<string, string> = {
  taken: 'taken: the first verified decision',
  already: 'a decision had already been taken: counts for nothing',
  late: 'after the deadline: counts for nothing',
  unclear: 'no decision could be read: the reviewer was asked to rephrase; counts for nothing',
  unverified: 'not from a reviewer: counts for nothing, not answered',
};

/** Why no decision could be read, in the words the reviewer was told (the dashboard is in English). */
const problemInWords = (problem: string) => translate(fallbackChain('en'), `review.problem.${problem}`);

/**
 * An item's title: the job kind's plain text, or platform text in several languages, shown in
 * the superadmin's (`operator.locale`) with the other languages after it.
 */
function titleOf(title: unknown, locale: string): Html {
  if (typeof title === 'string') return html`${title}`;
  if (!title || typeof title !== 'object') return html`<span class="muted">no title</span>`;
  const multiloc = Object.fromEntries(Object.entries(title).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const main = resolveMultiloc(multiloc, locale, []);
  const others = Object.entries(multiloc).filter(([, v]) => v.trim() && v !== main);
  return html`${main}${others.length ? html` <span class="muted">(${others.map(([l, v], i) => html`${i ? ' · ' : ''}${l}: ${v}`)})</span>` : ''}`;
}

const when = (iso: string, zone: string) => local(DateTime.fromISO(iso), zone);

function reply(d: ReviewReplyView, zone: string): Html {
  return html`<div class="reply">
<p><strong>${d.from ?? 'unknown sender'}</strong>, ${when(d.receivedAt, zone)} · ${d.verified ? 'verified: one of the reviewers' : 'unverified: not one of the reviewers'}</p>
<p>${status(d.outcome)} ${OUTCOME[d.outcome] ?? ''}${d.effective ? html` · <strong>this decision applies</strong>` : ''}</p>
<p>Read as: ${decisionInWords(d.decision)}${d.problem ? html` · problem: ${problemInWords(d.problem)}` : ''}</p>
<p class="muted">Message #${d.message.inbound}: ${d.message.subject ?? '(no subject)'}</p>
<pre>${d.message.text ?? ''}</pre>
</div>`;
}

/** What applies to the send, and how settled it is. */
function applies(s: ReviewStatus, zone: string): Html {
  const a = s.applies;
  const who = a.byDefault ? html`the default (${s.review.default}): no reviewer has decided` : html`decided by ${a.by}`;
  const settled = !a.byDefault ? 'the first verified decision stands: later replies do not change it' : a.final ? 'final: the deadline has passed' : `until a reviewer decides (by ${when(s.review.deadline, zone)})`;
  return html`<p class="notice"><strong>What applies:</strong> ${decisionInWords(a)}; ${who}; ${settled}.</p>`;
}

/** The send's run: not made before its occurrence; a held one with how to send it anyway. */
function sendRun(s: ReviewStatus, id: string, zone: string, chrome: Chrome): Html {
  const run = s.sendRun;
  if (!run) return html`<span class="muted">not recorded yet: it is made at the occurrence, with the decision that applies then</span>`;
  return html`<a href="${baseOf(chrome)}/runs/${run.id}">#${run.id}</a> ${status(run.status)}${run.forced ? html` <span class="muted">sent with --force after a hold</span>` : ''}${run.error ? html` ${run.error}` : ''}${
    run.status === 'held' ? html`<div class="muted">Not sent. <code>${command(chrome, forceCommand({ schedule: id, occurrence: s.review.occurrence, timezone: zone, variant: run.variant }))}</code> sends it anyway, as the reviewers saw it, once.</div>` : ''
  }`;
}

function round(sched: ReviewedSchedule, s: ReviewStatus, locale: string, chrome: Chrome): Html {
  const zone = sched.timezone;
  const { review } = s;
  return html`<table>
<tr><th>Occurrence</th><td>${when(review.occurrence, zone)}</td><th>Decisions due</th><td>${when(review.deadline, zone)}</td></tr>
<tr><th>Default</th><td>${review.default}</td><th>Round</th><td><a href="${baseOf(chrome)}/runs/${review.round}">#${review.round}</a> <span class="muted">the e-mails the reviewers got, drafts attached</span></td></tr>
<tr><th>Send's run</th><td colspan="3">${sendRun(s, sched.id, zone, chrome)}</td></tr>
</table>
${applies(s, zone)}
<h3>Items</h3>
${s.items.length ? html`<table><tr><th>No.</th><th>Title</th></tr>${s.items.map((i) => html`<tr><td>${i.number}</td><td>${titleOf(i.title, locale)}</td></tr>`)}</table>` : html`<p class="muted">No items: nothing to leave out.</p>`}
<h3>Asked</h3>
<table><tr><th>Reviewer</th><th>Language</th><th>Draft</th><th>Sent</th><th>Why</th></tr>
${s.reviewers.map((r) => html`<tr><td>${r.name} &lt;${r.email}&gt;</td><td>${r.locale}</td><td>${status(r.status)}</td><td>${r.sentAt ? when(r.sentAt, zone) : ''}</td><td>${r.reason ?? ''}</td></tr>`)}
</table>
<h3>Replies (${s.decisions.length})</h3>
${s.decisions.length ? s.decisions.map((d) => reply(d, zone)) : html`<p class="muted">No reply yet.</p>`}`;
}

export function reviewsPage(chrome: Chrome, schedules: ReviewedSchedule[], locale: string): Html {
  return page(
    chrome,
    'Reviews',
    schedules.length
      ? html`<p class="muted">The latest review round of each schedule with <code>review:</code>, as <code>${command(chrome, 'crier review SCHEDULE')}</code> shows it. Every reply is kept with the message it came from.</p>
${schedules.map(
  (sched) => html`<section>
<h2>${sched.id}${sched.status ? html`: ${sendInWords(sched.status.review, (iso) => when(iso, sched.timezone))}` : ''} <span class="muted">(${sched.job})</span></h2>
${sched.status
  ? round(sched, sched.status, locale, chrome)
  : html`<p>No review round has gone out yet.${
      sched.nextRound ? html` The next is planned for ${local(sched.nextRound, sched.timezone)}.` : sched.enabled ? html` <span class="muted">None is planned: the schedule has no further occurrence.</span>` : html` <span class="muted">The schedule is disabled.</span>`
    }</p>`}
</section>`,
)}`
      : html`<p class="muted">The config has no schedule with <code>review:</code>. See “Review before sending” in the README to have the management team decide what reaches the council.</p>`,
  );
}
