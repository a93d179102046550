#!/usr/bin/env node
// The command. It runs the build (dist/, `npm run build`, made by `npm ci` too: Crier bundled
// by esbuild, see bin/build.js) when that is current, else the TypeScript source through tsx:
// a checkout where src/, jobs/ or email-templates/ changed since the last build (a developer's
// edit, a superadmin's new job kind) runs what is there now, only slower to start.
// CRIER_SOURCE=1 runs the source anyway, CRIER_SOURCE=0 the build without asking whether it is
// current.
import module from 'node:module';
import { distIsCurrent } from './build.js';

// Node 22.1 and later keep V8's compiled code of each module between runs (in the OS's temp
// folder), which saves part of every start; Node 20 has no such cache, and this does nothing.
module.enableCompileCache?.();

// `crier check | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
let entry = new URL('../dist/src/cli/main.js', import.meta.url);
const fromSource = process.env.CRIER_SOURCE === '1' || (process.env.CRIER_SOURCE !== '0' && !distIsCurrent());
if (fromSource) {
  (await import('tsx/esm/api')).register();
  entry = new URL('../src/cli/main.ts', import.meta.url);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
