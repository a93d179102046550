import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, visit, YAMLMap, type Document, type Node, type Pair } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { keyOffset, readConfigYaml, validateConfig, type ConfigYaml, type CrierConfig, type LoadOptions, type Position } from './load.ts';

/*
 * Many tenants, one deployment. A host like Go Vocal's runs hundreds of tenants in one platform
 * database; one Crier process serves them all. Two ways to write it:
 *
 *   crier start --configs DIR   DIR/defaults.yaml holds what the tenants share (crier:, mail:,
 *                               http: …); every other DIR/<id>.yaml is one tenant, merged over it.
 *   tenants: in one file        the file's other keys are the defaults; `tenants: { <id>: {…} }`
 *                               each tenant's own keys, merged over them.
 *
 * Merging is by key, all the way down: a tenant that writes `mail: { from: … }` keeps the
 * shared mail.smtp. A list (an audience, a schedule's cron list) is replaced whole. Each tenant
 * is validated as a whole config, and every error names the file and line the value came from:
 * the tenant's file, or defaults.yaml for a shared value. A tenant's ledger is its own Postgres
 * schema (`crier.schema` + `_` + its id, unless it names one), so its runs, suppressions and
 * daily cap are its own; the queue, the tick and the worker are shared.
 */

/** A tenant as loaded: its config, or why it was refused (the others run regardless). */
export interface TenantConfig {
  /** The tenant's id: its file name without .yaml, or its key under `tenants:`. */
  id: string;
  /** The file its own keys are in. */
  file: string;
  config?: CrierConfig;
  error?: ConfigError;
  /** Its own keys name its ledger schema (`crier.schema`), rather than taking the defaults' + _<id>. */
  namesSchema?: boolean;
}

/** What a tenant id may be: it names a file, a ledger schema and a queue job. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]*$/;

/** The file of shared keys in a configs folder. */
export const DEFAULTS_FILE = 'defaults.yaml';

/** Every tenant of a configs folder (see above); throws ConfigError only when the folder or its defaults cannot be used at all. */
export function loadTenantDir(dir: string, opts: LoadOptions): TenantConfig[] {
  const shownDir = path.relative(process.cwd(), dir) || dir;
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new ConfigError([{ file: shownDir, line: 0, column: 0, path: '', message: `cannot read the configs folder (${(e as NodeJS.ErrnoException).code}); pass --configs DIR: a folder with ${DEFAULTS_FILE} and one <tenant>.yaml per tenant` }]);
  }
  const defaultsPath = path.join(dir, DEFAULTS_FILE);
  const defaults = existsSync(defaultsPath) ? readFile(defaultsPath) : undefined;
  const tenants: TenantConfig[] = [];
  for (const name of entries) {
    if (!/\.ya?ml$/.test(name) || name === DEFAULTS_FILE || name.startsWith('.') || name.startsWith('_')) continue;
    const file = path.join(dir, name);
    const shown = path.relative(process.cwd(), file) || file;
    const id = name.replace(/\.ya?ml$/, '');
    if (!TENANT_ID.test(id)) {
      tenants.push({ id, file, error: new ConfigError([{ file: shown, line: 0, column: 0, path: '', message: `'${id}' is not a tenant id: name the file with lower-case letters, digits and dashes, e.g. gent.yaml` }]) });
      continue;
    }
    tenants.push(tenantOf(id, file, () => {
      const own = readFile(file);
      return defaults ? merge(defaults, own) : own;
    }, opts));
  }
  if (!tenants.length) throw new ConfigError([{ file: shownDir, line: 0, column: 0, path: '', message: `no tenant files in the configs folder; add one <tenant>.yaml per tenant beside ${DEFAULTS_FILE}` }]);
  return ownLedgers(tenants);
}

