import type { Multiloc } from '../platform/types.ts';

/**
 * The text of a multiloc for `locale`: the exact locale, then the same language in another
 * region (nl-NL for nl-BE), then the platform's locales in order, then any non-empty value.
 * Empty strings count as missing, so a title is never blank while some translation exists.
 */
export function resolveMultiloc(multiloc: Multiloc, locale: string, platformLocales: string[]): string {
  if (!multiloc) return '';
  const has = (k: string) => typeof multiloc[k] === 'string' && multiloc[k].trim() !== '';
  if (has(locale)) return multiloc[locale];
  const language = locale.split('-')[0].toLowerCase();
  const sameLanguage = Object.keys(multiloc).find((k) => k.split('-')[0].toLowerCase() === language && has(k));
  if (sameLanguage) return multiloc[sameLanguage];
  for (const l of platformLocales) if (has(l)) return multiloc[l];
  const any = Object.keys(multiloc).find(has);
  return any ? multiloc[any] : '';
}
