/** One thing wrong with a config file, placed where the superadmin has to fix it. */
export interface ConfigIssue {
  file: string;
  /** 1-based line of the offending node (0 when the file itself is unreadable). */
  line: number;
  /** 1-based column. */
  column: number;
  /** Dotted field path, e.g. "schedules.council-quarterly.cron" or "audiences.council[0].email"; empty for YAML syntax errors. */
  path: string;
  message: string;
}

/** A config refused as a whole; `issues` lists every problem found, in file order. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}: line ${i.line}, column ${i.column}` : i.file;
  return `${where}, ${i.path || '(YAML syntax)'}: ${i.message}`;
}

/** "schedules", "council-quarterly", "cron", 0 → "schedules.council-quarterly.cron[0]" */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
