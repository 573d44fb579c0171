/**
 * What every chaos scenario uses: a temp directory, the real daemon as a child process (its own
 * process group, killed on the way out), its peak resident memory, a line writer, and the
 * figures each scenario prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosCollector } from './collector.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/tailship.js');

export interface Figures {
  scenario: string;
  written: number;
  delivered: number;
  missing: number;
  /** Arrivals beyond one per line (at-least-once re-sends, same messageId). */
  duplicates: number;
  /** Lines that arrived under two messageIds. */
  idConflicts: number;
  abnormalExits: number;
  peakRssMiB: number;
  seconds: number;
  notes: string[];
  /** Scenario-specific failures (accounting, RSS bound...). */
  failures: string[];
}

export function passed(f: Figures): boolean {
  return f.missing === 0 && f.idConflicts === 0 && f.abnormalExits === 0 && f.failures.length === 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

export class Workspace {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tailship-chaos-'));
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
  file(name: string): string {
    return path.join(this.dir, name);
  }
}

/** A chaos pipeline: JSON lines `{"id":"<file>/<n>"}` → one track event carrying the id. */
export function jsonPipeline(name: string, paths: string[], url: string, input: Record<string, string> = {}): string {
  const extra = Object.entries({ start_at: 'beginning', poll_interval: '100ms', rescan_interval: '1s', ...input })
    .map(([k, v]) => `, ${k}: ${JSON.stringify(v)}`)
    .join('');
  return `  - name: ${name}
    inputs: [{ paths: ${JSON.stringify(paths)}${extra} }]
    parser: { type: json }
    events:
      - type: track
        event: Line
        anonymousId: chaos
        properties: { id: "{{ id }}" }
    output: { type: rudderstack, url: ${url}, write_key: chaos-key, flush_interval: 100ms, retry: { base: 50ms, cap: 1s } }
`;
}

export function config(stateDir: string, pipelines: string, extra = ''): string {
  return `state_dir: ${JSON.stringify(stateDir)}\nlog_level: warn\nshutdown_timeout: 2s\n${extra}pipelines:\n${pipelines}`;
}

/** Resident memory high-water mark of a live process (VmHWM), in MiB; 0 when it is gone. */
export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The daemon as a child process in its own process group. An exit we did not cause (a signal
 * we did not send, a non-zero code) counts as abnormal. Peak RSS is sampled while it runs.
 */
export class DaemonProcess {
  proc: ChildProcess | undefined;
  abnormalExits = 0;
  peakRss = 0;
  stderrTail = '';
  exits: string[] = [];
  private expected = false;
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: string, private readonly env: Record<string, string> = {}) {}

  start(): void {
    const proc = spawn(process.execPath, [BIN, 'run', '--config', this.cfg], {
      env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    });
    this.proc = proc;
    this.expected = false;
    proc.stderr!.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-8000)));
    proc.on('exit', (code, signal) => {
      this.exits.push(signal ?? `code ${code}`);
      if (!this.expected && !(code === 0 && signal === null)) this.abnormalExits++;
      else if (this.expected && code !== null && code !== 0) this.abnormalExits++;
    });
    clearInterval(this.sampler);
    this.sampler = setInterval(() => this.sample(), 250);
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  sample(): void {
    this.peakRss = Math.max(this.peakRss, peakRssMiB(this.proc?.pid));
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(-this.proc!.pid!, sig);
  }

  /** Sends `sig` (SIGKILL, SIGTERM) and waits for the exit. */
  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.sample();
    this.expected = true;
    const exited = new Promise<void>((r) => this.proc!.once('exit', () => r()));
    this.signal(sig);
    const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!done) {
      this.signal('SIGKILL');
      await exited;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    await this.stop('SIGKILL');
  }
}

/** Appends numbered JSON lines to a file; renames it away on request (a rename rotation). */
export class LineWriter {
  n = 0;
  rotations = 0;
  constructor(readonly file: string, readonly id = path.basename(file)) {}

  write(count: number): void {
    let text = '';
    for (let i = 0; i < count; i++) text += `{"id":"${this.id}/${++this.n}","pad":"${'x'.repeat(40)}"}\n`;
    appendFileSync(this.file, text);
  }

  /** Renames the file to file.1 (file.1 to file.2, ... up to keep), as logrotate's create mode does. */
  rotate(keep = 20): void {
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    if (existsSync(this.file)) renameSync(this.file, `${this.file}.1`);
    this.rotations++;
  }

  /** Writes about `perSecond` lines/s until `stop()` resolves or returns true. */
  async run(perSecond: number, until: () => boolean): Promise<void> {
    const tickMs = 20;
    let owed = 0;
    while (!until()) {
      owed += (perSecond * tickMs) / 1000;
      const now = Math.floor(owed);
      owed -= now;
      if (now > 0) this.write(now);
      await sleep(tickMs);
    }
  }
}

export function figures(scenario: string, started: number, c: ChaosCollector, written: number, missing: number, d: DaemonProcess[]): Figures {
  return {
    scenario, written, delivered: c.ids.size, missing, duplicates: c.arrivals - c.other - c.ids.size, idConflicts: c.conflicts,
    abnormalExits: d.reduce((n, x) => n + x.abnormalExits, 0), peakRssMiB: Math.round(Math.max(0, ...d.map((x) => x.peakRss))),
    seconds: Math.round((Date.now() - started) / 1000), notes: [], failures: [],
  };
}
