import { DateTime } from 'luxon';
import type { DeliveryRow, RunRow, Suppression } from '../../ledger/ledger.ts';
import type { Round } from '../../kit/rounds.ts';
import { Html, html, type Part } from './html.ts';

/*
 * The dashboard's pages: plain HTML with inline CSS, no script (bull-board has its own). Every
 * value goes through html`…`, which escapes it.
 */

/** Where the dashboard is: its login, logout, bull-board and (in a deployment of many) the tenant list. */
export const ADMIN = '/admin';

/** What every page of a logged-in user shows in its header. */
export interface Chrome {
  user: string;
  csrf: string;
  organization?: string;
  /**
   * Where this deployment's pages are (default /admin): /admin/t/<id> for a tenant of many.
   * Every link and form of a page is under it, so a page acts on its own tenant only.
   */
  base?: string;
  /** A deployment of many: the tenant whose pages these are, or none on the tenant list. */
  many?: { tenant?: string };
}

/** The pages' base of a chrome (see Chrome.base). */
export const baseOf = (chrome: Pick<Chrome, 'base'>) => chrome.base ?? ADMIN;

/** A command a page names, as it is typed for this page's tenant (`--tenant ID` in a deployment of many). */
export const command = (chrome: Pick<Chrome, 'many'>, text: string) => (chrome.many?.tenant === undefined ? text : `${text} --tenant ${chrome.many.tenant}`);

const STYLE = `
  * { box-sizing: border-box; }
  body { margin: 0; background: #f4f6f8; color: #1f2933; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
  header { background: #0f4c81; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: center; flex-wrap: wrap; }
  header a { color: #fff; text-decoration: none; font-weight: 600; }
  header a:hover, header a:focus-visible { text-decoration: underline; }
  header .who { margin-left: auto; display: flex; gap: 10px; align-items: center; }
  main { max-width: 78rem; margin: 0 auto; padding: 20px; }
  h1 { font-size: 22px; margin: 4px 0 16px; } h2 { font-size: 18px; margin: 24px 0 8px; }
  table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 12px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; overflow-wrap: anywhere; }
  th { background: #eef1f4; font-weight: 600; }
  .status { display: inline-block; padding: 0 6px; border-radius: 3px; background: #e4e7eb; font-size: 13px; }
  .status.failed, .status.unknown, .status.bounced, .status.paused, .status.refused { background: #fde2e1; color: #8a1c1c; }
  .status.sent, .status.done, .status.taken, .status.running { background: #def7e5; color: #14532d; }
  .status.held, .status.unverified, .status.unclear, .status.late { background: #fff1c2; color: #6b4e00; }
  .reply { background: #fff; border: 1px solid #e4e7eb; padding: 8px 12px; margin-bottom: 12px; }
  .reply pre { margin: 8px 0 0; }
  .notice { background: #fff8db; border: 1px solid #e6cf6f; padding: 8px 12px; margin-bottom: 12px; }
  .error { background: #fde2e1; border: 1px solid #e5a3a1; padding: 8px 12px; margin-bottom: 12px; }
  .muted { color: #52606d; font-size: 13px; }
  .nowrap { white-space: nowrap; overflow-wrap: normal; }
  form.inline { display: inline; }
  button { font: inherit; padding: 4px 12px; border-radius: 4px; border: 1px solid #0f4c81; background: #0f4c81; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #0f4c81; }
  input { font: inherit; padding: 4px 6px; }
  pre { white-space: pre-wrap; background: #fff; padding: 12px; border: 1px solid #e4e7eb; }
  iframe { width: 100%; height: 80vh; border: 1px solid #cbd2d9; background: #fff; }
  .login { max-width: 22rem; margin: 10vh auto; background: #fff; padding: 24px; border-top: 4px solid #0f4c81; }
  .login label { display: block; margin: 10px 0 4px; } .login input { width: 100%; } .login button { margin-top: 16px; }
`;

