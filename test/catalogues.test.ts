import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_LOCALE, fallbackChain, loadCatalogues, translate } from '../src/render/catalog.ts';
import { resolveMultiloc } from '../src/render/multiloc.ts';

/*
 * The message catalogues: every language has every message, with the same placeholders, and
 * every message a template or job kind names exists. (Keys built at run time, such as
 * `common.status.${status}`, are exercised by rendering every kind in every language in
 * email-gates.test.ts.)
 */
const catalogues = loadCatalogues();
const keys = (locale: string) => [...catalogues.get(locale)!.keys()].sort();
const placeholders = (m: unknown) => [...new Set([...JSON.stringify(m).matchAll(/\{(\w+)\}/g)].map((x) => x[1]))].sort();

describe('message catalogues', () => {
  it('exist for en, nl-BE, fr-BE and de-DE', () => {
    expect([...catalogues.keys()].sort()).toEqual(['de-DE', 'en', 'fr-BE', 'nl-BE']);
  });

  it('all have the same messages', () => {
    const all = new Set([...catalogues.keys()].flatMap(keys));
    for (const locale of catalogues.keys()) {
      const missing = [...all].filter((k) => !catalogues.get(locale)!.has(k));
      expect(missing, `${locale} lacks`).toEqual([]);
    }
  });

  it('use the same placeholders in every language', () => {
    for (const key of keys(BASE_LOCALE)) {
      const expected = placeholders(catalogues.get(BASE_LOCALE)!.get(key));
      for (const locale of catalogues.keys()) expect(placeholders(catalogues.get(locale)!.get(key)), `${locale} ${key}`).toEqual(expected);
    }
  });

  it('have every message the templates and job kinds name', () => {
    const used = new Set<string>();
    const scan = (dir: string, pattern: RegExp) => {
      for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const text = readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
        for (const m of text.matchAll(pattern)) used.add(m[1]);
      }
    };
    scan('email-templates', /\{\{t "([\w.-]+)"/g);
    scan('jobs', /\bt\('([\w.-]+)'/g);
    scan('src', /\bt\('([\w.-]+)'/g);
    expect(used.size).toBeGreaterThan(40);
    const unknown = [...used].filter((k) => !catalogues.get(BASE_LOCALE)!.has(k));
    expect(unknown).toEqual([]);
  });

  it('fall back from a region to its language, then to the platform’s languages, then to English', () => {
    expect(fallbackChain('nl-NL', ['fr-BE'])).toEqual(['nl-BE', 'fr-BE', 'en']);
    expect(fallbackChain('fr', [])).toEqual(['fr-BE', 'en']);
    expect(fallbackChain('es-ES', ['nl-BE'])).toEqual(['nl-BE', 'en']);
    expect(translate(fallbackChain('de-AT'), 'common.greeting', { name: 'Anna' })).toBe('Guten Tag Anna,');
    expect(translate(['nl-BE'], 'common.commentCount', { count: 1 })).toBe('1 reactie');
    expect(translate(['fr-BE'], 'common.commentCount', { count: 1234 }).replace(/\s/g, ' ')).toBe('1 234 commentaires');
  });
});

describe('platform text (multiloc)', () => {
  it('resolves to the recipient’s language, then the same language elsewhere, then the platform’s order, never empty while any text exists', () => {
    const platform = ['nl-BE', 'fr-BE'];
    expect(resolveMultiloc({ 'nl-BE': 'Fietsstraten', 'fr-BE': 'Rues cyclables' }, 'fr-BE', platform)).toBe('Rues cyclables');
    expect(resolveMultiloc({ 'fr-FR': 'Rues', 'nl-BE': 'Straten' }, 'fr-BE', platform)).toBe('Rues');
    expect(resolveMultiloc({ 'fr-BE': 'Rues', 'nl-BE': '  ' }, 'nl-BE', platform)).toBe('Rues');
    expect(resolveMultiloc({ en: 'Streets' }, 'de-DE', platform)).toBe('Streets');
    expect(resolveMultiloc({}, 'de-DE', platform)).toBe('');
  });
});

describe('formatting', () => {
  it('reads a date without an offset as a local date of the schedule’s zone, west of UTC too', async () => {
    const { Formatter } = await import('../src/render/format.ts');
    expect(Formatter.for('en', 'America/Santiago').date('2027-02-22')).toBe('February 22, 2027');
    expect(Formatter.for('nl-BE', 'America/Santiago').monthShort('2026-10-01')).toBe('okt 2026');
    expect(Formatter.for('fr-BE', 'Europe/Brussels').date('2026-10-01T00:00:00.000+02:00')).toBe('1 octobre 2026');
  });

  it('writes a meeting’s time as each language reads a clock: 2:00 PM and 9:05 AM in English, 09:05 in Dutch, French, German and British English', async () => {
    const { Formatter } = await import('../src/render/format.ts');
    const at = (locale: string, iso: string) => Formatter.for(locale, 'Europe/Brussels').dateTime(`${iso}:00.000+02:00`);
    expect(at('en', '2027-04-14T14:00')).toBe('April 14, 2027 at 2:00 PM');
    expect(at('en', '2027-04-14T09:05')).toBe('April 14, 2027 at 9:05 AM');
    expect(at('en-GB', '2027-04-14T09:05')).toBe('14 April 2027 at 09:05');
    expect(at('nl-BE', '2027-04-14T09:05')).toBe('14 april 2027 om 09:05');
    expect(at('fr-BE', '2027-04-14T09:05')).toBe('14 avril 2027 à 09:05');
    expect(at('de-DE', '2027-04-14T09:05')).toBe('14. April 2027 um 09:05');
  });
});
