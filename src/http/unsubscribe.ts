import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { Crier } from '../deployment/deployment.ts';
import type { SuppressionScope } from '../ledger/ledger.ts';
import { addressOf } from '../config/addresses.ts';
import { readUnsubscribeToken, type UnsubscribeClaim } from '../delivery/unsubscribe.ts';
import { fallbackChain, translate } from '../render/catalog.ts';

/*
 * One-click unsubscribe (RFC 8058) and the small page behind the same link, served by
 * `crier start` when the config has `http.secrets`.
 *
 *   POST /u/TOKEN        unsubscribes at once (what a mail provider's button sends:
 *                        List-Unsubscribe=One-Click, no cookies, and it follows no redirect)
 *   GET  /u/TOKEN        a page in the recipient's language with one button; changes nothing
 *                        (mail scanners fetch every link)
 *   POST /u/TOKEN/undo   lifts exactly that unsubscribe again
 *
 * What an unsubscribe stops is the schedule's `unsubscribe` setting in the config as it is
 * now (not when the e-mail was sent). A token no listed secret signed changes nothing.
 */

/** What the endpoint reads: the config, the ledger, the job kinds and the log. */
export type HttpDeps = Pick<Crier, 'config' | 'ledger' | 'log' | 'jobs'>;

/** What an unsubscribe through this token stops, by the schedule's current setting. */
type Effect = { mode: 'none' } | { mode: 'schedule' | 'job'; scope: SuppressionScope; target: string };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The first language of an Accept-Language header, for pages of tokens that say none. */
function acceptedLocale(header: string | undefined): string {
  return /^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)/.exec(header ?? '')?.[1] ?? 'en';
}

/** A browser (a form on the page) asks for HTML; a mail provider's one-click POST gets plain text. */
function wantsHtml(req: FastifyRequest): boolean {
  return /text\/html|application\/xhtml\+xml/i.test(req.headers.accept ?? '');
}

/**
 * The unsubscribe routes, in a scope of their own: any body is accepted there (see below),
 * while the rest of the server parses bodies as usual.
 */
