import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { TEMPLATES_DIR, translate } from './catalog.ts';

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
registerHelpers(hbs);

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
  return (view) => template(view);
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

function registerHelpers(h: typeof Handlebars): void {
  /** {{t "key" name=value}}: the recipient's catalogue message, placeholders escaped. */
  h.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
    const root = options.data.root as { _chain: string[] };
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.hash ?? {})) vars[k] = h.escapeExpression(String(v));
    return new h.SafeString(translate(root._chain, key, vars));
  });
  h.registerHelper('eq', (a: unknown, b: unknown) => a === b);
}
