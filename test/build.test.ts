import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsCurrent } from '../bin/build.js';
import { dropTestData, uniqueName } from './helpers/services.ts';
import { hashPassword } from '../src/http/admin/passwords.ts';

/*
 * The bundled build (`npm run build`), installed the way the container image has it: a folder
 * with package.json, bin/, node_modules, config/ and dist/, and no src/, jobs/ or
 * email-templates/. Every template, catalogue, migration, the demo schema, the job kinds and
 * their queries.sql must be found inside dist/, and bin/crier.js must run it.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const name = uniqueName('crier_build');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const app = mkdtempSync(path.join(tmpdir(), 'crier-build-'));

/** `crier ARGS` in the installed build; `source` runs the checkout's TypeScript instead, on the same config. */
function crier(args: string[], source = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = source ? path.join(ROOT, 'bin/crier.js') : path.join(app, 'bin/crier.js');
  const env = { ...process.env, LOG_LEVEL: 'warn', ...(source ? { CRIER_SOURCE: '1' } : {}) };
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: app, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  // The checkout's build when it is current (CI: npm ci built it), else the source as it is now.
  let copied = false;
  if (distIsCurrent(ROOT)) {
    try {
      cpSync(path.join(ROOT, 'dist'), path.join(app, 'dist'), { recursive: true });
      copied = distIsCurrent(ROOT);
    } catch {
      // Rebuilt (swapped) while it was being copied.
    }
  }
  if (!copied) {
    rmSync(path.join(app, 'dist'), { recursive: true, force: true });
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [path.join(ROOT, 'bin/build.js'), '--out', path.join(app, 'dist')], { cwd: ROOT, timeout: 240_000 }, (err, _out, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve())),
    );
  }
  cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
  cpSync(path.join(ROOT, 'bin'), path.join(app, 'bin'), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  // The shipped config, on a demo tenant, ledger schema and Redis prefix of its own.
  mkdirSync(path.join(app, 'config'));
  writeFileSync(
    path.join(app, 'config/crier.yaml'),
    readFileSync(path.join(ROOT, 'config/crier.yaml'), 'utf8')
      .replace('tenant: demo.crier.local', `tenant: ${host}`)
      .replace('  redis: ${REDIS_URL', `  schema: ${name}\n  prefix: ${name}\n  redis: \${REDIS_URL`),
  );
}, 240_000);

afterAll(async () => {
  await dropTestData({ host, schema: name, redisPrefix: name });
  rmSync(app, { recursive: true, force: true });
});

