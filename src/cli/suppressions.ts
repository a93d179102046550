import { CommandError, openCrier, type GlobalOptions } from './context.ts';

/** `crier suppressions [--json]`: every address Crier does not write to, why and since when. */
export async function suppressions(opts: GlobalOptions): Promise<number> {
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    const list = await crier.ledger.suppressions();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ suppressions: list.map((s) => ({ ...s, created_at: s.created_at.toISOString() })) }, null, 2)}\n`);
      return 0;
    }
    if (!list.length) process.stdout.write('no suppressed addresses\n');
    for (const s of list) {
      const what = s.scope === 'all' ? 'every e-mail' : s.scope === 'job' ? `every ${s.target} e-mail` : `schedule ${s.target}`;
      process.stdout.write(`${s.email}  ${what}  ${s.reason} on ${s.created_at.toISOString().slice(0, 16).replace('T', ' ')} UTC${s.detail ? `  (${s.detail.replace(/\s+/g, ' ').slice(0, 120)})` : ''}\n`);
    }
    return 0;
  } finally {
    await crier.close();
  }
}

/** `crier suppressions remove ADDRESS`: a person decides the address may be written to again. */
export async function removeSuppression(address: string, opts: GlobalOptions): Promise<number> {
  if (!address.includes('@')) throw new CommandError(`'${address}' is not an e-mail address`, 2);
  const crier = await openCrier(opts);
  try {
    await crier.ledger.migrate();
    const removed = await crier.ledger.unsuppress(address);
    if (!removed.length) throw new CommandError(`${address.toLowerCase()} is not suppressed; \`crier suppressions\` lists who is`);
    if (opts.json) process.stdout.write(`${JSON.stringify({ email: address.toLowerCase(), removed })}\n`);
    else process.stdout.write(`${address.toLowerCase()} may be written to again (${removed.map((r) => `${r.reason}${r.scope === 'all' ? '' : ` from ${r.target}`}`).join(', ')} lifted)\n`);
    return 0;
  } finally {
    await crier.close();
  }
}