function document(title: string, body: Part): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} · Crier</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The header's links to a deployment's pages; in a deployment of many, to the tenant list first. */
function nav(chrome: Chrome): Html {
  const base = baseOf(chrome);
  const org = chrome.organization ? html` · ${chrome.organization}` : '';
  const pages = html`<a href="${base}">Schedules</a>
<a href="${base}/runs">Runs</a>
<a href="${base}/calls">Project call</a>
<a href="${base}/reviews">Reviews</a>
<a href="${base}/suppressions">Suppressions</a>`;
  if (!chrome.many) return html`<a href="${ADMIN}">Crier${org}</a>
${pages}`;
  const { tenant } = chrome.many;
  return html`<a href="${ADMIN}">Crier · tenants</a>${tenant === undefined ? '' : html`
<a href="${base}">${tenant}${org}</a>
${pages}`}`;
}

/** A page of the dashboard, with its navigation. */
export function page(chrome: Chrome, title: string, body: Part, notice?: string): Html {
  return document(
    title,
    html`<header>
${nav(chrome)}
<a href="${ADMIN}/queues/">Queues</a>
<span class="who">${chrome.user}
<form class="inline" method="post" action="${ADMIN}/logout"><input type="hidden" name="_csrf" value="${chrome.csrf}"><button type="submit" class="secondary">Log out</button></form></span>
</header>
<main>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<h1>${title}</h1>
${body}
</main>`,
  );
}

export function loginPage(o: { csrf: string; next: string; error?: string }): Html {
  return document(
    'Log in',
    html`<main><form class="login" method="post" action="${ADMIN}/login">
<h1>Crier dashboard</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<input type="hidden" name="_csrf" value="${o.csrf}">
<input type="hidden" name="next" value="${o.next}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form></main>`,
  );
}

/** A page for an error (a refused form, a run that does not exist); `back`: the pages it came from (default /admin). */
export function errorPage(title: string, message: string, back = ADMIN): Html {
  return document(title, html`<main><h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="${back}">Back to the dashboard</a></p></main>`);
}

/** An instant in a zone, as a superadmin reads it: "Mon 4 Jan 2027 09:00 Europe/Brussels". */
export const local = (at: Date | DateTime | null | undefined, zone: string) => {
  if (!at) return '';
  const dt = at instanceof Date ? DateTime.fromJSDate(at) : at;
  return `${dt.setZone(zone).toFormat('ccc d LLL yyyy HH:mm')} ${zone}`;
};

export const status = (s: string) => html`<span class="status ${s}">${s}</span>`;

/** A button that POSTs a form (with the CSRF token) to `action`. */
const button = (csrf: string, action: string, label: string, fields: Record<string, string> = {}, secondary = false) =>
  html`<form class="inline" method="post" action="${action}"><input type="hidden" name="_csrf" value="${csrf}">${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${secondary ? html` class="secondary"` : ''}>${label}</button></form>`;

export interface ScheduleView {
  id: string;
  job: string;
  timezone: string;
  enabled: boolean;
  occurrences: DateTime[];
  variants: string[];
}

