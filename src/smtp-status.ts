/*
 * When a refusal is about the recipient's address, and only then, the address is suppressed:
 * relays also answer 5xx to RCPT for reasons of their own (a blocklisted sending IP, relay
 * access, a sender not allowed), and suppressing good addresses for those would silence the
 * audience one run at a time.
 */

/** The enhanced status code (RFC 3463) in a reply or a DSN, e.g. "5.1.1". */
export function enhancedStatus(text: string | null | undefined): string | undefined {
  return /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text ?? '')?.[1];
}

/** 5.1.x (bad mailbox, bad domain, bad syntax) and 5.2.1 (mailbox disabled) say the address itself is bad. */
export function isAddressStatus(status: string | undefined): boolean {
  return status !== undefined && /^5\.1\.\d{1,3}$|^5\.2\.1$/.test(status);
}

/**
 * Does an SMTP refusal say the address is bad? By its enhanced status when it has one; without
 * one, only the classic "no such user" answers to RCPT TO (550, 551, 553); never a refusal of
 * the sender (MAIL FROM), which pipelining can deliver late, at the message.
 */
export function isHardBounce(reply: { code?: number; command?: string; text?: string }): boolean {
  if (/^MAIL/i.test(reply.command ?? '')) return false;
  const status = enhancedStatus(reply.text);
  if (status) return isAddressStatus(status);
  return /^RCPT/i.test(reply.command ?? '') && [550, 551, 553].includes(reply.code ?? 0);
}
