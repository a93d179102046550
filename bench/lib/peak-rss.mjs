// Preloaded into a benchmarked Crier process (`node --import`): on exit, writes its peak RSS
// (KiB) and the CPU it used (µs, user and system) as JSON.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime }));
  });
}