export function schedulesPage(chrome: Chrome, schedules: ScheduleView[], paused: { id: number; schedule_id: string; occurrence: Date; error: string | null }[], zoneOf: (schedule: string) => string, notice?: string): Html {
  return page(
    chrome,
    'Schedules',
    html`${paused.length
      ? html`<h2>Paused runs</h2><table><tr><th>Run</th><th>Schedule</th><th>Occurrence</th><th>Why</th><th></th></tr>
${paused.map((p) => html`<tr><td><a href="${baseOf(chrome)}/runs/${p.id}">#${p.id}</a></td><td>${p.schedule_id}</td><td>${local(p.occurrence, zoneOf(p.schedule_id))}</td><td>${p.error}</td><td>${button(chrome.csrf, `${baseOf(chrome)}/runs/${p.id}/resume`, 'Resume')}</td></tr>`)}</table>`
      : ''}
<table><tr><th>Schedule</th><th>Job kind</th><th>Next occurrences (local time)</th><th>Run now</th></tr>
${schedules.map(
  (s) => html`<tr><td>${s.id}${s.enabled ? '' : html` <span class="status">disabled</span>`}</td><td>${s.job}</td>
<td>${s.occurrences.length ? html`<ul>${s.occurrences.map((o) => html`<li>${local(o, s.timezone)}</li>`)}</ul>` : html`<span class="muted">none ahead</span>`}</td>
<td><form method="post" action="${baseOf(chrome)}/schedules/${encodeURIComponent(s.id)}/run"><input type="hidden" name="_csrf" value="${chrome.csrf}">
<label class="muted">occurrence <input name="at" type="datetime-local" title="empty: the next one; local time in ${s.timezone}"></label>
${s.variants.length > 1 ? html`<label class="muted">send <select name="variant"><option value="">the next</option>${s.variants.map((v) => html`<option>${v}</option>`)}</select></label>` : ''}
<button type="submit">Run</button></form><span class="muted">as <code>${command(chrome, `crier run ${s.id}`)}</code>: the same occurrence never sends twice</span></td></tr>`,
)}</table>`,
    notice,
  );
}

export type RecentRun = Pick<RunRow, 'id' | 'schedule_id' | 'variant' | 'occurrence' | 'job' | 'origin' | 'status' | 'error'> & Record<'sent' | 'skipped' | 'failed' | 'pending' | 'sending' | 'unknown', number>;

export function runsPage(chrome: Chrome, runs: RecentRun[], zoneOf: (schedule: string) => string): Html {
  return page(
    chrome,
    'Recent runs',
    html`<table><tr><th>Run</th><th>Schedule</th><th>Occurrence</th><th>Status</th><th>Origin</th><th>Sent</th><th>Skipped</th><th>Failed</th><th>Unknown</th><th>Open</th></tr>
${runs.map(
  (r) => html`<tr><td><a href="${baseOf(chrome)}/runs/${r.id}">#${r.id}</a></td><td>${r.schedule_id}${r.variant === 'default' ? '' : ` (${r.variant})`}</td><td>${local(r.occurrence, zoneOf(r.schedule_id))}</td><td>${status(r.status)}${r.error ? html`<div class="muted">${r.error}</div>` : ''}</td><td>${r.origin}</td><td>${r.sent}</td><td>${r.skipped}</td><td>${r.failed}</td><td>${r.unknown}</td><td>${r.pending + r.sending}</td></tr>`,
)}</table>${runs.length ? '' : html`<p class="muted">No runs yet.</p>`}`,
  );
}

export type DeliveryLine = Pick<DeliveryRow, 'id' | 'run_id' | 'email' | 'name' | 'locale' | 'status' | 'reason' | 'attempts' | 'message_id' | 'last_error' | 'smtp_reply' | 'sent_at'>;

const deliveryTable = (rows: DeliveryLine[], zone: string, base: string) =>
  html`<table><tr><th>Delivery</th><th>Recipient</th><th>Language</th><th>Status</th><th>Attempts</th><th>Sent</th><th>Why / SMTP reply</th><th>E-mail</th></tr>
