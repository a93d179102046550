import type { CrierConfig } from '../config/load.ts';
import type { DeliveryRow, RunRow } from '../ledger/ledger.ts';
import { fallbackChain, translate } from '../render/catalog.ts';
import { operatorOf } from '../config/addresses.ts';
import type { OutgoingMessage } from './transport.ts';

/**
 * The e-mail that tells the superadmin a run paused itself: how many sends failed for good,
 * the servers' own words for the first few, and the two commands that continue. Plain text:
 * it is read by the person who fixes the mail set-up, often from a phone, and must get through
 * even when the HTML templates are what is wrong.
 */
export function pauseNotice(config: Pick<CrierConfig, 'operator' | 'mail'>, run: RunRow, paused: { tried: number; permanent: number }, failures: DeliveryRow[]): OutgoingMessage {
  const to = operatorOf(config);
  const chain = fallbackChain(to.locale);
  const t = (key: string, vars: Record<string, unknown> = {}) => translate(chain, key, vars);
  const vars = { run: run.id, schedule: run.schedule_id, failed: paused.permanent, tried: paused.tried, percent: Math.round(config.mail.pauseAt.ratio * 100) };
  const replies = failures.slice(0, 10).map((d) => `- ${d.email}: ${d.smtp_reply ?? d.last_error ?? ''}`.replace(/[\r\n]+/g, ' '));
  const text = [t('notice.paused.intro', vars), '', t('notice.paused.replies', vars), ...replies, ...(failures.length > 10 ? [t('notice.paused.more', { count: failures.length - 10 })] : []), '', t('notice.paused.resume', vars), `  crier resume ${run.id}`, '', t('notice.paused.retry', vars), `  crier retry ${run.id}`, ''].join('\n');
  return {
    from: config.mail.from,
    to: { name: to.name, address: to.email },
    subject: t('notice.paused.subject', vars),
    text,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Crier-Run': String(run.id), 'X-Crier-Notice': 'run-paused' },
    fileStem: `notice-run-${run.id}-paused`,
  };
}
