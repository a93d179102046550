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

/**
 * A compiled e-mail: fill it with one recipient's view to get the HTML (or the text part).
 * `split` gives the same string (see SplitFill) with what does not read the recipient's own
 * fields filled once per shared view.
 */
export type FilledTemplate = ((view: Record<string, unknown>) => string) & { split: SplitFill };

/**
 * The fields of a filled view that are the recipient's own (their name, their one-click link and
 * whether the mail is required): everything else a template reads is the same for every
 * recipient of a run who shares a view (src/delivery/message.ts).
 */
export const RECIPIENT_FIELDS: ReadonlySet<string> = new Set(['recipient', 'unsubscribeUrl', 'requiredMail']);

/**
 * Fills a template for one recipient, byte for byte what filling it with `full` makes, where
 * `full` is `shared` with the RECIPIENT_FIELDS added. The template is cut at its top-level
 * statements: those that read no recipient field are filled with `shared` once and kept for as
 * long as `shared` lives (a WeakMap on it), the others with `full` for every recipient.
 */
export type SplitFill = (shared: object, full: Record<string, unknown>) => string;

const hbs = Handlebars.create();
registerHelpers(hbs, false);
const hbsText = Handlebars.create();
registerHelpers(hbsText, true);
registerTextHelpers(hbsText);

const cache = new Map<string, Promise<FilledTemplate>>();

/**
 * MJML is compiled once per template and compile options, and kept for the life of the process
 * (templates are files that do not change while Crier runs); what varies per recipient goes
 * through the Handlebars template compiled from MJML's output. Measured by `npm run bench
 * render` (BENCHMARKS.md; absolute figures are that machine's, the ratios hold): compiling the
 * council update and filling it 20–30 ms of CPU; filling the compiled HTML whole with a
 * recipient's view 0.5–0.7 ms; with the parts that read nothing of the recipient kept from an
 * earlier recipient of the same view (SplitFill), ≈0.05 ms per recipient on average.
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

/** Compiles without the cache (`npm run bench render` compares it with Crier's render). */
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
  const options = { strict: false, noEscape: false };
  const template = hbs.compile(html, options);
  const fill = (view: Record<string, unknown>) => withoutControls(template(view));
  // withoutControls works character by character: on each part, as on the whole.
  const join = (parts: string[]) => {
    let out = '';
    for (const p of parts) out += p;
    return out;
  };
  return Object.assign(fill, { split: splitFill(hbs, html, options, () => new Map(), withoutControls, join) });
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

/**
 * The SplitFill of a template source. The cut is made lazily, on the first split fill (a plain
 * fill, and compileFresh in the benchmark, never pay for it). Each filled part goes through
 * `prepare` (kept for the shared parts), and `finish` makes the output of the prepared parts, in
 * order.
 */
function splitFill<P>(h: typeof Handlebars, source: string, options: CompileOptionsHbs, partials: () => Map<string, string>, prepare: (filled: string) => P, finish: (parts: P[]) => string): SplitFill {
  let parts: { own: boolean; fill: Handlebars.TemplateDelegate }[] | undefined;
  const filled = new WeakMap<object, (P | undefined)[]>();
  return (shared, full) => {
    parts ??= cutAtRecipient(h, h.parse(source), options, partials());
    let kept = filled.get(shared);
    if (!kept) {
      kept = parts.map((p) => (p.own ? undefined : prepare(p.fill(shared))));
      filled.set(shared, kept);
    }
    const out: P[] = new Array(parts.length);
    for (let i = 0; i < parts.length; i++) out[i] = kept[i] ?? prepare(parts[i].fill(full));
    return finish(out);
  };
}

type CompileOptionsHbs = { strict: boolean; noEscape: boolean };

/**
 * A parsed template's top-level statements, grouped into runs that read a recipient field
 * (`own`) and runs that do not, each compiled on its own: filled with the same view one after
 * the other they make what the whole template makes, as Handlebars writes a program's statements
 * one after the other. The parsed tree is compiled as it is (whitespace control already applied
 * to the whole), not parsed again.
 */
function cutAtRecipient(h: typeof Handlebars, program: hbs.AST.Program, options: CompileOptionsHbs, partials: Map<string, string>): { own: boolean; fill: Handlebars.TemplateDelegate }[] {
  const groups: { own: boolean; body: hbs.AST.Statement[] }[] = [];
  // An inline partial ({{#*inline}}) is seen only by the statements compiled with it: no cut.
  const decorated = program.body.some((st) => st.type === 'DecoratorBlock' || st.type === 'Decorator');
  for (const statement of program.body) {
    const own = decorated || readsRecipient(statement, partials, new Set());
    const last = groups.at(-1);
    if (last && last.own === own) last.body.push(statement);
    else groups.push({ own, body: [statement] });
  }
  const engine = h as unknown as {
    Compiler: new () => { compile(program: hbs.AST.Program, options: object): unknown };
    JavaScriptCompiler: new () => { compile(environment: unknown, options: object, context: undefined, asObject: true): unknown };
    template(spec: unknown): Handlebars.TemplateDelegate;
  };
  return groups.map(({ own, body }) => {
    const part: hbs.AST.Program = { ...program, body };
    // What Handlebars.compile does after parsing (it sets `data` and fills in the options it is given).
    const opts = { ...options, data: true };
    const environment = new engine.Compiler().compile(part, opts);
    return { own, fill: engine.template(new engine.JavaScriptCompiler().compile(environment, opts, undefined, true)) };
  });
}