describe('the build', () => {
  it('holds no TypeScript and needs nothing of the checkout but config', () => {
    const files = readdirSync(path.join(app, 'dist'), { recursive: true }).map(String);
    expect(files.filter((f) => /\.[cm]?ts$/.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['src/cli/main.js', 'jobs/survey-reminder/index.js', 'jobs/survey-reminder/queries.sql', 'email-templates/layout.mjml', 'email-templates/messages/nl-BE.json', 'src/demo/govocal-structure-2025-11.sql']));
    expect(readdirSync(app).sort()).toEqual(['bin', 'config', 'dist', 'node_modules', 'package.json']);
  });

  it('loads by name only packages the image installs: dependencies in package.json, or Node\'s own', () => {
    const dependencies = Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).dependencies);
    const lib = path.join(app, 'dist/lib');
    const named = new Set<string>();
    for (const file of readdirSync(lib)) {
      const code = readFileSync(path.join(lib, file), 'utf8');
      // esbuild writes a static import or export on lines of its own (`import … from "x";`,
      // `} from "x";`, `import "x";`), a dynamic one as import("x").
      for (const m of code.matchAll(/^(?:(?:import|export|\}) .*from |import )"([^"./][^"]*)";$|\bimport\("([^"./][^"]*)"\)/gm)) named.add(m[1] ?? m[2]);
    }
    const packages = [...named].filter((n) => !isBuiltin(n)).map((n) => n.split('/').slice(0, n.startsWith('@') ? 2 : 1).join('/'));
    expect(packages.length).toBeGreaterThan(0);
    expect(packages.filter((p) => !dependencies.includes(p))).toEqual([]);
  });

  it('runs from bin/crier.js: --version, --help', async () => {
    const version = await crier(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n` });
    const help = await crier(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: crier \[options\] \[command\]/);
    for (const command of ['check', 'preview', 'run', 'start', 'status', 'migrate']) expect(help.stdout).toContain(`  ${command} `);
  });

  it('migrates the ledger from its own migrations', async () => {
    const res = await crier(['migrate', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const migrations = readdirSync(path.join(ROOT, 'src/ledger/migrations')).filter((f) => f.endsWith('.sql')).sort();
    expect(JSON.parse(res.stdout)).toEqual({ schema: name, applied: migrations });
  });

  it('checks the shipped config: every job kind found, the demo tenant created from its schema, audiences resolved', async () => {
    const res = await crier(['check', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { ok: boolean; schedules: { id: string; job: string; recipients?: number }[] };
    expect(out.ok).toBe(true);
    // A schedule naming a job kind the registry did not find is refused: these were found in dist/jobs/.
    expect(out.schedules.map((s) => s.job)).toEqual(expect.arrayContaining(['council-update', 'steering-meeting', 'survey-reminder']));
    for (const s of out.schedules) expect(s.recipients, s.id).toBeGreaterThan(0);
  }, 120_000);

  it('prints what the source prints: check of the shipped config from a fixed instant', async () => {
    const args = ['check', '--json', '--from', '2027-03-28T00:30:00Z', '--count', '7'];
    const [built, source] = await Promise.all([crier(args), crier(args, true)]);
    expect(built.code, built.stdout + built.stderr).toBe(0);
    expect(built.stdout).toBe(source.stdout);
  }, 120_000);

  it('previews the survey reminder: its queries.sql, the template and partials, the nl-BE catalogue', async () => {
    const out = path.join(app, 'preview');
    const res = await crier(['preview', 'surveys-closing', '--json', '--out', out]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const preview = JSON.parse(res.stdout) as { subject: string; recipients: { email: string; locale: string }[]; files: string[] };
    expect(preview.recipients.length).toBeGreaterThan(0);
    expect(preview.subject).toMatch(/^Een bevraging in je projecten sluit op \d+ \S+ \d{4}$/);
    const first = preview.recipients[0].email.replace('@', '_');
    const file = (ext: string) => readFileSync(path.resolve(app, preview.files.find((f) => f.includes(first) && f.endsWith(ext))!), 'utf8');
    const html = file('.html');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('lang="nl-BE"');
    expect(html).toContain('Sluiten binnenkort');
    const text = file('.txt');
    expect(text).toMatch(/Sluiten binnenkort\n- .+: .+\n {2}\d+ antwoorden · \d+ deze week · eindigt /);
    expect(text).toContain(`Open het platform: https://${host}`);
    expect(file('.eml')).toMatch(/^Subject: /m);
  }, 120_000);

  it('logs readable lines on a terminal: pino-pretty found from dist/, addresses masked', async () => {
    const reply = path.join(mkdtempSync(path.join(tmpdir(), 'crier-build-reply-')), 'reply.eml');
    writeFileSync(reply, 'From: Marie Dupont <marie.dupont@example.org>\r\nTo: calls@demo.crier.local\r\nSubject: a question\r\nMessage-ID: <build-tty@example.org>\r\n\r\nHello.\r\n');
    // A real pseudo-terminal (util-linux script): stderr is a TTY, as for a person at a shell.
    const command = [process.execPath, path.join(app, 'bin/crier.js'), 'inbound', reply].map((a) => JSON.stringify(a)).join(' ');
    const out = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', command, '/dev/null'], { cwd: app, env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: '', NO_COLOR: '1', CRIER_SOURCE: '' }, timeout: 60_000 }, (err, stdout) => (err ? reject(new Error(stdout || String(err))) : resolve(stdout))),
    );
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: inbound message processed \{.*"from":"m\*\*\*@example\.org"\}\r?$/m);
    expect(out).not.toMatch(/\{"level":/);
  }, 120_000);

  it('serves the dashboard from dist/, with bull-board\'s UI files found in node_modules', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    // The shipped config, its http section on a free port with the dashboard on (users from the environment).
    const shipped = readFileSync(path.join(app, 'config/crier.yaml'), 'utf8');
    expect(shipped).toContain('  port: 8025\n');
    writeFileSync(path.join(app, 'config/admin.yaml'), shipped.replace('  port: 8025\n', `  port: ${port}\n  admin:\n    users: { ops: "\${CRIER_ADMIN_OPS}" }\n    sessionSecrets: ["\${CRIER_SESSION_SECRET}"]\n`));
    const password = 'a build test passphrase';
    const env = { ...process.env, LOG_LEVEL: 'warn', CRIER_ADMIN_OPS: await hashPassword(password), CRIER_SESSION_SECRET: 'build-test-session-secret-0123456789' };
    const child = spawn(process.execPath, [path.join(app, 'bin/crier.js'), 'start', '--config', 'config/admin.yaml'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    try {
      await expect.poll(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status, { timeout: 120_000, interval: 500 }).toBe(200);
      const login = await fetch(`${base}/admin/login`);
      const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]);
      const token = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1];
      const res = await fetch(`${base}/admin/login`, { method: 'POST', redirect: 'manual', headers: { cookie: cookies.join('; '), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token, username: 'ops', password }).toString() });
      expect(res.status, stderr).toBe(303);
      const session = [...cookies, ...res.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
      const board = await fetch(`${base}/admin/queues/`, { headers: { cookie: session } });
      expect(board.status).toBe(200);
      const script = /src="(static\/js\/[^"]+\.js)"/.exec(await board.text())![1];
      expect((await fetch(`${base}/admin/queues/${script}`, { headers: { cookie: session } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
  }, 180_000);
});

