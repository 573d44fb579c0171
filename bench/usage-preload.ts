/**
 * Preloaded into the daemon under benchmark (`node --import`): at exit it writes the process's
 * own resource usage (CPU time, peak RSS) as JSON to $TAILSHIP_BENCH_USAGE, which is exact where
 * sampling /proc from outside would miss the last moments.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.TAILSHIP_BENCH_USAGE;
if (target) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(target, JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKb: u.maxRSS }));
  });
}
