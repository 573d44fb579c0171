/**
 * Many-files benchmark: 1,000 files appended to concurrently (rounds of nginx lines to every
 * file) while the built daemon (a child process, `run`) tails them all to the counting
 * collector, once with max_open_files 100 (handles closed and reopened as files take turns) and
 * once with the default bound (every file open). Reports lines/s (first append → last message),
 * daemon CPU µs per line, peak RSS, and the most handles it held on the log files (/proc).
 * Run alone: `npm run build && node dist/bench/many-files.js [files] [linesPerFile]`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { benchConfig } from './e2e.js';
import { logLines } from './gen.js';
import { daemonEnv } from './node-options.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = path.join(ROOT, 'bin/tailship.js');
const PRELOAD = pathToFileURL(path.join(HERE, 'usage-preload.js')).href;
const ROUNDS = 20;

export interface ManyFilesResult {
  files: number;
  lines: number;
  maxOpenFiles: number;
  linesPerSec: number;
  cpuUsPerLine: number;
  peakRssMb: number;
  maxHandles: number;
  wallMs: number;
}

/** The e2e benchmark's configuration (config/nginx-rudderstack.yaml's rules) over the 1,000 files. */
function config(stateDir: string, dir: string, url: string, maxOpen: number): string {
  return benchConfig(stateDir, path.join(dir, '*.log'), url, {
    inputYaml: `poll_interval: 100ms\nmax_open_files: ${maxOpen}`,
    flushInterval: '200ms',
  });
}

function handlesUnder(pid: number, dir: string): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir + '/')) n++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // exited
  }
  return n;
}

/** One run: `files` empty files, the daemon started, then ROUNDS rounds of appends to every file. */
export async function runManyFiles(files: number, linesPerFile: number, maxOpen: number): Promise<ManyFilesResult> {
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-many-'));
  const dir = path.join(work, 'logs');
  mkdirSync(dir);
  const collector = await new CountingCollector({ writeKey: WRITE_KEY }).start();
  try {
    const names = Array.from({ length: files }, (_, i) => path.join(dir, `f${String(i).padStart(5, '0')}.log`));
    for (const f of names) writeFileSync(f, '');
    // Lines prepared up front, so that the writer is not what is measured.
    const perRound = Math.ceil(linesPerFile / ROUNDS);
    const gen = logLines(perRound * ROUNDS);
    const rounds: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let text = '';
      for (let k = 0; k < perRound; k++) text += gen.next().value as string;
      rounds.push(text);
    }
    const total = files * perRound * ROUNDS;
    const configFile = path.join(work, 'tailship.yaml');
    writeFileSync(configFile, config(path.join(work, 'state'), dir, collector.url, maxOpen));
    const usageFile = path.join(work, 'usage.json');
    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, 'run', '--config', configFile], {
      cwd: work,
      env: daemonEnv({ TAILSHIP_BENCH_USAGE: usageFile }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Ready once it holds handles on the (empty) files.
    const readyBy = Date.now() + 30_000;
    while (handlesUnder(child.pid!, dir) === 0 && Date.now() < readyBy) await new Promise((r) => setTimeout(r, 20));
    let maxHandles = 0;
    const sampler = setInterval(() => (maxHandles = Math.max(maxHandles, handlesUnder(child.pid!, dir))), 50);
    const t0 = performance.now();
    for (const text of rounds) {
      for (const f of names) appendFileSync(f, text);
      await new Promise((r) => setImmediate(r));
    }
    try {
      await collector.waitFor(total, 120_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${stderr.slice(-2000)}`);
    } finally {
      clearInterval(sampler);
    }
    const lastAt = collector.lastAt;
    child.kill('SIGTERM');
    await exited;
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { userUs: number; systemUs: number; maxRssKb: number };
    return {
      files,
      lines: total,
      maxOpenFiles: maxOpen,
      linesPerSec: Math.round(total / ((lastAt - t0) / 1000)),
      cpuUsPerLine: (usage.userUs + usage.systemUs) / total,
      peakRssMb: usage.maxRssKb / 1024,
      maxHandles,
      wallMs: lastAt - t0,
    };
  } finally {
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatManyFiles(results: ManyFilesResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.files.toLocaleString('en-US')} | ${r.maxOpenFiles} | ${r.lines.toLocaleString('en-US')} | ${r.linesPerSec.toLocaleString('en-US')} | ${r.cpuUsPerLine.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${r.maxHandles} | ${(r.wallMs / 1000).toFixed(2)} |`,
  );
  return [
    '| files | max_open_files | lines | lines/s | CPU µs/line | peak RSS MB | most handles open | s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Lines/s from the first append to the last message at the collector; the writer appends ${ROUNDS} rounds to every file as fast as it can. CPU and RSS are the daemon's own (process.resourceUsage at exit).`,
  ].join('\n');
}

export async function benchManyFiles(): Promise<{ title: string; markdown: string }> {
  const files = 1000;
  const linesPerFile = 200;
  const results = [await runManyFiles(files, linesPerFile, 100), await runManyFiles(files, linesPerFile, 1024)];
  return { title: `Many files: ${files.toLocaleString('en-US')} files appended concurrently`, markdown: formatManyFiles(results) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = Number(process.argv[2] ?? 1000);
  const perFile = Number(process.argv[3] ?? 200);
  const results = [await runManyFiles(files, perFile, 100), await runManyFiles(files, perFile, 1024)];
  console.log(formatManyFiles(results));
}
