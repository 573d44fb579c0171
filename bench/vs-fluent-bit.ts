/**
 * Side by side with Fluent Bit (`npm run bench -- --vs fluent-bit`): the same generated nginx
 * log, the same counting collector, alternating rounds, medians and their ratios, against both
 * peer configurations of the shared Fluent Bit bench folder (its README):
 *  - flat: tail + SQLite offsets + regex parser + http JSON, filesystem buffer; flat records with
 *    no envelope, no id and no gzip (less work per line than tailship does);
 *  - envelope: the same plus a Lua filter building tailship's track message (same messageIds)
 *    and gzip: Fluent Bit producing the same output.
 * tailship runs with one rule producing that same message, gzip on, and no NODE_OPTIONS (as a
 * user starts it). The collector shares the 2 cores, so its own CPU is reported too.
 *
 * The binary is $TAILSHIP_FLUENT_BIT or `../shared/bin/fluent-bit` beside the repository; its
 * configurations $TAILSHIP_FLUENT_BIT_CONFIGS or `../bench/fluent-bit` beside the binary's folder.
 * Without them the section says so and is skipped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { median, ROOT, runE2e, type E2eResult } from './e2e.js';
import { generateLog, type GeneratedLog } from './gen.js';
import { procUsage, stalled } from './vs-syslog-ng.js';

export type FluentBitVariant = 'flat' | 'envelope';

export interface FluentBit {
  bin: string;
  configs: string;
  version: string;
}

/** Where Fluent Bit and its configurations are, or why they cannot be used. */
export function findFluentBit(): FluentBit | string {
  const bin = process.env.TAILSHIP_FLUENT_BIT ?? path.resolve(ROOT, '../shared/bin/fluent-bit');
  const configs = process.env.TAILSHIP_FLUENT_BIT_CONFIGS ?? path.resolve(path.dirname(bin), '../bench/fluent-bit');
  if (!existsSync(bin)) return `no Fluent Bit binary at ${bin} (set TAILSHIP_FLUENT_BIT to one)`;
  for (const f of ['flat.conf', 'envelope.conf', 'envelope.lua', 'parsers.conf']) {
    if (!existsSync(path.join(configs, f))) return `no ${f} in ${configs} (set TAILSHIP_FLUENT_BIT_CONFIGS to the folder of Fluent Bit's bench configurations)`;
  }
  try {
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    return { bin, configs, version };
  } catch (err) {
    return `${bin} --version failed (it needs libyaml-0-2, libsqlite3-0, libssl3): ${(err as Error).message.slice(0, 200)}`;
  }
}

/** The one rule that produces the envelope configuration's message (envelope.lua). */
export const ENVELOPE_RULE = `- type: track
  event: "HTTP Request"
  userId: "{{ query.uid }}"
  anonymousId: "{{ remote_addr }}"
  properties: { method: "{{ request_method }}", path: "{{ request_path }}", status: "{{ status }}", bytes: "{{ body_bytes_sent }}", referrer: "{{ http_referer }}" }
  context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
  timestamp: "{{ time_local }}"`;

export interface PeerResult {
  linesPerSec: number;
  cpuUsPerLine: number;
  peakRssMb: number;
  /** The bench process's CPU (the collector, mostly) per line during the run. */
  collectorCpuUsPerLine: number;
}