${rows.map(
  (d) => html`<tr><td>${d.id}</td><td>${d.name} &lt;${d.email}&gt;</td><td>${d.locale}</td><td>${status(d.status)}</td><td>${d.attempts}</td><td>${local(d.sent_at, zone)}</td>
<td>${d.reason ?? ''}${d.smtp_reply ? html`<div><strong>SMTP:</strong> <code>${d.smtp_reply}</code></div>` : ''}${d.last_error ? html`<div class="muted">${d.last_error}</div>` : ''}</td>
<td>${d.status === 'skipped' ? '' : html`<a href="${base}/runs/${d.run_id}/deliveries/${d.id}">${d.status === 'sent' ? 'as sent' : 'view'}</a>`}</td></tr>`,
)}</table>`;

export function runPage(
  chrome: Chrome,
  o: { run: RunRow; counts: Record<string, number>; problems: DeliveryLine[]; deliveries: DeliveryLine[]; filter?: string; next?: number },
  notice?: string,
): Html {
  const { run, counts } = o;
  const zone = run.timezone;
  const base = `${baseOf(chrome)}/runs/${run.id}`;
  return page(
    chrome,
    `Run #${run.id}: ${run.schedule_id}${run.variant === 'default' ? '' : ` (${run.variant})`}`,
    html`<table>
<tr><th>Schedule</th><td>${run.schedule_id}</td><th>Job kind</th><td>${run.job}</td></tr>
<tr><th>Occurrence</th><td>${local(run.occurrence, zone)}</td><th>Status</th><td>${status(run.status)} (${run.origin})</td></tr>
<tr><th>Period</th><td>${run.period_start ? html`${local(run.period_start, zone)} – ${local(run.period_end, zone)}` : ''}</td><th>Deliveries</th><td>${Object.entries(counts)
      .filter(([, n]) => n)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ') || 'none'}</td></tr>
${run.error ? html`<tr><th>Error</th><td colspan="3">${run.error}</td></tr>` : ''}
</table>
<p>
${counts.failed ? button(chrome.csrf, `${base}/retry`, `Send the ${counts.failed} failed again`) : ''}
${counts.unknown ? button(chrome.csrf, `${base}/retry`, `Send the ${counts.unknown} unknown again`, { unknown: '1' }, true) : ''}
${run.status === 'paused' ? button(chrome.csrf, `${base}/resume`, 'Resume') : ''}
</p>
${counts.failed ? html`<p class="muted">Like <code>${command(chrome, `crier retry ${run.id}`)}</code>: failed deliveries are queued again, except to addresses suppressed since.</p>` : ''}
${counts.unknown ? html`<p class="muted">Unknown: handed to the SMTP server without an answer; it may have them. Send again only once you know they did not arrive (<code>${command(chrome, `crier retry ${run.id} --unknown`)}</code>).</p>` : ''}
${o.problems.length ? html`<h2>Need attention</h2>${deliveryTable(o.problems, zone, baseOf(chrome))}` : ''}
<h2>Deliveries${o.filter ? ` (${o.filter})` : ''}</h2>
<p class="muted">Show: <a href="${base}">all</a>${['sent', 'skipped', 'failed', 'unknown', 'bounced', 'pending'].map((s) => html` · <a href="${base}?status=${s}">${s}</a>`)}</p>
${deliveryTable(o.deliveries, zone, baseOf(chrome))}
${o.next ? html`<p><a href="${base}?${o.filter ? `status=${o.filter}&` : ''}after=${o.next}">Next deliveries</a></p>` : ''}`,
    notice,
  );
}

export function emailPage(chrome: Chrome, o: { run: RunRow; delivery: DeliveryLine; subject: string; from: string; to: string; text: string; htmlUrl: string }): Html {
  const d = o.delivery;
  return page(
    chrome,
    `E-mail to ${d.email}`,
    html`<p><a href="${baseOf(chrome)}/runs/${o.run.id}">← Run #${o.run.id} (${o.run.schedule_id})</a></p>
<p class="notice">Re-rendered from run #${o.run.id}'s snapshot, for this recipient, the way its send composed it: the ledger keeps no copy of a sent message. A template or catalogue changed since it was sent shows here as it is now.</p>
<table>
<tr><th>Subject</th><td>${o.subject}</td></tr>
<tr><th>From</th><td>${o.from}</td></tr>
<tr><th>To</th><td>${o.to}</td></tr>
<tr><th>Status</th><td>${status(d.status)}${d.sent_at ? ` ${local(d.sent_at, o.run.timezone)}` : ''}</td></tr>
<tr><th>Message-ID</th><td><code>${d.message_id ?? ''}</code></td></tr>
${d.smtp_reply ? html`<tr><th>SMTP reply</th><td><code>${d.smtp_reply}</code></td></tr>` : ''}
</table>
<h2>HTML</h2>
<iframe title="The e-mail's HTML" sandbox src="${o.htmlUrl}"></iframe>
<h2>Plain text</h2>
<pre>${o.text}</pre>`,
  );
}

