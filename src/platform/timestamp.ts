import type { DateTime } from 'luxon';

/**
 * An instant as the platform stores it: UTC, no zone, millisecond precision. A module of its
 * own so that job kinds and the kit, which every command loads to check a config, do not load
 * platform.ts and with it pg.
 */
export function platformTimestamp(at: DateTime | Date): string {
  return (at instanceof Date ? at : at.toJSDate()).toISOString().slice(0, 23).replace('T', ' ');
}
