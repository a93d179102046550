import type { CrierConfig, ScheduleConfig } from '../config/load.ts';
import type { DeliveryInput } from '../ledger/ledger.ts';
import type { PlatformInfo } from '../platform/platform.ts';

/**
 * The recipients of a schedule: every person of its audiences, each address once
 * (case-insensitively, the first mention winning), with the platform's first locale for
 * people the config gives none.
 */
export function resolveAudience(schedule: ScheduleConfig, config: CrierConfig, platform: PlatformInfo): DeliveryInput[] {
  const seen = new Map<string, DeliveryInput>();
  for (const audienceId of schedule.audience) {
    for (const person of config.audiences[audienceId] ?? []) {
      const email = person.email.trim().toLowerCase();
      if (seen.has(email)) continue;
      seen.set(email, { email, name: person.name, locale: person.locale ?? platform.locales[0], status: 'pending' });
    }
  }
  return [...seen.values()];
}
