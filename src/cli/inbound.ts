import { readFileSync } from 'node:fs';
import { receive } from '../inbound/process.ts';
import { CommandError, openCrier, type GlobalOptions } from './context.ts';

/** Reads all of standard input (a pipe transport hands the message over there). */
async function stdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `crier inbound [FILE]`: reads one raw RFC 5322 message from FILE or standard input and
 * processes it like the receivers do (a pipe transport for Postfix or Exim, or a message
 * replayed by hand). The same message twice counts once.
 */
export async function inbound(file: string | undefined, opts: GlobalOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    if (!crier.config.inbound) throw new CommandError(`${crier.config.file} has no inbound: section; add inbound: { address, secret } to read replies`, 2);
    await crier.ledger.migrate();
    const raw = file && file !== '-' ? readFileSync(file) : await stdin();
    if (!raw.length) throw new CommandError('the message is empty; pass a file with one RFC 5322 message, or pipe it in', 2);
    const result = await receive(crier, raw, 'file');
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const what = result.duplicate ? `already received (message ${result.id}, ${result.kind ?? 'not processed'}); nothing done again` : `message ${result.id}: ${result.kind}`;
      process.stdout.write(`${what}${result.from ? ` from ${result.from}` : ''}\n`);
      if (result.round) process.stdout.write(`round ${result.round.schedule} of ${result.round.occurrence}, head ${result.round.head}${result.late ? ' (late)' : ''}\n`);
      for (const item of result.items ?? []) process.stdout.write(`  - ${item.title}${item.description ? `: ${item.description}` : ''}\n`);
      if (result.bounced) process.stdout.write(`delivery ${result.bounced} marked bounced\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}
