/**
 * The file-lifecycle model: a history of operations on log files (appends of whole and partial
 * lines, rename rotation, copytruncate, truncation, deletion, new files and so inode reuse,
 * daemon restarts by SIGTERM or SIGKILL) is played against a real directory and the real daemon
 * (a child process) shipping to the loopback collector, while a model says which lines must
 * arrive. Used by the property test and by the regression cases it shrank to.
 */
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Collector } from '../helpers/collector.js';
import { killIfRunning, startTailship, type Child } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { lifecycleConfig, lineId } from './setup.js';

export const LOGS = ['a', 'b', 'c'] as const;
export type LogName = (typeof LOGS)[number];

export type Op =
  | { op: 'write'; log: LogName; lines: number; partial: boolean; pauseMs: number }
  /** logrotate `create` / nginx reopen: rename, the writer adds `late` lines to the old file, then reopens. */
  | { op: 'rotate'; log: LogName; late: number; matchGlob: boolean; pauseMs: number }
  /** The copy is named into the globs (`a.log.c3`, found as a copy by content) or out of them. */
  | { op: 'copytruncate'; log: LogName; matchGlob: boolean; pauseMs: number }
  | { op: 'truncate'; log: LogName; pauseMs: number }
  /** The file is deleted; the next write creates a new one (often on the same inode). */
  | { op: 'delete'; log: LogName; pauseMs: number }
  | { op: 'restart'; signal: 'SIGTERM' | 'SIGKILL'; downOps: Op[] };

interface Writer {
  fd: number | undefined;
  /** Current file of the writer (its path when it was opened). */
  file: string;
  /** Second half of a line whose first half is written. */
  pendingRest: string | undefined;
  /** Line ids written to the current file (still tracked by name there). */
  inFile: string[];
}

export interface HistoryResult {
  must: number;
  may: number;
  arrivals: number;
  duplicates: number;
}

const SYNC_MS = 15_000;

export class ModelRun {
  private readonly tmp = tempDir('tailship-model-');
  private readonly dir = path.join(this.tmp.dir, 'logs');
  private readonly cfg = path.join(this.tmp.dir, 'tailship.yaml');
  private collector!: Collector;
  private child: Child | undefined;
  private readonly writers = new Map<LogName, Writer>();
  private readonly seq = new Map<LogName, number>();
  /** Lines that must arrive; lines that may (lost by a documented window). */
  private readonly must = new Set<string>();
  private readonly may = new Set<string>();
  private rotations = 0;
  /** Files whose lines only an open handle can still deliver (renamed out of the glob, deleted). */
  private handleOnly: string[][] = [];
  running = false;
  private readonly stderrs: string[] = [];

  async setup(): Promise<void> {
    mkdirSync(this.dir);
    this.collector = await new Collector({ writeKey: 'test-write-key' }).start();
    writeFileSync(
      this.cfg,
      lifecycleConfig({
        stateDir: path.join(this.tmp.dir, 'state'),
        paths: [path.join(this.dir, '*.log'), path.join(this.dir, '*.log.*')],
        url: this.collector.url,
        batchSize: 50,
        input: { partial_line_timeout: '1h', rescan_interval: '300ms' },
      }),
    );
  }

  async cleanup(): Promise<void> {
    await killIfRunning(this.child);
    for (const w of this.writers.values()) if (w.fd !== undefined) closeSync(w.fd);
    await this.collector.stop();
    this.tmp.cleanup();
  }

  async run(ops: Op[]): Promise<HistoryResult> {
    await this.setup();
    try {
      this.start();
      for (const op of ops) await this.apply(op);
      // End of history: finish partial lines, then everything required must arrive.
      for (const log of LOGS) this.finishPartial(log);
      await this.waitArrived([...this.must], 'the end of the history');
      return this.verify();
    } finally {
      await this.cleanup();
    }
  }

  private start(): void {
    if (this.child) this.stderrs.push(this.child.stderr());
    this.child = startTailship(['run', '--config', this.cfg, '--log-level', 'info']);
    this.running = true;
  }

