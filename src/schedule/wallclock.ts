import { DateTime, Info } from 'luxon';
import { Remembered } from './remembered.ts';

/** A local wall-clock time, as a superadmin writes it in the config. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const MINUTE = 60_000;

/**
 * The instant at which a wall-clock time happens in `zone`.
 *
 * Luxon alone resolves an ambiguous time (autumn fall-back) to its *second* instance and a
 * non-existent one (spring forward) by shifting it by the gap; Crier's contract is different:
 * an ambiguous time fires once, at its first instance, and a non-existent time moves forward
 * to the first instant that exists (02:30 on the spring-forward day in Brussels → 03:00).
 */
export function wallTimeToInstant(wall: WallTime, zone: string): DateTime {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  return instants.get(`${asUtc} ${zone}`, () => resolveWallTime(asUtc, zone));
}

/** Wall times already placed, by wall time (read as UTC) and zone. */
const instants = new Remembered<DateTime>(4096);

function resolveWallTime(asUtc: number, zone: string): DateTime {
  const z = Info.normalizeZone(zone);
  if (!z || !z.isValid) throw new Error(`unknown time zone '${zone}'`);
  // The offsets in force a day either side cover every transition a day can have.
  const offsets = new Set([z.offset(asUtc - 86_400_000), z.offset(asUtc), z.offset(asUtc + 86_400_000)]);
  const candidates = [...offsets]
    .map((offset) => asUtc - offset * MINUTE)
    .filter((ts) => z.offset(ts) === (asUtc - ts) / MINUTE)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return DateTime.fromMillis(candidates[0], { zone });

  // In a gap: the wall time read with the offset before the jump lies after the transition and
  // read with the offset after the jump lies before it; the transition is between the two.
  const before = z.offset(asUtc - 86_400_000);
  const after = z.offset(asUtc + 86_400_000);
  let lo = asUtc - after * MINUTE; // offset here is still `before`
  let hi = asUtc - before * MINUTE; // offset here is already `after`
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (z.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return DateTime.fromMillis(hi, { zone });
}

/** True when `zone` is an IANA time zone luxon (and so Intl) knows. */
export function isKnownZone(zone: string): boolean {
  return Info.isValidIANAZone(zone);
}
