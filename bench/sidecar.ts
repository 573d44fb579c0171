/**
 * What tailship costs as a sidecar, beside Fluent Bit in the same run (`npm run bench -- --only
 * sidecar`): one file, a 100 ms flush in both, each started as a user starts it (tailship: `node
 * bin/tailship.js run`, no NODE_OPTIONS, workers left at their default). Per shipper and round:
 *  1. exec → first event at the collector (the file holds one line when the shipper starts);
 *  2. RSS at idle (3 s after that event, nothing written);
 *  3. CPU at 10 lines/s (user + system over all threads / wall time, over the run's middle);
 *  4. RSS at 1,000 lines/s (the highest VmRSS sampled every 100 ms while writing).
 * Both shippers then must have delivered every line written. Rounds alternate which goes first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { BIN, median } from './e2e.js';
import { generateLog } from './gen.js';
import { daemonEnv } from './node-options.js';
import { findFluentBit, hostLoad, startFluentBit, type FluentBit } from './vs-fluent-bit.js';
import { procUsage } from './vs-syslog-ng.js';

export interface SidecarResult {
  firstEventMs: number;
  idleRssMb: number;
  cpuPercentAt10: number;
  rssMbAt1000: number;
}

type Shipper = 'tailship' | 'fluent-bit';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tailshipConfig(stateDir: string, logFile: string, url: string): string {
  return `
state_dir: ${JSON.stringify(stateDir)}
log_level: warn
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(logFile)}]
        start_at: beginning
    parser: { type: nginx, format: combined }
    events:
      - type: track
        event: "Page Requested"
        userId: "{{ query.uid }}"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}", bytes: "{{ body_bytes_sent }}" }
        context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
        timestamp: "{{ time_local }}"
    output:
      type: rudderstack
      url: ${url}
      write_key: ${WRITE_KEY}
      flush_interval: 100ms
`;
}

/** Appends `rate` lines/s from `source` for `seconds`, in 10 slices a second; returns how many. */
async function writeAt(file: string, source: string[], from: number, rate: number, seconds: number): Promise<number> {
  const perTick = rate / 10;
  const t0 = performance.now();
  let written = 0;
  for (let tick = 1; tick <= seconds * 10; tick++) {
    const due = Math.round(perTick * tick);
    if (due > written) {
      const chunk: string[] = [];
      for (; written < due; written++) chunk.push(source[(from + written) % source.length]!);
      appendFileSync(file, chunk.join('\n') + '\n');
    }
    const wait = t0 + tick * 100 - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return written;
}

async function runSidecar(who: Shipper, fb: FluentBit | undefined, source: string[], quick: boolean): Promise<SidecarResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-sidecar-'));
  const logFile = path.join(work, 'access.log');
  const collector = await new CountingCollector({ writeKey: WRITE_KEY, countKey: who === 'tailship' ? 'messageId' : 'remote' }).start();
  let child: ChildProcess | undefined;
  let stop = async (): Promise<void> => {};
  try {
    writeFileSync(logFile, source[0] + '\n');
    const t0 = performance.now();
    if (who === 'tailship') {
      const configFile = path.join(work, 'tailship.yaml');
      writeFileSync(configFile, tailshipConfig(path.join(work, 'state'), logFile, collector.url));
      const c = spawn(process.execPath, [BIN, 'run', '--config', configFile], { env: daemonEnv({}, 'default'), stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const exit = new Promise<void>((r) => c.once('exit', () => r()));
      c.once('exit', (code) => code !== null && code !== 0 && console.error(`tailship exited with ${code}: ${stderr}`));
      stop = async () => {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        await exit;
      };
    } else {
      const running = startFluentBit(fb!, 'flat', logFile, work, collector.url, 0.1);
      child = running.child;
      stop = running.stop;
    }
    const pid = child.pid!;
    await collector.waitFor(1, 30_000);
    const firstEventMs = collector.firstAt - t0;

    await sleep(3000);
    const idleRssMb = (procUsage(pid)?.rssKb ?? 0) / 1024;

    // 10 lines/s: the CPU over the middle of the run (the first second settles the rate).
    let written = 1;
    const slowS = quick ? 10 : 20;
    const slow = writeAt(logFile, source, written, 10, slowS);
    await sleep(1000);
    const c0 = procUsage(pid)!.cpuS;
    const w0 = performance.now();
    await sleep((slowS - 2) * 1000);
    const cpuPercentAt10 = (100 * (procUsage(pid)!.cpuS - c0)) / ((performance.now() - w0) / 1000);
    written += await slow;

    let rssKbAt1000 = 0;
    const sampler = setInterval(() => (rssKbAt1000 = Math.max(rssKbAt1000, procUsage(pid)?.rssKb ?? 0)), 100);
    try {
      written += await writeAt(logFile, source, written, 1000, quick ? 5 : 10);
      await collector.waitFor(written, 30_000);
    } finally {
      clearInterval(sampler);
    }
    return { firstEventMs, idleRssMb, cpuPercentAt10, rssMbAt1000: rssKbAt1000 / 1024 };
  } finally {
    await stop();
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchSidecar(opts: { quick?: boolean } = {}): Promise<{ title: string; markdown: string }> {
  const found = findFluentBit();
  const fb = typeof found === 'string' ? undefined : found;
  const quick = opts.quick ?? false;
  const rounds = quick ? 1 : 3;
  const gen = generateLog(20_000);
  const source = readFileSync(gen.file, 'utf8').split('\n').filter(Boolean);
  rmSync(gen.dir, { recursive: true, force: true });
  const loadBefore = hostLoad();
  const results: Record<Shipper, SidecarResult[]> = { tailship: [], 'fluent-bit': [] };
  const shippers: Shipper[] = fb ? ['tailship', 'fluent-bit'] : ['tailship'];
  for (let i = 0; i < rounds; i++) {
    for (const who of i % 2 === 0 ? shippers : [...shippers].reverse()) results[who].push(await runSidecar(who, fb, source, quick));
  }
  const med = (who: Shipper, k: keyof SidecarResult): number => median(results[who].map((r) => r[k]));
  const cell = (who: Shipper, k: keyof SidecarResult, d: number): string =>
    results[who].length ? `${med(who, k).toFixed(d)} (${results[who].map((r) => r[k].toFixed(d)).join(' / ')})` : 'n/a';
  const rows: Array<[string, keyof SidecarResult, number, number]> = [
    ['exec → first event at the collector, ms', 'firstEventMs', 0, 300],
    ['RSS at idle, MB', 'idleRssMb', 1, 50],
    ['CPU at 10 lines/s, %', 'cpuPercentAt10', 2, 1],
    ['RSS at 1,000 lines/s, MB', 'rssMbAt1000', 1, 60],
  ];
  return {
    title: `Sidecar: one file, flush 100 ms, ${rounds} alternating round${rounds > 1 ? 's' : ''}, medians (each round in brackets)`,
    markdown: [
      `host: ${loadBefore} before, ${hostLoad()} after${fb ? `; ${fb.version}` : `; Fluent Bit skipped: ${found as string}`}`,
      '',
      '| | tailship | Fluent Bit (flat) | target for tailship | |',
      '|---|---:|---:|---:|---|',
      ...rows.map(([label, k, d, target]) => `| ${label} | ${cell('tailship', k, d)} | ${cell('fluent-bit', k, d)} | ≤ ${target} | ${med('tailship', k) <= target ? 'met' : 'NOT met'} |`),
      '',
      'tailship: `node bin/tailship.js run` with no NODE_OPTIONS, one rule, workers at their default. Fluent Bit: flat.conf with `Flush 0.1`. CPU and RSS from /proc (all threads).',
    ].join('\n'),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchSidecar({ quick: process.argv.includes('--quick') });
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
