/**
 * Latency at a low rate (`npm run bench -- --only latency`): a writer appends 1,000 nginx lines
 * per second (10 every 10 ms) to a file the running daemon tails, for 20 s; the collector
 * parses every batch and takes, per line, the time from its write to its arrival (both clocks
 * are this process's). Issue #8's target: p99 ≤ flush_interval + 100 ms. Run alone:
 * `node dist/bench/latency.js [seconds] [flush_interval]`.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { benchConfig, BIN } from './e2e.js';
import { daemonEnv } from './node-options.js';

const RATE = 1000;
const TICK_MS = 10;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export interface LatencyResult {
  lines: number;
  received: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export async function runLatency(seconds = 20, flushInterval = '1s'): Promise<LatencyResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-lat-'));
  const logFile = path.join(work, 'access.log');
  writeFileSync(logFile, '');
  const written = new Map<number, number>();
  const latencies: number[] = [];
  const collector = await new CountingCollector({
    writeKey: WRITE_KEY,
    parse: true,
    onMessage: (m, at) => {
      const p = (m.properties as { path?: string } | undefined)?.path ?? '';
      const n = Number(p.slice(p.lastIndexOf('/') + 1));
      const t = written.get(n);
      if (t !== undefined) {
        latencies.push(at - t);
        written.delete(n);
      }
    },
  }).start();
  const configFile = path.join(work, 'tailship.yaml');
  writeFileSync(configFile, benchConfig(path.join(work, 'state'), logFile, collector.url, { flushInterval }));
  const child = spawn(process.execPath, [BIN, 'run', '--config', configFile], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env: daemonEnv() });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exitCode: number | null | undefined;
  child.on('exit', (c) => (exitCode = c));
  const total = seconds * RATE;
  try {
    await new Promise((r) => setTimeout(r, 1500)); // the daemon starts and opens the file
    if (exitCode !== undefined) throw new Error(`daemon exited with ${exitCode}: ${stderr.trim()}`);
    const fd = openSync(logFile, 'a');
    try {
      const start = Date.now();
      let n = 0;
      while (n < total) {
        // Catch up to the schedule (timers drift), 10 lines per 10 ms tick.
        const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * RATE) + RATE / (1000 / TICK_MS));
        let chunk = '';
        const now = Date.now();
        for (; n < due; n++) {
          written.set(n, now);
          chunk += `10.1.${(n >> 8) & 255}.${n & 255} - - [01/Mar/2024:10:00:00 +0000] "GET /lat/${n} HTTP/1.1" 200 512 "-" "bench-latency"\n`;
        }
        if (chunk) writeSync(fd, chunk);
        await new Promise((r) => setTimeout(r, TICK_MS));
      }
    } finally {
      closeSync(fd);
    }
    await collector.waitFor(total, 30_000).catch(() => undefined);
  } finally {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return { lines: total, received: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN };
}

export async function benchLatency(seconds = 20, flushInterval = '1s'): Promise<{ title: string; markdown: string }> {
  const r = await runLatency(seconds, flushInterval);
  return {
    title: `Latency at ${RATE.toLocaleString('en-US')} lines/s for ${seconds} s (flush_interval ${flushInterval}, batch_size 250, poll_interval 250ms)`,
    markdown: [
      '| lines written | received | p50 ms | p90 ms | p99 ms | max ms |',
      '|---:|---:|---:|---:|---:|---:|',
      `| ${r.lines.toLocaleString('en-US')} | ${r.received.toLocaleString('en-US')} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} |`,
    ].join('\n'),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchLatency(Number(process.argv[2] ?? 20), process.argv[3] ?? '1s');
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
