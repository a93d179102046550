/**
 * Five-field cron expressions ("minute hour day-of-month month day-of-week"), parsed into sets
 * Crier iterates itself in local wall-clock time (see occurrences.ts).
 *
 * Why not cron-parser: it accepts four fields silently, allows one `#` per expression and says
 * "Constraint error" without naming the field; a superadmin needs to be told which field is
 * wrong and what it allows, so errors here carry the offset of the bad token.
 */

export interface CronSpec {
  /** The expression as written. */
  source: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** Weekdays 0 (Sunday) … 6 (Saturday) that match on every week. */
  daysOfWeek: Set<number>;
  /** `weekday#n`: the nth such weekday of the month, as weekday → set of n. */
  nthWeekdays: Map<number, Set<number>>;
  /** Day-of-month and day-of-week both restricted: a day matches when either does (Vixie cron). */
  eitherDay: boolean;
  domRestricted: boolean;
  dowRestricted: boolean;
}

/** A cron error; `offset` is the position in the expression of the token it is about. */
export class CronError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** What the error message lists as allowed. */
  allowed: string;
}

const FIELDS: FieldDef[] = [
  { name: 'minute', min: 0, max: 59, allowed: '0-59' },
  { name: 'hour', min: 0, max: 23, allowed: '0-23' },
  { name: 'day of month', min: 1, max: 31, allowed: '1-31' },
  { name: 'month', min: 1, max: 12, names: MONTHS, allowed: '1-12 or JAN-DEC' },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, allowed: '0-7 (0 and 7 are Sunday) or SUN-SAT, optionally #1-#5 for the nth in the month' },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export function parseCron(source: string): CronSpec {
  const expr = MACROS[source.trim().toLowerCase()] ?? source;
  const tokens = [...expr.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: expr === source ? m.index! : 0 }));
  if (tokens.length !== 5) {
    throw new CronError(
      `expected 5 fields (minute hour day-of-month month day-of-week), found ${tokens.length}` +
        (tokens.length === 6 ? '; seconds are not supported' : ''),
      tokens[5]?.offset ?? 0,
    );
  }
  const sets = tokens.slice(0, 4).map((t, i) => parseField(t.text, t.offset, FIELDS[i]));
  const dow = parseWeekdays(tokens[4].text, tokens[4].offset);
  const domRestricted = tokens[2].text !== '*' && tokens[2].text !== '?';
  const dowRestricted = tokens[4].text !== '*' && tokens[4].text !== '?';
  return {
    source,
    minutes: [...sets[0]].sort((a, b) => a - b),
    hours: [...sets[1]].sort((a, b) => a - b),
    daysOfMonth: sets[2],
    months: sets[3],
    daysOfWeek: dow.plain,
    nthWeekdays: dow.nth,
    eitherDay: domRestricted && dowRestricted,
    domRestricted,
    dowRestricted,
  };
}

/** Does the local calendar day match the spec's day-of-month, month and day-of-week fields? */
export function cronMatchesDay(spec: CronSpec, year: number, month: number, day: number): boolean {
  if (!spec.months.has(month)) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const domMatch = spec.daysOfMonth.has(day);
  const nth = Math.ceil(day / 7);
  const dowMatch = spec.daysOfWeek.has(weekday) || (spec.nthWeekdays.get(weekday)?.has(nth) ?? false);
  if (spec.eitherDay) return domMatch || dowMatch;
  if (spec.dowRestricted) return dowMatch;
  return domMatch;
}

function parseField(text: string, offset: number, def: FieldDef): Set<number> {
  const values = new Set<number>();
  let pos = offset;
  for (const part of text.split(',')) {
    for (const v of parseRange(part, pos, def)) values.add(v);
    pos += part.length + 1;
  }
  return values;
}

function parseRange(part: string, offset: number, def: FieldDef): number[] {
  const m = /^(\*|\?|[^-/]+(?:-[^-/]+)?)(?:\/(.+))?$/.exec(part);
  if (!m) throw new CronError(`'${part}' is not a valid ${def.name}; allowed: ${def.allowed}, '*', ranges a-b and steps /n`, offset);
  let lo = def.min;
  let hi = def.max === 7 ? 6 : def.max;
  if (m[1] !== '*' && m[1] !== '?') {
    const [a, b] = m[1].split('-');
    lo = parseValue(a, offset, def);
    hi = b === undefined ? lo : parseValue(b, offset + a.length + 1, def);
    if (b === undefined && m[2] !== undefined) hi = def.max === 7 ? 6 : def.max; // "5/15" = from 5 on
    if (hi < lo) throw new CronError(`'${part}' is a backwards range in ${def.name}; write the lower bound first`, offset);
  }
  let step = 1;
  if (m[2] !== undefined) {
    step = Number(m[2]);
    if (!/^\d+$/.test(m[2]) || step < 1) {
      throw new CronError(`'/${m[2]}' is not a valid step in ${def.name}; a step is a whole number of 1 or more`, offset + part.indexOf('/'));
    }
  }
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(def.max === 7 && v === 7 ? 0 : v);
  return out;
}

function parseValue(text: string, offset: number, def: FieldDef): number {
  const upper = text.toUpperCase();
  const named = def.names?.indexOf(upper) ?? -1;
  if (named >= 0) return def.names === MONTHS ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw new CronError(`'${text}' is not a ${def.name}; allowed: ${def.allowed}`, offset);
  const n = Number(text);
  if (n < def.min || n > def.max) throw new CronError(`'${text}' is out of range for ${def.name}; allowed: ${def.allowed}`, offset);
  return n;
}

function parseWeekdays(text: string, offset: number): { plain: Set<number>; nth: Map<number, Set<number>> } {
  const def = FIELDS[4];
  const plain = new Set<number>();
  const nth = new Map<number, Set<number>>();
  let pos = offset;
  for (const part of text.split(',')) {
    const hash = part.indexOf('#');
    if (hash >= 0) {
      const dayText = part.slice(0, hash);
      const nText = part.slice(hash + 1);
      let day: number;
      try {
        day = parseValue(dayText, pos, def) % 7;
      } catch {
        throw new CronError(`'${part}' is not a weekday; in 'day#n' the day is 0-7 or SUN-SAT and n is 1-5 (1#1 is the first Monday)`, pos);
      }
      if (!/^[1-5]$/.test(nText)) {
        throw new CronError(`'${part}': there is no ${nText === '' ? 'empty' : `'${nText}'`} occurrence of a weekday in a month; after '#' write 1-5 (1#1 is the first Monday)`, pos + hash + 1);
      }
      if (!nth.has(day)) nth.set(day, new Set());
      nth.get(day)!.add(Number(nText));
    } else {
      for (const v of parseRange(part, pos, def)) plain.add(v);
    }
    pos += part.length + 1;
  }
  return { plain, nth };
}
