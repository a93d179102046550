import type { CrierConfig } from './load.ts';

/*
 * The people the config names by address: the sender (`mail.from`, "Name <address>") and the
 * superadmin. Read by composing, notices, reviews, unsubscribe pages and doctor alike.
 */

/** The address part of "Name <address>". */
export function addressOf(from: string): string {
  return (/<([^>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
}

/** The name part of "Name <address>" (the address when there is none). */
export function senderName(from: string): string {
  const m = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(from);
  return m?.[1]?.trim() || addressOf(from);
}

/** The superadmin: `operator`, else whoever reads mail.replyTo (else mail.from). */
export function operatorOf(config: Pick<CrierConfig, 'operator' | 'mail'>): { name: string; email: string; locale: string } {
  if (config.operator) return { name: config.operator.name, email: config.operator.email, locale: config.operator.locale ?? 'en' };
  return { name: 'Crier', email: config.mail.replyTo ?? addressOf(config.mail.from), locale: 'en' };
}
