import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';

/** A `${VAR}` with no default whose variable is not set. */
export interface MissingVariable {
  name: string;
  /** Path of the scalar that holds it. */
  path: (string | number)[];
  /** Offset of the `${` in the file. */
  offset: number;
}

const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every scalar value of the document, in place, so
 * that node positions stay valid for error messages. `$$` is a literal `$`. A scalar that refers
 * to an unset (or empty) variable without a default becomes null and is reported.
 */
export function interpolateEnv(doc: Document, env: NodeJS.ProcessEnv): MissingVariable[] {
  const missing: MissingVariable[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const pair of node.items) if (isPair(pair)) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      const whole = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/.test(node.value);
      const start = ((node as Node).range?.[0] ?? 0) + (quoted ? 1 : 0);
      let unset = false;
      node.value = node.value.replace(PATTERN, (whole: string, name: string | undefined, fallback: string | undefined, at: number) => {
        if (whole === '$$') return '$';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        unset = true;
        missing.push({ name: name!, path, offset: start + at });
        return '';
      });
      if (unset) node.value = null;
      // An unquoted `port: ${HTTP_PORT}` is read as if the number (or true/false) were written
      // there; quoted, or inside other text, it stays text.
      else if (whole && !quoted) node.value = typed(node.value as string);
    }
  };
  walk(doc.contents, []);
  return missing;
}

/** A plain scalar's value as YAML's core schema reads it: a number, true or false, else the text. */
function typed(text: string): unknown {
  if (/^[-+]?(?:\d+|\d*\.\d+|\d+\.\d*)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  return text;
}
