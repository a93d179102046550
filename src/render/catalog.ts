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

/** Whether the catalogues have a message (every key is in the base catalogue: the catalogue test sees to it). */
export function hasMessage(key: string): boolean {
  return loadCatalogues().get(BASE_LOCALE)?.has(key) ?? false;
}

const chains = new Map<string, string[]>();

/**
 * The catalogues to try for a locale, best first: nl-BE → nl → the platform's → en. Worked out
 * once per locale and platform locales (every recipient's render asks); the list is frozen.
 */
export function fallbackChain(locale: string, platformLocales: string[] = []): string[] {
  const key = platformLocales.length ? `${locale}\u0000${platformLocales.join('\u0000')}` : locale;
  let chain = chains.get(key);
  if (!chain) {
    // users.locale is free text: keep a bounded number of chains.
    if (chains.size >= 1000) chains.clear();
    chain = Object.freeze(chainOf(locale, platformLocales)) as string[];
    chains.set(key, chain);
  }
  return chain;
}

function chainOf(locale: string, platformLocales: string[]): string[] {
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
  const parts = placeholders(message);
  if (parts.length === 1) return message;
  const numbers = intl(pluralLocale).numbers;
  // Literal text and {placeholder} names by turns; a placeholder with no value stays as written.
  let out = parts[0];
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i];
    if (!(name in vars)) out += `{${name}}`;
    else {
      const value = vars[name];
      // Numbers are written the recipient's way (1.234 in nl-BE, 1 234 in fr-BE). Messages are
      // single lines (subjects among them): a line break or control character in a value (an
      // organisation or person's name from the platform) never splits or garbles one.
      out += typeof value === 'number' ? numbers.format(value) : oneLine(String(value));
    }
    out += parts[i + 1];
  }
  return out;
}

const parsed = new Map<string, string[]>();

/** A message cut at its {placeholders}: literal text and placeholder names by turns (once per message). */
function placeholders(message: string): string[] {
  let parts = parsed.get(message);
  if (!parts) {
    parts = message.split(/\{(\w+)\}/);
    // Catalogue messages are few; a bound in case a caller translates text of its own.
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(message, parts);
  }
  return parts;
}

/** Control characters but tab and line breaks (C0, DEL, C1): not allowed in HTML, garbling in text. */
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A text on one line: line breaks as spaces, other control characters dropped. */
export function oneLine(s: string): string {
  // Most texts have neither: the check is one scan, the replacements two and a copy.
  if (!NOT_ONE_LINE.test(s)) return s;
  return s.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ').replace(CONTROL_CHARACTERS, '');
}

/** What oneLine changes: line breaks and control characters (\r, \n and \u0085 are among these). */
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

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
