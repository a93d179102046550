// Preloaded into a benchmarked Crier process (`node --import`): writes its peak RSS (KiB) on exit.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
