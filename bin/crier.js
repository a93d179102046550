#!/usr/bin/env node
// Crier ships as TypeScript run by tsx: no build step between editing a job kind and running it.
import { register } from 'tsx/esm/api';

register();
// `crier check | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