/**
 * Does this part of a template read a recipient field, by any path (`recipient.name`,
 * `@root.unsubscribeUrl`, `../recipient`), a string naming one (`lookup`), or a partial that
 * does? A partial named by an expression counts as reading one. Helpers read only `_chain` from
 * the root (registerHelpers): a helper that read a recipient field from `options.data.root`
 * would not be seen here, and would find none in the shared fill.
 */
function readsRecipient(node: unknown, partials: Map<string, string>, seen: Set<string>): boolean {
  if (!node || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((n) => readsRecipient(n, partials, seen));
  const n = node as { type?: string; parts?: string[]; value?: unknown; name?: { type: string; original: unknown } };
  if (n.type === 'PathExpression' && n.parts?.some((p) => RECIPIENT_FIELDS.has(p))) return true;
  if (n.type === 'StringLiteral' && RECIPIENT_FIELDS.has(String(n.value))) return true;
  if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement') {
    if (n.name?.type !== 'PathExpression') return true;
    const name = String(n.name.original);
    const source = partials.get(name);
    if (source === undefined) return true;
    if (!seen.has(name)) {
      seen.add(name);
      if (readsRecipient(Handlebars.parse(source), partials, seen)) return true;
    }
  }
  for (const [k, v] of Object.entries(n)) if (k !== 'loc' && v && typeof v === 'object' && readsRecipient(v, partials, seen)) return true;
  return false;
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
    const partials = new Map<string, string>();
    for (const file of readdirSync(TEXT_PARTIALS_DIR).filter((f) => f.endsWith('.hbs'))) {
      partials.set(file.slice(0, -4), readFileSync(path.join(TEXT_PARTIALS_DIR, file), 'utf8'));
      hbsText.registerPartial(file.slice(0, -4), partials.get(file.slice(0, -4))!);
    }
    const body = readFileSync(templatePath(name), 'utf8')
      .replace(/<mj-include\s+path="\.\/partials\/([\w-]+)\.mjml"\s*\/>/g, '{{> $1}}')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ');
    const source = `{{> header}}${body}\n{{> footer}}`;
    const options = { noEscape: true, strict: false };
    const template = hbsText.compile(source, options);
    hit = Object.assign((view: Record<string, unknown>) => tidyText(template(view)), { split: splitFill(hbsText, source, options, () => partials, textPiece, tidyPieces) });
    textCache.set(name, hit);
  }
  return hit;
}

/** Blank lines at most one at a time, no trailing spaces, one final newline. */
function tidyText(s: string): string {
  return tidyLines(withoutControls(s.replace(/\r\n?/g, '\n')));
}

/**
 * A filled part of the text template, ready for tidyPieces: as filled, and with control
 * characters dropped and split at its first and last line break, the lines between trimmed.
 */
interface TextPiece {
  raw: string;
  /** It has a \r: the whole text is tidied as it is. */
  cr: boolean;
  /** The part has no line break: all of it continues the line before. */
  within?: string;
  /** Up to its first line break: the end of the line before. */
  head: string;
  /** From its first line break to its last, both included, the lines between trimmed. */
  body: string;
  /** After its last line break: the start of the line after. */
  tail: string;
}

function textPiece(raw: string): TextPiece {
  const clean = withoutControls(raw);
  const first = clean.indexOf('\n');
  const cr = raw.includes('\r');
  if (first < 0) return { raw, cr, within: clean, head: '', body: '', tail: '' };
  const last = clean.lastIndexOf('\n');
  const body = first === last ? '\n' : `\n${clean.slice(first + 1, last).split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
  return { raw, cr, head: clean.slice(0, first), body, tail: clean.slice(last + 1) };
}

/**
 * tidyText of the parts joined, byte for byte. Line breaks are made \n first and control
 * characters dropped after: with no \r in any part the first does nothing and the second works
 * part by part, and so does trimming every line but those that run across parts (trimmed here);
 * with a \r anywhere, the whole is tidied as it is.
 */
function tidyPieces(pieces: TextPiece[]): string {
  for (const p of pieces) if (p.cr) return tidyText(pieces.map((x) => x.raw).join(''));
  let out = '';
  let line = '';
  for (const p of pieces) {
    if (p.within !== undefined) line += p.within;
    else {
      out += (line + p.head).trimEnd() + p.body;
      line = p.tail;
    }
  }
  out += line.trimEnd();
  return `${out.replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

/** Trailing whitespace off every line, at most one blank line at a time, one final newline. */
function tidyLines(s: string): string {
  const lines = s.split('\n');
  // trimEnd strips what \s+$ matches (WhiteSpace and LineTerminator), without the regex's
  // quadratic search along the padded columns of the text tables.
  for (let i = 0; i < lines.length; i++) lines[i] = lines[i].trimEnd();
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
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
