import { spawn } from 'node:child_process';

/** What SpamAssassin thinks of a message. */
export interface SpamResult {
  score: number;
  /** The rules that fired, e.g. HTML_MESSAGE. */
  rules: string[];
}

/**
 * Scores messages with the local SpamAssassin (Debian's `spamassassin`, local tests only: no
 * network, no DNS blocklists), all in one process through an mbox, since starting it costs
 * about two seconds. Resolves to null when SpamAssassin is not installed.
 */
export async function spamScores(messages: (Buffer | string)[]): Promise<SpamResult[] | null> {
  if (!messages.length) return [];
  const mbox = messages
    .map((m) => `From crier@localhost Thu Jan  1 00:00:00 2026\n${String(m).replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1')}\n`)
    .join('\n');
  const output = await new Promise<string | null>((resolve, reject) => {
    const child = spawn('spamassassin', ['--local', '--test-mode', '--mbox'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? resolve(null) : reject(e)));
    child.on('close', () => resolve(out));
    child.stdin.end(mbox);
  });
  if (output === null) return null;
  // Each message comes back with an X-Spam-Status header, folded over lines, in input order.
  const statuses = [...output.matchAll(/^X-Spam-Status: (.*(?:\n[ \t].*)*)/gm)].map((m) => m[1].replace(/\s+/g, ' '));
  if (statuses.length !== messages.length) throw new Error(`spamassassin scored ${statuses.length} of ${messages.length} messages`);
  return statuses.map((s) => ({
    score: Number(/score=(-?[\d.]+)/.exec(s)?.[1] ?? NaN),
    rules: (/tests=(.*?)(?: autolearn=| version=|$)/.exec(s)?.[1] ?? '').split(/,\s*/).filter((r) => r && r !== 'none'),
  }));
}
