/**
 * Preloaded into the daemon under benchmark (`node --import`): at exit it writes the process's
 * own resource usage (CPU time, peak RSS, and the peaks of V8 heap and external memory sampled
 * every 100 ms) as JSON to $TAILSHIP_BENCH_USAGE, which is exact where sampling /proc from
 * outside would miss the last moments.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.TAILSHIP_BENCH_USAGE;
if (target) {
  const peak = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  setInterval(sample, 100).unref();
  process.on('exit', () => {
    sample();
    const u = process.resourceUsage();
    writeFileSync(target, JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKb: u.maxRSS, peak }));
  });
}