/** The tenants of one file with a `tenants:` map; undefined when the file has none (one deployment). */
export function loadTenantFile(file: string, opts: LoadOptions): TenantConfig[] | undefined {
  const shared = readFile(file);
  const contents = shared.yaml.doc.contents;
  if (!isMap(contents) || !contents.has('tenants')) return undefined;
  const list = contents.get('tenants', true);
  const at = (node: Node | undefined, message: string): never => {
    throw new ConfigError([{ ...shared.yaml.position(node?.range?.[0] ?? 0), path: 'tenants', message }]);
  };
  if (!isMap(list) || !list.items.length) at(list as Node | undefined, 'tenants: is a map of tenant id → its own keys, e.g. tenants: { gent: { platform: { tenant: participatie.gent.be } } }');
  const defaults: Source = { ...shared, yaml: { ...shared.yaml, doc: shared.yaml.doc.clone() } };
  (defaults.yaml.doc.contents as YAMLMap).delete('tenants');
  return ownLedgers((list as unknown as YAMLMap<unknown, unknown>).items.map((pair) => {
    const id = String(isScalar(pair.key) ? pair.key.value : pair.key);
    if (!TENANT_ID.test(id)) return { id, file, error: new ConfigError([{ ...shared.yaml.position((pair.key as Node).range?.[0] ?? 0), path: `tenants.${id}`, message: `'${id}' is not a tenant id; write lower-case letters, digits and dashes, e.g. gent` }]) };
    return tenantOf(id, file, () => {
      const own = shared.yaml.doc.clone();
      own.contents = (isMap(pair.value) ? pair.value.clone() : new YAMLMap()) as YAMLMap;
      return merge(defaults, { ...shared, yaml: { ...shared.yaml, doc: own } });
    }, opts);
  }));
}

/**
 * Tenants that would share a ledger schema refused: their runs, deliveries and suppressions
 * would be one, and one tenant's dashboard would show and resend the other's. The ones whose
 * file names the schema (`crier.schema: crier_gent`) are refused; a tenant that took its own by
 * default keeps running (a typo in a new file does not stop the tenant it names).
 */
function ownLedgers(tenants: TenantConfig[]): TenantConfig[] {
  const ledgerOf = (c: CrierConfig) => `${c.crier.database}\u0000${c.crier.schema}`;
  const byLedger = new Map<string, TenantConfig[]>();
  for (const t of tenants) if (t.config) byLedger.set(ledgerOf(t.config), [...(byLedger.get(ledgerOf(t.config)) ?? []), t]);
  return tenants.map((t) => {
    const sharing = t.config ? byLedger.get(ledgerOf(t.config))! : [];
    if (sharing.length < 2 || (!t.namesSchema && sharing.some((o) => o.namesSchema))) return t;
    const shown = (file: string) => path.relative(process.cwd(), file) || file;
    const others = sharing.filter((o) => o !== t).map((o) => `${o.id}'s (${shown(o.file)})`);
    const message = `the ledger schema '${t.config!.crier.schema}' is also ${others.join(', ')}: each tenant needs its own (its runs, deliveries and suppressions); leave crier.schema out (the defaults' crier.schema + _<id>) or name another`;
    return { id: t.id, file: t.file, error: new ConfigError([{ file: shown(t.file), line: 0, column: 0, path: 'crier.schema', message }]) };
  });
}

/**
 * Keys every tenant shares, set in the defaults only: one process holds one Redis queue and one
 * ledger database, and the relay's rate limit is the relay's, whoever sends. A tenant's own
 * ledger schema is its own (`crier.schema`).
 */
export const SHARED_KEYS: { path: string[]; except?: string[]; why: string }[] = [
  { path: ['crier'], except: ['schema'], why: 'one process serves every tenant from one Redis and one ledger database' },
  { path: ['mail', 'rateLimit'], why: "it is the relay's limit, whichever tenant sends" },
  { path: ['http'], why: 'one web endpoint serves every tenant' },
];

/** Keys no tenant may inherit: each tenant reads its own replies, from its own mailbox or port. */
export const OWN_KEYS: { path: string[]; why: string }[] = [{ path: ['inbound'], why: "each tenant reads its own replies (its mailbox, its receiver's port): set inbound: in the tenant's own keys" }];

