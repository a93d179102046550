#!/usr/bin/env node
// Crier ships as TypeScript run by tsx: no build step between editing a job kind and running it.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
