import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { CONTROL_CHARACTERS, TEMPLATES_DIR, translate } from './catalog.ts';

/** Values fixed for a whole compile: they may sit in MJML attributes, where Handlebars may not. */
export interface CompileOptions {
  /** BCP 47 tag of the catalogue, written to <html lang>. */
  locale: string;
  /** Brand colour, #rrggbb. */
  color: string;
}

/** A compiled e-mail: fill it with one recipient's view to get the HTML. */
export type FilledTemplate = (view: Record<string, unknown>) => string;

const hbs = Handlebars.create();
registerHelpers(hbs, false);
const hbsText = Handlebars.create();
registerHelpers(hbsText, true);
registerTextHelpers(hbsText);

const cache = new Map<string, Promise<FilledTemplate>>();

/**
 * MJML is compiled once per template and compile options (≈15–20 ms); what varies per recipient
 * goes through a precompiled Handlebars template (≈0.02 ms). The cache lives for the process:
 * templates are files that do not change while Crier runs.
 */
export function compileTemplate(name: string, opts: CompileOptions): Promise<FilledTemplate> {
  const key = `${name}\u0000${opts.locale}\u0000${opts.color}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = compileFresh(name, opts);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

/** Every template name the engine can render: email-templates/<name>.mjml, not the layout. */
export function templatePath(name: string): string {
  return path.join(TEMPLATES_DIR, `${name}.mjml`);
}

/** Compiles without the cache (benchmarks compare the two). */
export async function compileFresh(name: string, opts: CompileOptions): Promise<FilledTemplate> {
  const layout = readFileSync(path.join(TEMPLATES_DIR, 'layout.mjml'), 'utf8');
  const body = readFileSync(templatePath(name), 'utf8');
  const source = fillCompileTokens(expandIncludes(layout.replace('<crier-body />', body)), opts);
  const { html } = await mjml2html(source, {
    validationLevel: 'strict',
    filePath: path.join(TEMPLATES_DIR, 'layout.mjml'),
    fonts: {},
    keepComments: false,
  });
  const template = hbs.compile(html, { strict: false, noEscape: false });
  return (view) => withoutControls(template(view));
}

/**
 * Control characters are not allowed in HTML and garble a terminal's plain-text view; platform
 * texts can hold them (hostile-data test) and the templates never do, so they are dropped from
 * what a template makes.
 */
function withoutControls(s: string): string {
  return s.replace(CONTROL_CHARACTERS, '');
}

/**
 * Inlines `<mj-include path="./partials/x.mjml" />` before MJML sees the source, so the
 * partials get the compile tokens too (MJML 5 also ignores includes by default). Paths stay
 * inside email-templates/.
 */
function expandIncludes(source: string, depth = 0): string {
  if (depth > 5) throw new Error('mj-include nested more than 5 deep in email-templates/');
  return source.replace(/<mj-include\s+path="([^"]+)"\s*\/>/g, (_whole, file: string) => {
    const full = path.resolve(TEMPLATES_DIR, file);
    if (!full.startsWith(TEMPLATES_DIR)) throw new Error(`mj-include outside email-templates/: ${file}`);
    return expandIncludes(readFileSync(full, 'utf8'), depth + 1);
  });
}

/** `[[locale]]` and `[[color]]` tokens are replaced before MJML sees the source. */
function fillCompileTokens(source: string, opts: CompileOptions): string {
  return source.replace(/\[\[(\w+)\]\]/g, (whole, key: string) => {
    const value = (opts as unknown as Record<string, string>)[key];
    if (value === undefined) throw new Error(`unknown compile token ${whole} in a template`);
    return Handlebars.escapeExpression(value);
  });
}

function registerHelpers(h: typeof Handlebars, text: boolean): void {
  /** {{t "key" name=value}}: the recipient's catalogue message, placeholders escaped in HTML. */
  h.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const root = options.data.root as { _chain: string[] };
    const vars: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options.hash ?? {})) vars[k] = text || typeof v === 'number' ? v : h.escapeExpression(String(v));
    const message = translate(root._chain, key, vars);
    return text ? message : new h.SafeString(message);
  });
}

const TEXT_PARTIALS_DIR = path.join(TEMPLATES_DIR, 'text');
const textCache = new Map<string, FilledTemplate>();

/**
 * The text/plain part, derived from the same template: each `<mj-include>` of a partial
 * becomes its text twin in email-templates/text/, MJML and HTML tags are dropped, and the
 * Handlebars between them is kept, so a job kind has one template for both parts.
 */
export function compileText(name: string): FilledTemplate {
  let hit = textCache.get(name);
  if (!hit) {
    for (const file of readdirSync(TEXT_PARTIALS_DIR).filter((f) => f.endsWith('.hbs'))) {
      hbsText.registerPartial(file.slice(0, -4), readFileSync(path.join(TEXT_PARTIALS_DIR, file), 'utf8'));
    }
    const body = readFileSync(templatePath(name), 'utf8')
      .replace(/<mj-include\s+path="\.\/partials\/([\w-]+)\.mjml"\s*\/>/g, '{{> $1}}')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ');
    const template = hbsText.compile(`{{> header}}${body}\n{{> footer}}`, { noEscape: true, strict: false });
    hit = (view) => tidyText(template(view));
    textCache.set(name, hit);
  }
  return hit;
}

/** Blank lines at most one at a time, no trailing spaces, one final newline. */
function tidyText(s: string): string {
  return `${withoutControls(s.replace(/\r\n?/g, '\n'))
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

type Tile = { value: string; label: string; change: string };
type ProjectRow = { title: string; url: string; meta: string; participants: string; inputs: string; comments: string };
type BarRow = { label: string; value: string; width: number };

/** Text tables: aligned columns read well in any mail client's plain-text view. */
function registerTextHelpers(h: typeof Handlebars): void {
  h.registerHelper('rule', () => '─'.repeat(60));
  h.registerHelper('statLines', (rows: Tile[][]) => {
    const tiles = rows.flat();
    const w = Math.max(...tiles.map((t) => t.label.length));
    const vw = Math.max(...tiles.map((t) => t.value.length));
    return tiles.map((t) => `${t.label.padEnd(w)}  ${t.value.padStart(vw)}${t.change ? `  (${t.change})` : ''}`).join('\n');
  });
  h.registerHelper('projectLines', function (this: unknown, rows: ProjectRow[], options: Handlebars.HelperOptions) {
    const chain = (options.data.root as { _chain: string[] })._chain;
    const heads = ['common.project', 'common.participants', 'common.inputs', 'common.comments'].map((k) => translate(chain, k));
    const cut = (s: string) => (s.length > 38 ? `${s.slice(0, 37)}…` : s);
    const cols = [Math.max(heads[0].length, ...rows.map((r) => cut(r.title).length)), ...[1, 2, 3].map((i) => Math.max(heads[i].length, ...rows.map((r) => [r.participants, r.inputs, r.comments][i - 1].length)))];
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[0]) : c.padStart(cols[i]))).join('  ');
    const out = [line(heads)];
    for (const r of rows) {
      out.push(line([cut(r.title), r.participants, r.inputs, r.comments]));
      out.push(`  ${[r.meta, r.url].filter(Boolean).join(' · ')}`);
    }
    return out.join('\n');
  });
  h.registerHelper('barLines', (rows: BarRow[]) => {
    const w = Math.max(...rows.map((r) => r.label.length));
    const vw = Math.max(...rows.map((r) => r.value.length));
    return rows.map((r) => `${r.label.padEnd(w)}  ${r.value.padStart(vw)}  ${'█'.repeat(Math.max(1, Math.round(r.width / 4)))}`).join('\n');
  });
}