/** A tenant's own keys that belong to the defaults, and defaults that belong to each tenant. */
function misplacedKeys(own: ConfigYaml, defaults: ConfigYaml | undefined): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (yaml: ConfigYaml, p: string[], message: string) => {
    issues.push({ ...yaml.position(keyOffset(yaml.doc, p.slice(0, -1), p[p.length - 1])), path: p.join('.'), message });
  };
  for (const { path: p, except = [], why } of SHARED_KEYS) {
    const node = own.doc.getIn(p, true);
    if (node === undefined) continue;
    if (isMap(node) && except.length) {
      for (const pair of node.items) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        if (!except.includes(key)) at(own, [...p, key], `is shared by every tenant (${why}); set it in the defaults, not in a tenant's own keys`);
      }
    } else if (!except.length) at(own, p, `is shared by every tenant (${why}); set it in the defaults, not in a tenant's own keys`);
  }
  for (const { path: p, why } of OWN_KEYS) if (defaults && defaults.doc.getIn(p, true) !== undefined) at(defaults, p, `is not shared: ${why}`);
  return issues;
}

/** One tenant's config, or its errors: a broken tenant is refused alone. */
function tenantOf(id: string, file: string, read: () => Source, opts: LoadOptions): TenantConfig {
  try {
    const source = read();
    const misplaced = misplacedKeys(source.own, source.defaults);
    if (misplaced.length) throw new ConfigError(misplaced);
    const config = validateConfig(source.yaml.doc, source.yaml.position, opts, file);
    const ownSchema = (source.own.doc.contents as YAMLMap | null)?.hasIn?.(['crier', 'schema']);
    if (!ownSchema) config.crier = { ...config.crier, schema: `${config.crier.schema}_${id.replaceAll('-', '_')}` };
    // One web endpoint for every tenant: a tenant's unsubscribe links are under /t/<id>/.
    if (config.http?.publicUrl) config.http = { ...config.http, publicUrl: `${config.http.publicUrl.replace(/\/+$/, '')}/t/${id}` };
    return { id, file, config: { ...config, tenant: id }, namesSchema: Boolean(ownSchema) };
  } catch (e) {
    if (e instanceof ConfigError) return { id, file, error: e };
    throw e;
  }
}

/** A file's YAML with what merge needs: its text length (to place merged offsets) and its own document. */
interface Source {
  yaml: ConfigYaml;
  length: number;
  /** The tenant's own document, before defaults were merged in. */
  own: ConfigYaml;
  /** The defaults merged in, if any. */
  defaults?: ConfigYaml;
}

function readFile(file: string): Source {
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file: shown, line: 0, column: 0, path: '', message: `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` } satisfies ConfigIssue]);
  }
  const yaml = readConfigYaml(text, shown);
  resolveAliases(yaml.doc);
  return { yaml, length: text.length, own: yaml };
}

/** Aliases become copies of their anchors' values, so that merged nodes need no anchor of their file. */
function resolveAliases(doc: Document): void {
  visit(doc, {
    Alias(_key, node) {
      return (node.resolve(doc) as Node | undefined)?.clone?.() as Node;
    },
  });
}

/**
 * The tenant's keys merged over the defaults, as one document whose nodes keep where they came
 * from: the defaults' offsets are moved past the tenant's text, so one offset tells the file.
 */
function merge(defaults: Source, tenant: Source): Source {
  const shift = tenant.length + 1;
  const base = defaults.yaml.doc.clone();
  // visit() reaches keys as well as values.
  visit(base, {
    Node(_key, node) {
      if (node.range) node.range = [node.range[0] + shift, node.range[1] + shift, node.range[2] + shift];
    },
  });
  const own = tenant.yaml.doc;
  if (isMap(own.contents)) {
    if (isMap(base.contents)) mergeMaps(base.contents, own.contents);
    else base.contents = own.contents;
  } else if (own.contents !== null && own.contents !== undefined) base.contents = own.contents;
  const position: Position = (offset) => (offset >= shift ? defaults.yaml.position(offset - shift) : tenant.yaml.position(offset));
  return { yaml: { doc: base, position }, length: shift + defaults.length, own: tenant.yaml, defaults: defaults.yaml };
}

/** `over` merged into `into` by key, maps within maps; any other value of `over` replaces. */
function mergeMaps(into: YAMLMap, over: YAMLMap): void {
  for (const pair of over.items as Pair<Node, Node>[]) {
    if (!isPair(pair)) continue;
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    const existing = into.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === key) as Pair<Node, Node> | undefined;
    if (existing && isMap(existing.value) && isMap(pair.value)) mergeMaps(existing.value, pair.value);
    else if (existing) {
      existing.key = pair.key;
      existing.value = pair.value;
    } else into.items.push(pair);
  }
}