export interface RunningFluentBit {
  child: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts Fluent Bit on `logFile` with a fresh DB and storage under `work`; `flushS` overrides the config's Flush. */
export function startFluentBit(fb: FluentBit, variant: FluentBitVariant, logFile: string, work: string, url: string, flushS?: number): RunningFluentBit {
  let conf = path.join(fb.configs, `${variant}.conf`);
  if (flushS !== undefined) {
    const text = readFileSync(conf, 'utf8').replace(/^(\s*Flush\s+)\S+/m, `$1${flushS}`);
    conf = path.join(work, `${variant}.conf`);
    writeFileSync(conf, text);
  }
  const child = spawn(fb.bin, ['-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      FLB_LOG_FILE: logFile,
      FLB_DB_FILE: path.join(work, 'flb.db'),
      FLB_STORAGE_PATH: path.join(work, 'storage'),
      FLB_STORAGE_TYPE: 'filesystem',
      FLB_HTTP_PORT: new URL(url).port,
      FLB_BASIC_AUTH: Buffer.from(`${WRITE_KEY}:`).toString('base64'),
      FLB_PARSERS_FILE: path.join(fb.configs, 'parsers.conf'),
      FLB_WORKERS: '2',
      FLB_LUA: path.join(fb.configs, 'envelope.lua'),
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
}

/** The key the collector counts once per record: flat records carry no messageId. */
function countKey(variant: FluentBitVariant): string {
  return variant === 'flat' ? 'remote' : 'messageId';
}

/** One Fluent Bit run from a fresh DB until the collector has every line. */
export async function runFluentBit(fb: FluentBit, variant: FluentBitVariant, log: GeneratedLog, timeoutMs = 180_000): Promise<PeerResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-flb-'));
  const collector = await new CountingCollector({ writeKey: WRITE_KEY, countKey: countKey(variant) }).start();
  let running: RunningFluentBit | undefined;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    running = startFluentBit(fb, variant, log.file, work, collector.url);
    const { child } = running;
    let last = { cpuS: 0, hwmKb: 0, rssKb: 0 };
    const sample = (): void => {
      const u = child.pid !== undefined ? procUsage(child.pid) : undefined;
      if (u) last = u;
    };
    const sampler = setInterval(sample, 100);
    const done = { value: false };
    try {
      await Promise.race([
        collector.waitFor(log.lines, timeoutMs),
        stalled(collector, 20_000, done, `Fluent Bit (${variant})`),
        new Promise((_, reject) => child.on('exit', (code) => reject(new Error(`Fluent Bit exited with ${code}: ${running!.stderr().trim()}`)))),
      ]);
    } finally {
      done.value = true;
      clearInterval(sampler);
    }
    sample();
    const cpu = process.cpuUsage(cpu0);
    return {
      linesPerSec: Math.round(log.lines / ((collector.lastAt - t0) / 1000)),
      cpuUsPerLine: (last.cpuS * 1e6) / log.lines,
      peakRssMb: last.hwmKb / 1024,
      collectorCpuUsPerLine: (cpu.user + cpu.system) / log.lines,
    };
  } finally {
    await running?.stop();
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** One tailship run (no NODE_OPTIONS, the envelope rule), with the bench process's CPU. */
async function runTailship(log: GeneratedLog): Promise<PeerResult & { e2e: E2eResult }> {
  const cpu0 = process.cpuUsage();
  const r = await runE2e(log, { eventsYaml: ENVELOPE_RULE, nodeOptions: 'default' });
  const cpu = process.cpuUsage(cpu0);
  return { linesPerSec: r.linesPerSec, cpuUsPerLine: r.cpuUsPerLine, peakRssMb: r.peakRssMb, collectorCpuUsPerLine: (cpu.user + cpu.system) / log.lines, e2e: r };
}

/** "load 1.52 / 1.10" (1- and 5-minute load averages) on `cores` cores. */
export function hostLoad(): string {
  const [one, five] = os.loadavg();
  return `load ${one!.toFixed(2)} / ${five!.toFixed(2)} (1 / 5 min) on ${os.availableParallelism()} cores`;
}

const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const f2 = (x: number): string => x.toFixed(2);

export async function benchVsFluentBit(opts: { quick?: boolean } = {}): Promise<{ title: string; markdown: string }> {
  const fb = findFluentBit();
  if (typeof fb === 'string') return { title: 'tailship vs Fluent Bit', markdown: `_skipped: ${fb}_` };
  const lines = opts.quick ? 200_000 : 1_000_000;
  const rounds = opts.quick ? 1 : 5;
  const log = generateLog(lines);
  const loadBefore = hostLoad();
  try {
    const who = ['tailship', 'flat', 'envelope'] as const;
    const results: Record<(typeof who)[number], PeerResult[]> = { tailship: [], flat: [], envelope: [] };
    const rows: string[] = [];
    for (let i = 0; i < rounds; i++) {
      // Rotate who goes first, so a trend in the machine's load falls on all three.
      const order = [...who.slice(i % 3), ...who.slice(0, i % 3)];
      for (const w of order) {
        const r = w === 'tailship' ? await runTailship(log) : await runFluentBit(fb, w, log);
        results[w].push(r);
        rows.push(`| ${i + 1} | ${w === 'tailship' ? 'tailship' : `Fluent Bit ${w}`} | ${f0(r.linesPerSec)} | ${f2(r.cpuUsPerLine)} | ${f0(r.peakRssMb)} | ${f2(r.collectorCpuUsPerLine)} | ${os.loadavg()[0]!.toFixed(2)} |`);
      }
    }
    const med = (w: (typeof who)[number], k: keyof PeerResult): number => median(results[w].map((r) => r[k]));
    const ratio = (peer: 'flat' | 'envelope'): string => {
      const l = med('tailship', 'linesPerSec') / med(peer, 'linesPerSec');
      const c = med('tailship', 'cpuUsPerLine') / med(peer, 'cpuUsPerLine');
      const perRound = results.tailship.map((t, i) => f2(t.linesPerSec / results[peer][i]!.linesPerSec)).join(', ');
      return `${f2(l)}× lines/s (per round ${perRound}), ${f2(c)}× CPU per line, ${f2(med('tailship', 'peakRssMb') / med(peer, 'peakRssMb'))}× peak RSS`;
    };
    const flatL = med('tailship', 'linesPerSec') / med('flat', 'linesPerSec');
    const flatC = med('tailship', 'cpuUsPerLine') / med('flat', 'cpuUsPerLine');
    const envL = med('tailship', 'linesPerSec') / med('envelope', 'linesPerSec');
    const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    return {
      title: `tailship vs ${fb.version}: ${lines.toLocaleString('en-US')} lines, ${rounds} alternating rounds`,
      markdown: [
        `- **tailship / Fluent Bit flat: ${ratio('flat')}** — target ≥ 1.20× lines/s and ≤ 1.00× CPU per line: ${met(flatL >= 1.2)} / ${met(flatC <= 1)}`,
        `- **tailship / Fluent Bit envelope: ${ratio('envelope')}** — target ≥ 3.00× lines/s: ${met(envL >= 3)}`,
        `- host: ${loadBefore} before, ${hostLoad()} after`,
        '',
        '| round | shipper | lines/s | CPU µs/line | peak RSS MB | collector CPU µs/line | load (1 min) |',
        '|---|---|---:|---:|---:|---:|---:|',
        ...rows,
        `| **median** | tailship | **${f0(med('tailship', 'linesPerSec'))}** | **${f2(med('tailship', 'cpuUsPerLine'))}** | **${f0(med('tailship', 'peakRssMb'))}** | ${f2(med('tailship', 'collectorCpuUsPerLine'))} | |`,
        `| **median** | Fluent Bit flat | **${f0(med('flat', 'linesPerSec'))}** | **${f2(med('flat', 'cpuUsPerLine'))}** | **${f0(med('flat', 'peakRssMb'))}** | ${f2(med('flat', 'collectorCpuUsPerLine'))} | |`,
        `| **median** | Fluent Bit envelope | **${f0(med('envelope', 'linesPerSec'))}** | **${f2(med('envelope', 'cpuUsPerLine'))}** | **${f0(med('envelope', 'peakRssMb'))}** | ${f2(med('envelope', 'collectorCpuUsPerLine'))} | |`,
        '',
        'lines/s = lines / (start → last record at the collector). CPU = the shipper\'s user + system time over all its threads (tailship: its own resourceUsage at exit; Fluent Bit: /proc when the last record arrived). tailship: `run --once`, no NODE_OPTIONS, one rule producing envelope.lua\'s message, gzip, SQLite WAL queue with offsets committed with the events. Fluent Bit: the shared configs as they are (Flush 1 s, 2 http workers, filesystem storage).',
      ].join('\n'),
    };
  } finally {
    rmSync(log.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchVsFluentBit({ quick: process.argv.includes('--quick') });
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