export function callsPage(chrome: Chrome, rounds: { round: Round; zone: string }[], none: string): Html {
  return page(
    chrome,
    'Project call',
    rounds.length
      ? rounds.map(({ round, zone }) => {
          const answered = round.heads.filter((h) => h.status !== 'missing').length;
          return html`<h2>${round.schedule}: call of ${local(DateTime.fromISO(round.occurrence), zone)}</h2>
<p>Answers due ${local(DateTime.fromISO(round.deadline), zone)}; ${answered} of ${round.heads.length} heads answered. <span class="muted">As <code>${command(chrome, `crier calls ${round.schedule}`)}</code>.</span></p>
<table><tr><th>Head</th><th>Status</th><th>Answers</th></tr>
${round.heads.map(
  (h) => html`<tr><td>${h.name} &lt;${h.email}&gt;</td><td>${status(h.status)}</td><td>
${h.answers.map(
  (a, i) => html`<div><strong>Answer ${i + 1}</strong>, ${local(DateTime.fromISO(a.receivedAt), zone)}${a.late ? ' (late)' : ''}${a.from !== h.email ? ` from ${a.from}` : ''}
${a.items.length ? html`<ul>${a.items.map((it) => html`<li><strong>${it.title}</strong>${it.description ? html`: ${it.description}` : ''}</li>`)}</ul>` : html`<pre>${a.text}</pre>`}</div>`,
)}
${h.unverified.map((u) => html`<div class="muted">Unverified reply from ${u.from}, ${local(DateTime.fromISO(u.receivedAt), zone)}<pre>${u.text}</pre></div>`)}
${h.ignored.map((u) => html`<div class="muted">${u.kind} from ${u.from}, ${local(DateTime.fromISO(u.receivedAt), zone)}</div>`)}</td></tr>`,
)}</table>
${round.unmatched.length ? html`<h2>Replies matched to no head</h2><table><tr><th>Received</th><th>From</th><th>Subject</th></tr>${round.unmatched.map((u) => html`<tr><td>${local(DateTime.fromISO(u.receivedAt), zone)}</td><td>${u.from ?? '?'}</td><td>${u.subject}</td></tr>`)}</table>` : ''}`;
        })
      : html`<p class="muted">${none}</p>`,
  );
}

export function suppressionsPage(chrome: Chrome, list: Suppression[], total: number): Html {
  return page(
    chrome,
    'Suppressions',
    html`<p class="muted">Addresses Crier does not write to, newest first (${total}). <code>${command(chrome, 'crier suppressions remove ADDRESS')}</code> lifts an address's.</p>
<table><tr><th>Address</th><th>Stops</th><th>Why</th><th>Since</th><th>Detail</th></tr>
${list.map((s) => html`<tr><td>${s.email}</td><td>${s.scope === 'all' ? 'every e-mail' : `${s.scope} ${s.target}`}</td><td>${s.reason}</td><td>${s.created_at.toISOString().slice(0, 16).replace('T', ' ')} UTC</td><td>${s.detail ?? ''}${s.delivery_id ? html` <span class="muted">(delivery ${s.delivery_id})</span>` : ''}</td></tr>`)}
</table>${total > list.length ? html`<p class="muted">and ${total - list.length} more: <code>${command(chrome, 'crier suppressions')}</code> lists all.</p>` : ''}`,
  );
}
