import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/*
 * One-click unsubscribe links (RFC 8058). A token names the address, the schedule and its job
 * kind, and the recipient's locale (for the page), signed with the first of http.secrets. Any
 * listed secret verifies, so a secret can be rotated out without breaking the links of e-mails
 * already in inboxes: put the new one first, keep the old one until those e-mails are stale.
 * An altered token (another address, another schedule) fails its signature and changes nothing.
 */

/** What an unsubscribe link stands for. */
export interface UnsubscribeClaim {
  /** The recipient's address (lower case). */
  email: string;
  /** The schedule the e-mail came from. */
  schedule: string;
  /** Its job kind: what `unsubscribe: job` stops. */
  job: string;
  /** The recipient's locale, for the page. */
  locale: string;
  /** The tenant whose e-mail it was, in a deployment of many: another tenant's endpoint refuses it. */
  tenant?: string;
}

const claimSchema = z.strictObject({ e: z.string().min(3), s: z.string().min(1), j: z.string().min(1), l: z.string().min(1), t: z.string().min(1).optional() });

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(`crier-unsubscribe:${payload}`).digest().subarray(0, 18).toString('base64url');

/** The token for one recipient of one schedule, signed with the first (newest) secret. */
export function unsubscribeToken(secrets: readonly string[], claim: UnsubscribeClaim): string {
  const payload = Buffer.from(JSON.stringify({ e: claim.email.toLowerCase(), s: claim.schedule, j: claim.job, l: claim.locale, ...(claim.tenant ? { t: claim.tenant } : {}) })).toString('base64url');
  return `${payload}.${sign(secrets[0], payload)}`;
}

/** The link in List-Unsubscribe and the footer: POST unsubscribes at once, GET shows the page. */
export function unsubscribeUrl(publicUrl: string, secrets: readonly string[], claim: UnsubscribeClaim): string {
  return `${publicUrl.replace(/\/+$/, '')}/u/${unsubscribeToken(secrets, claim)}`;
}

/**
 * The claim a token makes, or null when no listed secret signed it exactly so, or when it is
 * another tenant's (tenants may share a secret: the claim says whose e-mail it was).
 */
export function readUnsubscribeToken(secrets: readonly string[], token: string, tenant?: string): UnsubscribeClaim | null {
  const m = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]);
  const signed = secrets.some((secret) => {
    const expected = Buffer.from(sign(secret, m[1]));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!signed) return null;
  try {
    const c = claimSchema.parse(JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')));
    if (c.t !== tenant) return null;
    return { email: c.e, schedule: c.s, job: c.j, locale: c.l, ...(c.t ? { tenant: c.t } : {}) };
  } catch {
    return null;
  }
}
