import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where layouts, partials, templates and message catalogues live. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../email-templates/', import.meta.url));
const MESSAGES_DIR = path.join(TEMPLATES_DIR, 'messages');

/** A message: plain text with {placeholders}, or plural forms chosen by the `count` variable. */
type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;

/** The last resort of every fallback chain: the catalogue every key must exist in. */
export const BASE_LOCALE = 'en';

let catalogues: Map<string, Map<string, Message>> | undefined;

/** Every catalogue, keyed by locale, with nested keys flattened to "council-update.subject". */
export function loadCatalogues(): Map<string, Map<string, Message>> {
  if (catalogues) return catalogues;
  const out = new Map<string, Map<string, Message>>();
  for (const file of readdirSync(MESSAGES_DIR).filter((f) => f.endsWith('.json'))) {
    const locale = file.slice(0, -'.json'.length);
    const flat = new Map<string, Message>();
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        const key = prefix ? `${prefix}.${k}` : k;
        const isPlural = v && typeof v === 'object' && 'other' in v;
        if (typeof v === 'string' || isPlural) flat.set(key, v as Message);
        else if (v && typeof v === 'object') walk(v as Record<string, unknown>, key);
      }
    };
    walk(JSON.parse(readFileSync(path.join(MESSAGES_DIR, file), 'utf8')), '');
    out.set(locale, flat);
  }
  catalogues = out;
  return out;
}

/** The catalogues to try for a locale, best first: nl-BE → nl → the platform's → en. */
export function fallbackChain(locale: string, platformLocales: string[] = []): string[] {
  const all = loadCatalogues();
  const chain: string[] = [];
  const add = (l: string) => {
    const found = [...all.keys()].find((k) => k.toLowerCase() === l.toLowerCase());
    if (found && !chain.includes(found)) chain.push(found);
  };
  const tryLocale = (tag: string) => {
    // users.locale is free text on the platform: "nl_BE" means nl-BE.
    const l = tag.replace(/_/g, '-');
    add(l);
    add(l.split('-')[0]);
    // Same language, another region: fr-FR for fr-BE when only that exists.
    const language = l.split('-')[0].toLowerCase();
    for (const k of all.keys()) if (k.split('-')[0].toLowerCase() === language) add(k);
  };
  tryLocale(locale);
  for (const l of platformLocales) tryLocale(l);
  add(BASE_LOCALE);
  return chain;
}

/** The locale whose catalogue a recipient's messages come from (the first in the chain). */
export function catalogueLocale(locale: string, platformLocales: string[] = []): string {
  return fallbackChain(locale, platformLocales)[0] ?? BASE_LOCALE;
}

/**
 * Looks a key up along the fallback chain and fills {placeholders}. Throws on a key no
 * catalogue has: that is a template bug, and the catalogue test is there to catch it first.
 */
export function translate(chain: string[], key: string, vars: Record<string, unknown> = {}, pluralLocale = chain[0]): string {
  const all = loadCatalogues();
  let message: Message | undefined;
  for (const l of chain) {
    message = all.get(l)?.get(key);
    if (message !== undefined) break;
  }
  if (message === undefined) throw new Error(`no catalogue has the message '${key}' (looked in ${chain.join(', ')})`);
  if (typeof message !== 'string') {
    const count = Number(vars.count ?? 0);
    const rule = intl(pluralLocale).plural.select(count);
    message = message[rule] ?? message.other ?? '';
  }
  const numbers = intl(pluralLocale).numbers;
  // Numbers are written the recipient's way (1.234 in nl-BE, 1 234 in fr-BE).
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    // Messages are single lines (subjects among them): a line break or control character in a
    // value (an organisation or person's name from the platform) never splits or garbles one.
    return typeof value === 'number' ? numbers.format(value) : oneLine(String(value));
  });
}

/** Control characters but tab and line breaks (C0, DEL, C1): not allowed in HTML, garbling in text. */
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A text on one line: line breaks as spaces, other control characters dropped. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ').replace(CONTROL_CHARACTERS, '');
}

const intlCache = new Map<string, { plural: Intl.PluralRules; numbers: Intl.NumberFormat }>();

/** Intl objects are costly to build (≈0.1 ms each) and messages are many: one set per locale. */
function intl(locale: string) {
  let hit = intlCache.get(locale);
  if (!hit) {
    hit = { plural: new Intl.PluralRules(locale), numbers: new Intl.NumberFormat(locale) };
    intlCache.set(locale, hit);
  }
  return hit;
}
