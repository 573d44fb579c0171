/**
 * Memory with the collector down (`npm run bench -- --only memory`, opt-in: it writes a 2 GB
 * file and takes minutes): the daemon reads 1,000,000 and then 10,000,000 nginx lines while
 * every request fails (connection refused), so the whole backlog goes into the SQLite queue.
 * The queue limits are raised so that backpressure does not stop reading; memory must stay flat
 * anyway (issue #8: RSS at 10M within 20% of RSS at 1M). Reports VmHWM and VmRSS from /proc
 * once the stored offset reaches the file's end. Run alone: `node dist/bench/memory.js [millions]`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { benchConfig, BIN } from './e2e.js';
import { generateLog } from './gen.js';
import { daemonEnv } from './node-options.js';

export interface MemoryResult {
  lines: number;
  seconds: number;
  peakRssMb: number;
  endRssMb: number;
  queueRows: number;
  dbMb: number;
}

/** A 127.0.0.1 URL where nothing listens (the port was just free). */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function procMem(pid: number): { hwmKb: number; rssKb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { hwmKb: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0), rssKb: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) };
}

/** Runs the daemon (not --once) over `file` until its stored offset reaches the end. */
export async function runQueueFill(file: string, lines: number, timeoutMs: number): Promise<MemoryResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-mem-'));
  const stateDir = path.join(work, 'state');
  const configFile = path.join(work, 'tailship.yaml');
  const size = statSync(file).size;
  const cfg = benchConfig(stateDir, file, await deadUrl(), { outputYaml: 'retry: { base: 1s, cap: 5s }' }).replace(
    'pipelines:',
    'queue: { max_rows: 100000000, max_bytes: 1000GiB }\npipelines:',
  );
  writeFileSync(configFile, cfg);
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', '--config', configFile], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env: daemonEnv() });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exitCode: number | null | undefined;
  child.on('exit', (c) => (exitCode = c));
  let db: Database.Database | undefined;
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      if (exitCode !== undefined) throw new Error(`daemon exited with ${exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`not at the end of the file after ${timeoutMs} ms`);
      try {
        db ??= new Database(path.join(stateDir, 'tailship.db'), { readonly: true, fileMustExist: true });
        const row = db.prepare('SELECT COALESCE(SUM("offset"), 0) AS o FROM source_files').get() as { o: number };
        if (row.o >= size) break;
      } catch {
        // The store may not exist yet.
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const mem = procMem(child.pid!);
    const rows = (db!.prepare('SELECT COUNT(*) AS n FROM out_queue').get() as { n: number }).n;
    let dbBytes = 0;
    for (const ext of ['', '-wal']) {
      try {
        dbBytes += statSync(path.join(stateDir, 'tailship.db' + ext)).size;
      } catch {
        // no WAL file
      }
    }
    return { lines, seconds, peakRssMb: mem.hwmKb / 1024, endRssMb: mem.rssKb / 1024, queueRows: rows, dbMb: dbBytes / 2 ** 20 };
  } finally {
    db?.close();
    if (exitCode === undefined) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchMemory(millions = 10): Promise<{ title: string; markdown: string }> {
  const one = generateLog(1_000_000);
  const bigFile = path.join(one.dir, 'big.log');
  try {
    const base = readFileSync(one.file);
    writeFileSync(bigFile, base);
    for (let i = 1; i < millions; i++) appendFileSync(bigFile, base);
    const small = await runQueueFill(one.file, 1_000_000, 300_000);
    const big = await runQueueFill(bigFile, millions * 1_000_000, 1_500_000);
    const row = (r: MemoryResult): string =>
      `| ${r.lines.toLocaleString('en-US')} | ${Math.round(r.lines / r.seconds).toLocaleString('en-US')} | ${r.peakRssMb.toFixed(0)} | ${r.endRssMb.toFixed(0)} | ${r.queueRows.toLocaleString('en-US')} | ${r.dbMb.toFixed(0)} |`;
    const growth = big.peakRssMb / small.peakRssMb - 1;
    return {
      title: `Memory with the collector down: ${millions}M vs 1M lines queued`,
      markdown: [
        '| lines | lines/s read | peak RSS MB | RSS at end MB | queue rows | store MB |',
        '|---:|---:|---:|---:|---:|---:|',
        row(small),
        row(big),
        '',
        `Peak RSS at ${millions}M is ${(growth * 100).toFixed(1)}% ${growth >= 0 ? 'above' : 'below'} the peak at 1M (target: within 20%).`,
      ].join('\n'),
    };
  } finally {
    rmSync(one.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchMemory(Number(process.argv[2] ?? 10));
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
