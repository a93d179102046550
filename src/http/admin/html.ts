/*
 * HTML built so that data cannot become markup: every value put into an html`…` template is
 * escaped unless it is itself Html (made by this tag). Platform and ledger data (names, titles,
 * SMTP replies, reply texts) is hostile until shown otherwise; nothing needs to remember to escape it.
 */

/** Markup made by html`…`: inserted as it is into another template. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What a template may hold: text (escaped), markup, nothing, or a list of those. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** A template whose values are escaped (lists are joined, null/undefined/booleans leave nothing). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  values.forEach((v, i) => (out += render(v) + strings[i + 1]));
  return new Html(out);
}
