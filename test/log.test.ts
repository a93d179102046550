import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { maskEmails } from '../src/redact.ts';
import { crier } from './helpers/cli.ts';
import { dropTestData, uniqueName } from './helpers/services.ts';

/*
 * Crier's log as an operator meets it: JSON lines on stderr with residents' addresses masked at
 * info (full at debug), and readable lines when stderr is a terminal. The commands are the real
 * `crier`, in a child process; the terminal is a real pseudo-terminal (util-linux `script`).
 */
const BIN = fileURLToPath(new URL('../bin/crier.js', import.meta.url));
const name = uniqueName('crier_log');
const dir = mkdtempSync(path.join(tmpdir(), 'crier-log-'));
const config = path.join(dir, 'crier.yaml');

/** A reply from a resident that matches no project call: `crier inbound` logs its sender at info. */
function message(id: string, from: string): string {
  const file = path.join(dir, `${id}.eml`);
  writeFileSync(file, [`From: Marie Dupont <${from}>`, 'To: calls@demo.crier.local', 'Subject: a question', `Message-ID: <${id}@example.org>`, 'Date: Mon, 4 Jan 2027 10:00:00 +0000', '', 'Hello, a question about the playground.', ''].join('\r\n'));
  return file;
}

const jsonLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(() => {
  const doc = parseDocument(readFileSync('config/crier.yaml', 'utf8'));
  doc.setIn(['crier', 'schema'], name);
  doc.setIn(['crier', 'prefix'], name);
  writeFileSync(config, doc.toString());
});

afterAll(async () => {
  await dropTestData({ host: 'none.crier.test', schema: name });
});

describe('the log', () => {
  it('masks e-mail addresses at info and shows them in full at debug', async () => {
    const info = await crier(['inbound', message('log-info', 'marie.dupont@example.org'), '--config', config], { LOG_LEVEL: 'info', LOG_FORMAT: '' });
    expect(info.code, info.stderr).toBe(0);
    const line = jsonLines(info.stderr).find((l) => l.msg === 'inbound message processed');
    expect(line, info.stderr).toMatchObject({ level: 30, kind: 'unmatched', from: 'm***@example.org' });
    expect(info.stderr).not.toContain('marie.dupont@example.org');
    expect(info.stderr).not.toContain('marie.dupont');

    const debug = await crier(['inbound', message('log-debug', 'jan.peeters@example.org'), '--config', config], { LOG_LEVEL: 'debug', LOG_FORMAT: '' });
    expect(debug.code, debug.stderr).toBe(0);
    expect(jsonLines(debug.stderr).find((l) => l.msg === 'inbound message processed')).toMatchObject({ from: 'jan.peeters@example.org' });
  });

  it('prints readable lines, not JSON, when stderr is a terminal', async () => {
    const file = message('log-tty', 'leen.wuyts@example.org');
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} inbound ${JSON.stringify(file)} --config ${JSON.stringify(config)}`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: '', NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    // One line per entry: time, level, message, then its fields.
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: inbound message processed \{"inbound":\d+,"kind":"unmatched","from":"l\*\*\*@example\.org"\}\r?$/m);
    expect(out).not.toMatch(/\{"level":/);
    expect(out).not.toContain('leen.wuyts@example.org: ');
  });

  it('masks addresses in every part of an entry: the message, its fields, errors and their replies', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ level: 'info', format: 'json', stream });
    class SendError extends Error {
      reply = '550 5.1.1 <jan.peeters@gent.be>: Recipient address rejected';
    }
    log.info({ to: 'marie@example.org', envelope: ['bounces+b17.k3y@gent.be', { email: 'élise@ville.fr' }] }, 'sent to %s', 'zoë@example.org');
    log.error({ err: new SendError('the SMTP server rejected q.x@example.org') }, 'delivery failed permanently');
    log.debug({ to: 'hidden@example.org' }, 'not written at info');
    const [sent, failed] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines).toHaveLength(2);
    expect(sent).toMatchObject({ to: 'm***@example.org', envelope: ['b***@gent.be', { email: 'é***@ville.fr' }], msg: 'sent to z***@example.org' });
    expect(failed.err).toMatchObject({ type: 'SendError', message: 'the SMTP server rejected q***@example.org', reply: '550 5.1.1 <j***@gent.be>: Recipient address rejected' });
    expect(failed.err.stack).not.toContain('q.x@');
    expect(lines.join('')).not.toMatch(/marie@|bounces\+|élise@|zoë@|jan\.peeters@/);
  });

  it('leaves what is not an address alone', () => {
    expect(maskEmails("'m@x.be' <info@gent.be>, user@localhost, v1.2@3")).toBe("'m***@x.be' <i***@gent.be>, user@localhost, v1.2@3");
  });
});
