/**
 * End-to-end benchmark: the built CLI (`bin/tailship.js run --once`) as a child process ships a
 * generated nginx log from its start to the counting collector with the realistic configuration
 * (nginx combined parser, the two nginx-rudderstack rules, SQLite WAL synchronous=NORMAL, gzip,
 * undici). Measures lines/s (spawn → last message received), CPU µs per line and peak RSS of
 * the daemon (its own `process.resourceUsage()` at exit, via bench/usage-preload).
 * Run alone: `node dist/bench/e2e.js [lines] [runs]`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { generateLog, type GeneratedLog } from './gen.js';
import { daemonEnv, deployedSettings, type NodeOptionsMode } from './node-options.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (dist/bench/ → ../..). */
export const ROOT = path.resolve(HERE, '../..');
export const BIN = path.join(ROOT, 'bin/tailship.js');
const PRELOAD = pathToFileURL(path.join(HERE, 'usage-preload.js')).href;

export interface E2eOptions {
  /** Extra YAML under the output (e.g. `concurrency: 4`). */
  outputYaml?: string;
  /** Extra YAML under the input. */
  inputYaml?: string;
  /** The pipeline's `events:` rules as YAML list items (default: config/nginx-rudderstack.yaml's two). */
  eventsYaml?: string;
  /** Extra YAML under the pipeline (e.g. `workers: 0`). */
  pipelineYaml?: string;
  /** The output's flush_interval (default 5s, as in config/nginx-rudderstack.yaml). */
  flushInterval?: string;
  /** The daemon's NODE_OPTIONS: as deployed (the default) or node's defaults (bench/node-options.ts). */
  nodeOptions?: NodeOptionsMode;
  /** Extra node flags for the daemon (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Working directory of the daemon (where --cpu-prof writes). */
  cwd?: string;
  timeoutMs?: number;
}

export interface E2eResult {
  lines: number;
  /** Lines per second, spawn → last message received. */
  linesPerSec: number;
  wallMs: number;
  /** Spawn → the stored offset reached the end of the file (everything queued), sampled every 100 ms. */
  queuedMs: number;
  /** Messages the collector had when everything was queued. */
  deliveredWhenQueued: number;
  /** Daemon CPU time (user + system) per line. */
  cpuUsPerLine: number;
  userUs: number;
  systemUs: number;
  peakRssMb: number;
  /** Peaks of V8's heap (total) and of memory outside it (Buffers), sampled every 100 ms. */
  peakHeapMb: number;
  peakExternalMb: number;
  requests: number;
  gzipBytesPerLine: number;
}

/** config/nginx-rudderstack.yaml's two rules. */
const NGINX_RUDDERSTACK_RULES = `- when: "status >= 500"
  type: track
  event: "Server Error"
  anonymousId: "{{ remote_addr }}"
  properties: { path: "{{ request_path }}", status: "{{ status }}" }
  timestamp: "{{ time_local }}"
- type: track
  event: "Page Requested"
  userId: "{{ query.uid }}"
  anonymousId: "{{ remote_addr }}"
  properties: { path: "{{ request_path }}", status: "{{ status }}", bytes: "{{ body_bytes_sent }}" }
  context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
  timestamp: "{{ time_local }}"`;

/** The realistic configuration: config/nginx-rudderstack.yaml's rules, from the file's start. */
export function benchConfig(stateDir: string, logFile: string, url: string, o: E2eOptions = {}): string {
  return `
state_dir: ${JSON.stringify(stateDir)}
log_level: warn
shutdown_timeout: 10s
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(logFile)}]
        start_at: beginning
${indent(o.inputYaml, 8)}
    parser:
      type: nginx
      format: combined
${indent(o.pipelineYaml, 4)}
    events:
${indent(o.eventsYaml ?? NGINX_RUDDERSTACK_RULES, 6)}
    output:
      type: rudderstack
      url: ${url}
      write_key: ${WRITE_KEY}
      batch_size: 250
      max_batch_bytes: 512000
      flush_interval: ${o.flushInterval ?? '5s'}
${indent(o.outputYaml, 6)}
`;
}