export async function registerUnsubscribe(app: FastifyInstance, crier: HttpDeps): Promise<void> {
  const { config, ledger, log } = crier;
  const secrets = config.http?.secrets ?? [];
  if (secrets.length === 0) throw new Error('the unsubscribe endpoint needs http.secrets to verify unsubscribe links');
  // Any POST with a valid token unsubscribes, whatever it carries: RFC 8058 says the body is
  // List-Unsubscribe=One-Click as a form, some providers send multipart/form-data, others
  // nothing. Forms are parsed (for the log); every other body is read and ignored, never refused.
  // A one-click POST carries a few bytes; nothing here reads more.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, _body, done) => done(null, undefined));
  const contact = config.mail.replyTo ?? addressOf(config.mail.from);
  const color = config.organization.color;
  const organization = config.organization.name;

  /** The effect of an unsubscribe: by the schedule's setting now; a schedule gone from the config: that schedule. */
  const effectOf = (claim: UnsubscribeClaim): Effect => {
    const mode = config.schedules.find((s) => s.id === claim.schedule)?.unsubscribe ?? 'schedule';
    if (mode === 'none') return { mode };
    return mode === 'job' ? { mode, scope: 'job', target: claim.job } : { mode, scope: 'schedule', target: claim.schedule };
  };

  /** The recipient's catalogues and what the page calls the e-mails: the job kind's schedule name. */
  const wording = (locale: string, job?: string) => {
    const chain = fallbackChain(locale);
    const t = (key: string, vars: Record<string, unknown> = {}) => translate(chain, key, vars);
    let name = job ?? '';
    if (job) {
      try {
        name = t(`${job}.scheduleName`);
      } catch {
        // A job kind without a catalogue section: its own one-line description.
        name = crier.jobs.get(job)?.description ?? job;
      }
    }
    return { lang: chain[0] ?? 'en', t, name };
  };

  /** A small page: inline CSS, no external assets, readable on a phone. */
  const page = (lang: string, title: string, body: string) => `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 24px 16px; background: #f4f6f8; color: #1f2933; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  main { max-width: 34rem; margin: 0 auto; background: #fff; border-top: 4px solid ${escapeHtml(color)}; border-radius: 6px; padding: 24px; box-shadow: 0 1px 3px rgba(0, 0, 0, .08); }
  .org { margin: 0 0 8px; color: #52606d; font-size: 14px; }
  h1 { margin: 0 0 12px; font-size: 22px; line-height: 1.3; }
  p { margin: 0 0 16px; overflow-wrap: anywhere; }
  .hint { color: #52606d; font-size: 15px; }
  form { margin: 0 0 8px; }
  button { font: inherit; font-weight: 600; min-height: 44px; padding: 10px 20px; border-radius: 4px; cursor: pointer; }
  .primary { background: ${escapeHtml(color)}; color: #fff; border: 2px solid ${escapeHtml(color)}; }
  .secondary { background: #fff; color: #1f2933; border: 2px solid #9aa5b1; }
  button:focus-visible { outline: 3px solid #1f2933; outline-offset: 2px; }
</style>
</head>
<body>
<main>
${organization ? `<p class="org">${escapeHtml(organization)}</p>\n` : ''}<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;

  /** A form that POSTs to `action` (relative to the page's own address, so a path prefix of a proxy is kept). */
  const button = (action: string, label: string, kind: 'primary' | 'secondary') =>
    `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" class="${kind}">${escapeHtml(label)}</button></form>`;

  const send = (reply: FastifyReply, status: number, type: 'html' | 'text', body: string) =>
    reply
      .code(status)
      .header('content-type', type === 'html' ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8')
      // The token is in the address: never cached, never passed on, never framed or indexed.
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-robots-tag', 'noindex, nofollow')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      .send(body);

  /** A token no listed secret signed exactly so (forged, altered, or signed with a secret rotated out). */
  const refuseToken = (req: FastifyRequest, reply: FastifyReply) => {
    const { lang, t } = wording(acceptedLocale(req.headers['accept-language']));
    log.warn({ path: req.routeOptions.url, method: req.method }, 'unsubscribe link refused: not signed by any listed secret');
    if (req.method !== 'GET' && !wantsHtml(req)) return send(reply, 400, 'text', `${t('unsubscribePage.invalid')}\n`);
    return send(reply, 400, 'html', page(lang, t('unsubscribePage.invalidTitle'), `<p>${escapeHtml(t('unsubscribePage.invalid'))}</p>`));
  };

  /** Mail a role must receive (`unsubscribe: none`): nothing to unsubscribe from; says whom to ask. */
  const requiredPage = (req: FastifyRequest, reply: FastifyReply, claim: UnsubscribeClaim, status: number) => {
    const { lang, t, name } = wording(claim.locale, claim.job);
    const text = t('unsubscribePage.required', { name, contact });
    if (req.method !== 'GET' && !wantsHtml(req)) return send(reply, status, 'text', `${text}\n`);
    return send(reply, status, 'html', page(lang, t('unsubscribePage.requiredTitle'), `<p>${escapeHtml(text)}</p>`));
  };

  /** The page after unsubscribing (or when already unsubscribed): done, with an undo button. */
  const donePage = (claim: UnsubscribeClaim, effect: Effect & { mode: 'schedule' | 'job' }, token: string) => {
    const { lang, t, name } = wording(claim.locale, claim.job);
    const text = effect.mode === 'job' ? t('unsubscribePage.doneJob', { email: claim.email, name }) : t('unsubscribePage.doneSchedule', { email: claim.email, name });
    return {
      text,
      html: page(
        lang,
        t('unsubscribePage.doneTitle'),
        `<p role="status">${escapeHtml(text)}</p>\n<p class="hint">${escapeHtml(t('unsubscribePage.undoHint'))}</p>\n${button(`${token}/undo`, t('unsubscribePage.undoButton'), 'secondary')}`,
      ),
    };
  };

  /** The link's token, what it claims and what unsubscribing would stop; undefined for a token that is refused. */
  const linkOf = (req: FastifyRequest) => {
    const token = (req.params as { token: string }).token;
    const claim = readUnsubscribeToken(secrets, token, crier.config.tenant);
    return claim ? { token, claim, effect: effectOf(claim) } : undefined;
  };

  app.get('/u/:token', async (req, reply) => {
    const link = linkOf(req);
    if (!link) return refuseToken(req, reply);
    const { token, claim, effect } = link;
    if (effect.mode === 'none') return requiredPage(req, reply, claim, 200);
    // Only reads: a scanner fetching the link unsubscribes nobody.
    if (await ledger.isUnsubscribed(claim.email, effect.scope, effect.target)) return send(reply, 200, 'html', donePage(claim, effect, token).html);
    const { lang, t, name } = wording(claim.locale, claim.job);
    const question = effect.mode === 'job' ? t('unsubscribePage.confirmJob', { email: claim.email, name }) : t('unsubscribePage.confirmSchedule', { email: claim.email, name });
    return send(
      reply,
      200,
      'html',
      page(lang, t('unsubscribePage.title'), `<p>${escapeHtml(question)}</p>\n${button(token, t('unsubscribePage.button'), 'primary')}\n<p class="hint">${escapeHtml(t('unsubscribePage.confirmHint'))}</p>`),
    );
  });

  app.post('/u/:token', async (req, reply) => {
    const link = linkOf(req);
    if (!link) return refuseToken(req, reply);
    const { token, claim, effect } = link;
    if (effect.mode === 'none') {
      log.warn({ schedule: claim.schedule, email: claim.email }, 'unsubscribe refused: the schedule is `unsubscribe: none`');
      return requiredPage(req, reply, claim, 403);
    }
    const body = req.body as Record<string, unknown> | undefined;
    const oneClick = body?.['List-Unsubscribe'] === 'One-Click';
    const via = wantsHtml(req) ? 'the unsubscribe page' : oneClick ? 'one-click (RFC 8058)' : 'a POST to the unsubscribe link';
    const added = await ledger.suppress({ email: claim.email, scope: effect.scope, target: effect.target, reason: 'unsubscribed', detail: via });
    log.info({ email: claim.email, schedule: claim.schedule, job: claim.job, scope: effect.scope, target: effect.target, via, already: !added }, added ? 'unsubscribed' : 'unsubscribe repeated: already unsubscribed');
    const done = donePage(claim, effect, token);
    return wantsHtml(req) ? send(reply, 200, 'html', done.html) : send(reply, 200, 'text', `${done.text}\n`);
  });

  app.post('/u/:token/undo', async (req, reply) => {
    const link = linkOf(req);
    if (!link) return refuseToken(req, reply);
    const { claim, effect } = link;
    if (effect.mode === 'none') return requiredPage(req, reply, claim, 403);
    const lifted = await ledger.unsuppress(claim.email, { scope: effect.scope, target: effect.target });
    log.info({ email: claim.email, schedule: claim.schedule, job: claim.job, scope: effect.scope, target: effect.target, lifted: lifted.length }, 'unsubscribe undone');
    const { lang, t, name } = wording(claim.locale, claim.job);
    const text = effect.mode === 'job' ? t('unsubscribePage.undoneJob', { email: claim.email, name }) : t('unsubscribePage.undoneSchedule', { email: claim.email, name });
    if (!wantsHtml(req)) return send(reply, 200, 'text', `${text}\n`);
    return send(reply, 200, 'html', page(lang, t('unsubscribePage.undoneTitle'), `<p role="status">${escapeHtml(text)}</p>`));
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
    if (status >= 500) log.error({ method: req.method, path: req.routeOptions.url, err: error.message }, 'unsubscribe request failed; nothing was recorded');
    return send(reply, status, 'text', status >= 500 ? 'Temporarily unavailable; please try again later.\n' : `${error.message}\n`);
  });
}
