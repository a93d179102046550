/* Reads a config file as every command does, in a process of its own; prints { ms, people, peakMB }. */
import { loadConfig } from '../../src/config/load.ts';
import { loadJobKinds } from '../../src/job-registry.ts';

const jobs = await loadJobKinds();
const t0 = performance.now();
const config = loadConfig(process.argv[2], { jobs });
const ms = performance.now() - t0;
const people = Object.values(config.audiences).reduce((n, a) => n + a.length, 0);
process.stdout.write(JSON.stringify({ ms, people, peakMB: process.resourceUsage().maxRSS / 1024 }));