function indent(yaml: string | undefined, n: number): string {
  if (!yaml) return '';
  return yaml
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

/** One run: a fresh state dir, a fresh collector, the daemon until it exits. */
export async function runE2e(log: GeneratedLog, o: E2eOptions = {}): Promise<E2eResult> {
  if (!existsSync(BIN) || !existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-e2e-'));
  const collector = await new CountingCollector({ writeKey: WRITE_KEY }).start();
  try {
    const configFile = path.join(work, 'tailship.yaml');
    writeFileSync(configFile, benchConfig(path.join(work, 'state'), log.file, collector.url, o));
    const usageFile = path.join(work, 'usage.json');
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', PRELOAD, ...(o.nodeArgs ?? []), BIN, 'run', '--once', '--config', configFile], {
      cwd: o.cwd ?? work,
      env: daemonEnv({ TAILSHIP_BENCH_USAGE: usageFile }, o.nodeOptions),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // When was everything read and queued? Tells the ingest rate apart from the delivery rate.
    let queuedAt = 0;
    let deliveredWhenQueued = 0;
    let db: Database.Database | undefined;
    const poll = setInterval(() => {
      if (queuedAt) return;
      try {
        db ??= new Database(path.join(work, 'state', 'tailship.db'), { readonly: true, fileMustExist: true });
        const o = (db.prepare('SELECT COALESCE(SUM("offset"), 0) AS o FROM source_files').get() as { o: number }).o;
        if (o >= log.bytes) {
          queuedAt = performance.now();
          deliveredWhenQueued = collector.messages;
        }
      } catch {
        // not created yet
      }
    }, 100);
    void exited.then(() => {
      clearInterval(poll);
      db?.close();
    });
    const timeoutMs = o.timeoutMs ?? 180_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    const tEnd = performance.now();
    if (code !== 0) throw new Error(`daemon exited with ${code}: ${stderr.trim().slice(-1500)}`);
    if (collector.messages < log.lines) throw new Error(`collector got ${collector.messages} of ${log.lines} messages; ${stderr.trim().slice(-1500)}`);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { userUs: number; systemUs: number; maxRssKb: number; peak: { heapTotal: number; external: number } };
    const lastAt = collector.lastAt || tEnd;
    return {
      lines: log.lines,
      linesPerSec: Math.round(log.lines / ((lastAt - t0) / 1000)),
      wallMs: Math.round(tEnd - t0),
      queuedMs: Math.round((queuedAt || lastAt) - t0),
      deliveredWhenQueued: queuedAt ? deliveredWhenQueued : log.lines,
      cpuUsPerLine: (usage.userUs + usage.systemUs) / log.lines,
      userUs: usage.userUs,
      systemUs: usage.systemUs,
      peakRssMb: usage.maxRssKb / 1024,
      peakHeapMb: usage.peak.heapTotal / 2 ** 20,
      peakExternalMb: usage.peak.external / 2 ** 20,
      requests: collector.requests,
      gzipBytesPerLine: collector.bodyBytes / log.lines,
    };
  } finally {
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface E2eSummary {
  runs: E2eResult[];
  linesPerSec: number;
  cpuUsPerLine: number;
  peakRssMb: number;
}

/** `runs` runs over the same generated file; medians of each figure. */
export async function benchE2e(lines = 1_000_000, runs = 3, o: E2eOptions = {}, log?: GeneratedLog): Promise<E2eSummary> {
  const file = log ?? generateLog(lines);
  try {
    const results: E2eResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await runE2e(file, o));
    return {
      runs: results,
      linesPerSec: median(results.map((r) => r.linesPerSec)),
      cpuUsPerLine: median(results.map((r) => r.cpuUsPerLine)),
      peakRssMb: median(results.map((r) => r.peakRssMb)),
    };
  } finally {
    if (!log) rmSync(file.dir, { recursive: true, force: true });
  }
}

export function formatE2e(s: E2eSummary): string {
  const rows = s.runs.map(
    (r, i) =>
      `| ${i + 1} | ${r.linesPerSec.toLocaleString('en-US')} | ${r.cpuUsPerLine.toFixed(2)} | ${r.peakRssMb.toFixed(0)} | ${r.peakHeapMb.toFixed(0)} / ${r.peakExternalMb.toFixed(0)} | ${(r.queuedMs / 1000).toFixed(2)} (${((100 * r.deliveredWhenQueued) / r.lines).toFixed(0)}%) | ${(r.wallMs / 1000).toFixed(2)} | ${r.requests} | ${r.gzipBytesPerLine.toFixed(1)} |`,
  );
  return [
    '| run | lines/s | CPU µs/line | peak RSS MB | peak heap / external MB | all queued at s (delivered then) | wall s | requests | gzip B/line |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    `| **median** | **${s.linesPerSec.toLocaleString('en-US')}** | **${s.cpuUsPerLine.toFixed(2)}** | **${s.peakRssMb.toFixed(0)}** | | | | | |`,
  ].join('\n');
}

/**
 * e2e runs of several variants over the same file, taking turns round after round so that the
 * machine's load falls on all of them alike; one table row per variant.
 */
async function benchVariants(lines: number, rounds: number, heading: string, variants: ReadonlyArray<readonly [string, E2eOptions]>): Promise<string> {
  const log = generateLog(lines);
  try {
    const results = variants.map((): E2eResult[] => []);
    for (let r = 0; r < rounds; r++) for (const [i, [, o]] of variants.entries()) results[i]!.push(await runE2e(log, o));
    const rows = variants.map(([label], i) => {
      const rs = results[i]!;
      const f = (xs: number[], d = 0): string => median(xs).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
      return `| ${label} | ${f(rs.map((x) => x.linesPerSec))} | ${f(rs.map((x) => x.cpuUsPerLine), 2)} | ${f(rs.map((x) => x.peakRssMb))} | ${f(rs.map((x) => x.queuedMs / 1000), 2)} | ${rs.map((x) => x.linesPerSec.toLocaleString('en-US')).join(' / ')} |`;
    });
    return [
      `${lines.toLocaleString('en-US')} lines, ${rounds} alternating rounds, medians:`,
      '',
      `| ${heading} | lines/s | CPU µs/line | peak RSS MB | all queued at s | each run lines/s |`,
      '|---|---:|---:|---:|---:|---|',
      ...rows,
    ].join('\n');
  } finally {
    rmSync(log.dir, { recursive: true, force: true });
  }
}

/** The e2e run with 0 (all on the main thread), 1, 2 and 3 processing workers. */
export function benchWorkers(lines = 1_000_000, rounds = 3): Promise<string> {
  return benchVariants(lines, rounds, 'workers', [0, 1, 2, 3].map((w) => [String(w), { pipelineYaml: `workers: ${w}` }] as const));
}

/** The e2e run under node's and glibc's defaults and under the deployment's start-up settings. */
export function benchNodeOptions(lines = 1_000_000, rounds = 3): Promise<string> {
  return benchVariants(lines, rounds, 'NODE_OPTIONS', [
    ['node defaults', { nodeOptions: 'default' }],
    [`deployed: \`${deployedSettings()}\``, { nodeOptions: 'deployed' }],
  ]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const lines = Number(process.argv[2] ?? 1_000_000);
  const runs = Number(process.argv[3] ?? 3);
  console.log(formatE2e(await benchE2e(lines, runs)));
}
