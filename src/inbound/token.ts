import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * Personal reply addresses: each recipient of a project call gets a Reply-To
 * calls+<delivery>.<signature>@city.example, so a reply names the call it answers and the head
 * it was sent to. The signature is an HMAC of the delivery id with inbound.secret, so a token
 * cannot be made up or altered. Lower-case base32, since some mail servers lower-case local parts.
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

const signature = (secret: string, deliveryId: number) => base32(createHmac('sha256', secret).update(`crier-reply:${deliveryId}`).digest()).slice(0, 16);

/** The token for replies to one delivery (the call a head received). */
export function replyToken(secret: string, deliveryId: number): string {
  return `${deliveryId}.${signature(secret, deliveryId)}`;
}

/** The personal reply address: the inbound address with `+token` after its local part. */
export function replyAddress(inboundAddress: string, secret: string, deliveryId: number): string {
  const [local, domain] = inboundAddress.split('@');
  return `${local}+${replyToken(secret, deliveryId)}@${domain}`;
}

/** The delivery a token names, or null when it does not verify (forged, altered, another secret). */
export function verifyToken(secret: string, token: string): number | null {
  const m = /^(\d{1,15})\.([a-z2-7]{16})$/.exec(token.toLowerCase());
  if (!m) return null;
  const id = Number(m[1]);
  const expected = Buffer.from(signature(secret, id));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}

/** The token in an address of the inbound mailbox (local+token@domain), if it has one. */
export function tokenIn(address: string, inboundAddress: string): string | null {
  const [local, domain] = inboundAddress.toLowerCase().split('@');
  const a = address.toLowerCase();
  // The inbound address's own local part may hold a '+' (team+calls@…): the token is what follows it.
  if (!a.startsWith(`${local}+`) || !a.endsWith(`@${domain}`)) return null;
  const token = a.slice(local.length + 1, a.length - domain.length - 1);
  return token && !token.includes('@') ? token : null;
}

/*
 * VERP bounce addresses: the envelope sender (Return-Path) of each delivery is
 * bounces+b<delivery>.<signature>@domain, so a bounce names the delivery it is about whatever
 * the remote server puts in its report. Signed like reply tokens, under another purpose.
 */
const bounceSignature = (secret: string, deliveryId: number) => base32(createHmac('sha256', secret).update(`crier-bounce:${deliveryId}`).digest()).slice(0, 16);

/** The envelope sender of one delivery: the bounce address with `+b<delivery>.<signature>`. */
export function bounceAddress(bounces: string, secret: string, deliveryId: number): string {
  const [local, domain] = bounces.split('@');
  return `${local}+b${deliveryId}.${bounceSignature(secret, deliveryId)}@${domain}`;
}

/** The delivery a VERP token (what follows '+' in a bounce address) names, or null. */
export function verifyBounceToken(secret: string, token: string): number | null {
  const m = /^b(\d{1,15})\.([a-z2-7]{16})$/.exec(token.toLowerCase());
  if (!m) return null;
  const id = Number(m[1]);
  const expected = Buffer.from(bounceSignature(secret, id));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}