describe('whether dist/ is current', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'crier-stale-'));
  const hourAgo = new Date(Date.now() - 3_600_000);
  const age = (p: string, when = hourAgo) => utimesSync(path.join(root, p), when, when);
  const built = () => {
    writeFileSync(path.join(root, 'dist/.built'), '');
    age('dist/.built', new Date(Date.now() - 60_000));
  };
  beforeAll(() => {
    for (const dir of ['src', 'jobs/kind', 'email-templates', 'dist']) mkdirSync(path.join(root, dir), { recursive: true });
    for (const f of ['src/a.ts', 'jobs/kind/index.ts', 'jobs/kind/queries.sql', 'email-templates/kind.mjml']) writeFileSync(path.join(root, f), '');
    for (const p of ['src/a.ts', 'jobs/kind/index.ts', 'jobs/kind/queries.sql', 'email-templates/kind.mjml', 'src', 'jobs/kind', 'jobs', 'email-templates']) age(p);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is not without a complete build', () => {
    expect(distIsCurrent(root)).toBe(false);
  });

  it('is after a build, until a source, a template or a folder (a kind added or removed) changes', () => {
    built();
    expect(distIsCurrent(root)).toBe(true);
    for (const changed of ['jobs/kind/queries.sql', 'email-templates/kind.mjml', 'jobs', 'src/a.ts']) {
      age(changed, new Date());
      expect(distIsCurrent(root), changed).toBe(false);
      age(changed);
      expect(distIsCurrent(root)).toBe(true);
    }
  });

  it('is whenever there is no source to run instead (an image has dist/ only)', () => {
    built();
    rmSync(path.join(root, 'src'), { recursive: true });
    expect(distIsCurrent(root)).toBe(true);
  });
});
