import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { ADMIN_USER_NAME } from '../config/schema.ts';
import { hashPassword } from '../http/admin/passwords.ts';
import { CommandError } from './context.ts';

export interface HashPasswordOptions {
  /** Print `NAME:HASH`, a line of http.admin.usersFile, instead of the hash alone. */
  user?: string;
}

/** Asks on the terminal without echoing what is typed. */
async function ask(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = true;
    return await answer;
  } finally {
    process.stderr.write('\n');
    rl.close();
  }
}

/** Standard input, whole, less its final line break (`printf %s "$PW" | crier hash-password`, or a file). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * `crier hash-password [--user NAME]`: a password hash for http.admin (scrypt, see
 * src/http/admin/passwords.ts). The password is asked for twice on a terminal, or read from
 * standard input; never from the command line, where the shell's history and `ps` would show it.
 */
export async function hashPasswordCommand(opts: HashPasswordOptions): Promise<number> {
  if (opts.user !== undefined && !ADMIN_USER_NAME.test(opts.user)) throw new CommandError(`'${opts.user}' is not a user name: 1-64 letters, digits, dots, dashes, underscores or @`, 2);
  let password: string;
  if (process.stdin.isTTY) {
    password = await ask('Password: ');
    if ((await ask('Again: ')) !== password) throw new CommandError('the two passwords differ; nothing was made');
  } else password = await readStdin();
  if (password.length < 12) throw new CommandError('a dashboard password has at least 12 characters', 2);
  const hash = await hashPassword(password);
  process.stdout.write(`${opts.user !== undefined ? `${opts.user}:` : ''}${hash}\n`);
  return 0;
}