  private async apply(op: Op): Promise<void> {
    switch (op.op) {
      case 'write':
        this.write(op.log, op.lines, op.partial);
        break;
      case 'rotate':
        await this.rotate(op.log, op.late, op.matchGlob || !this.running);
        break;
      case 'copytruncate':
        await this.truncate(op.log, op.matchGlob ? 'in-glob' : 'out');
        break;
      case 'truncate':
        await this.truncate(op.log, 'none');
        break;
      case 'delete':
        await this.remove(op.log);
        break;
      case 'restart':
        await this.restart(op.signal, op.downOps);
        return;
    }
    if (op.pauseMs) await sleep(op.pauseMs);
  }

  private writer(log: LogName): Writer {
    let w = this.writers.get(log);
    if (!w) {
      w = { fd: undefined, file: path.join(this.dir, `${log}.log`), pendingRest: undefined, inFile: [] };
      this.writers.set(log, w);
    }
    if (w.fd === undefined) {
      w.file = path.join(this.dir, `${log}.log`);
      w.fd = openSync(w.file, 'a');
      w.inFile = [];
    }
    return w;
  }

  private nextLine(log: LogName): { id: string; text: string } {
    const n = (this.seq.get(log) ?? 0) + 1;
    this.seq.set(log, n);
    return { id: `${log}/${n}`, text: `{"f":"${log}","n":${n}}\n` };
  }

  private write(log: LogName, lines: number, partial: boolean): void {
    const w = this.writer(log);
    let text = w.pendingRest ?? '';
    w.pendingRest = undefined;
    for (let i = 0; i < lines; i++) {
      const l = this.nextLine(log);
      text += l.text;
      this.must.add(l.id);
      w.inFile.push(l.id);
    }
    if (partial) {
      const l = this.nextLine(log);
      const cut = Math.floor(l.text.length / 2);
      text += l.text.slice(0, cut);
      w.pendingRest = l.text.slice(cut);
      this.must.add(l.id);
      w.inFile.push(l.id);
    }
    if (text) writeSync(w.fd!, text);
  }

  private finishPartial(log: LogName): void {
    const w = this.writers.get(log);
    if (w?.fd !== undefined && w.pendingRest) {
      writeSync(w.fd, w.pendingRest);
      w.pendingRest = undefined;
    }
  }

  private async rotate(log: LogName, late: number, matchGlob: boolean): Promise<void> {
    const w = this.writers.get(log);
    if (w?.fd === undefined) return;
    this.finishPartial(log);
    // A name outside the globs leaves only the daemon's open handle to read the rest: the daemon
    // must have opened the file (it has not, if it was created a moment ago).
    if (!matchGlob) await this.waitOpen(w.file);
    const to = path.join(this.dir, matchGlob ? `${log}.log.${++this.rotations}` : `${log}.old.${++this.rotations}`);
    renameSync(w.file, to);
    const lateIds: string[] = [];
    let text = '';
    for (let i = 0; i < late; i++) {
      const l = this.nextLine(log);
      text += l.text;
      this.must.add(l.id);
      lateIds.push(l.id);
    }
    if (text) writeSync(w.fd, text);
    closeSync(w.fd);
    w.fd = undefined;
    if (!matchGlob) this.handleOnly.push([...w.inFile, ...lateIds]);
    this.writer(log);
  }

  private async truncate(log: LogName, copy: 'none' | 'out' | 'in-glob'): Promise<void> {
    const w = this.writers.get(log);
    if (w?.fd === undefined) return;
    this.finishPartial(log);
    if (this.running) {
      // The documented window: lines not read before the truncation are gone. Wait for them first.
      await this.waitArrived(w.inFile, `${log} before truncation`);
    } else if (copy !== 'in-glob') {
      this.downgrade(w.inFile);
    }
    // A copy in the globs holds the unread lines: found as the copy of the truncated life, it is
    // read from the committed offset under the same key (no line twice, none lost).
    if (copy !== 'none') copyFileSync(w.file, path.join(this.dir, copy === 'in-glob' ? `${log}.log.c${++this.rotations}` : `${log}.copy.${++this.rotations}`));
    ftruncateSync(w.fd, 0);
    w.inFile = [];
  }

  private async remove(log: LogName): Promise<void> {
    const w = this.writers.get(log);
    if (w?.fd === undefined) return;
    this.finishPartial(log);
    if (this.running) {
      await this.waitOpen(w.file);
      this.handleOnly.push([...w.inFile]);
    } else {
      this.downgrade(w.inFile);
    }
    unlinkSync(w.file);
    closeSync(w.fd);
    w.fd = undefined;
  }

  private async restart(signal: 'SIGTERM' | 'SIGKILL', downOps: Op[]): Promise<void> {
    if (!this.running) return;
    // The signal handlers are set once the daemon is built: a SIGTERM before that is not graceful.
    await this.waitReady();
    // Files only an open handle could finish are lost by any stop: let them be read first.
    await this.waitArrived(this.handleOnly.flat(), 'files held open before the restart');
    this.handleOnly = [];
    this.child!.proc.kill(signal);
    const { code, signal: got } = await this.child!.exited;
    if (signal === 'SIGKILL' ? got !== 'SIGKILL' : code !== 0) throw new Error(`daemon exit ${code} ${got} on ${signal}\n${this.child!.stderr().slice(-2000)}`);
    this.running = false;
    for (const op of downOps) await this.apply(op);
    this.start();
  }

  /** Lines not arrived yet become optional (lost in a window the docs admit). */
  private downgrade(ids: string[]): void {
    const arrived = this.arrivedIds();
    for (const id of ids) {
      if (!arrived.has(id) && this.must.delete(id)) this.may.add(id);
    }
  }

  private arrivedIds(): Set<string> {
    return new Set(this.collector.messages.map(lineId));
  }

  private async waitArrived(ids: string[], what: string): Promise<void> {
    if (!ids.length) return;
    await this.collector
      .waitFor(() => {
        const got = this.arrivedIds();
        return ids.every((id) => got.has(id));
      }, SYNC_MS, what)
      .catch((err: Error) => {
        const got = this.arrivedIds();
        const missing = ids.filter((id) => !got.has(id));
        throw new Error(`${err.message}: missing ${missing.length} (${missing.slice(0, 10).join(' ')})\n${this.child?.stderr().slice(-3000) ?? ''}`);
      });
  }

  /** Waits until the daemon says it started (its signal handlers are set before), bounded. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + SYNC_MS;
    while (Date.now() < deadline) {
      if (this.child!.stderr().includes('tailship started')) return;
      await sleep(10);
    }
    throw new Error(`daemon did not start\n${this.child!.stderr().slice(-2000)}`);
  }

  /** Waits until the daemon holds `file` open (Linux /proc), bounded. */
  private async waitOpen(file: string): Promise<void> {
    const deadline = Date.now() + SYNC_MS;
    while (Date.now() < deadline) {
      if (this.child?.proc.pid && holdsOpen(this.child.proc.pid, file)) return;
      await sleep(10);
    }
    throw new Error(`daemon never opened ${file}`);
  }

  /** The daemon's file events (from its info log), for failure messages. */
  private trail(): string {
    const keep = /"file"/;
    return [...this.stderrs, this.child?.stderr() ?? '']
      .join('\n')
      .split('\n')
      .filter((l) => keep.test(l))
      .map((l) => l.replace(this.dir, ''))
      .join('\n')
      .slice(-6000);
  }

  private verify(): HistoryResult {
    const ids = new Map<string, string>();
    let duplicates = 0;
    for (const m of this.collector.messages) {
      const id = lineId(m);
      const prev = ids.get(id);
      if (prev === undefined) ids.set(id, m.messageId);
      else {
        duplicates++;
        if (prev !== m.messageId) throw new Error(`line ${id} arrived with two messageIds: ${prev}, ${m.messageId}\n${this.trail()}`);
      }
    }
    const missing = [...this.must].filter((id) => !ids.has(id));
    if (missing.length) throw new Error(`missing lines: ${missing.join(' ')}\n${this.trail()}`);
    for (const id of ids.keys()) {
      if (!this.must.has(id) && !this.may.has(id)) throw new Error(`line ${id} arrived but was never written`);
    }
    return { must: this.must.size, may: this.may.size, arrivals: this.collector.messages.length, duplicates };
  }
}

function holdsOpen(pid: number, file: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return false;
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function describeOps(ops: Op[]): string {
  return JSON.stringify(ops);
}
