/**
 * What `tailship top` and the status page show, from the running daemon's memory: per file its
 * lag (bytes, and lines estimated from the pipeline's average line), read rate and state; per
 * output its delivery rate, queue depth, retries, last error and dead letters; the process's
 * CPU and memory; and 15 minutes of history sampled every few seconds. No write key is in any
 * of it (the server scrubs each body as well).
 */
import { fstatSync } from 'node:fs';
import type { FileReader } from '../source/reader.js';
import { VERSION } from '../version.js';
import type { Observer } from './observer.js';

/** Seconds between two history samples, and how many samples the history keeps (15 minutes). */
export const SAMPLE_EVERY_MS = 2_000;
export const HISTORY_SAMPLES = (15 * 60 * 1000) / SAMPLE_EVERY_MS;
/** Series kept per chart: files beyond it show in the tables, not in the history (memory stays bounded). */
export const MAX_SERIES = 100;
/** Rates are averaged over this many samples, so one quiet interval does not read as a stall. */
const RATE_WINDOW = 5;

export type FileState = 'tailing' | 'paused' | 'closed' | 'rotated' | 'rotated-unread';

export interface LiveSource {
  readonly observer: Observer;
  pipelines(): ReadonlyArray<{ readonly name: string; trackedFiles(): FileReader[] }>;
  backpressure(): { paused: boolean; pausedMs: number };
  /** The queue per output (one SQL query: asked only when a status is asked for). */
  queueDepth(): Array<{ pipeline: string; output: string; rows: number; events: number; bytes: number; oldest: number | null }>;
  latestDeadLetters(limit: number): Array<{ pipeline: string; output: string | null; kind: string; reason: string; createdAt: number }>;
}

export interface FileStatus {
  path: string;
  state: FileState;
  offset: number;
  size: number | null;
  lagBytes: number | null;
  /** lagBytes over the pipeline's average line length so far. */
  linesBehindEstimate: number | null;
  readBytesPerSec: number;
  unreadBytes?: number;
  at?: string;
}

export interface OutputStatus {
  pipeline: string;
  output: string;
  eventsSent: number;
  eventsPerSec: number;
  bytesSent: number;
  queue: { events: number; rows: number; bytes: number; oldestAgeSec: number | null };
  retries: number;
  consecutiveFailures: number;
  lastSuccess: string | null;
  lastError: string | null;
  deadLetters: Record<string, number>;
}

export interface LiveStatus {
  version: string;
  now: string;
  uptimeSec: number;
  process: { pid: number; cpuPercent: number; rssBytes: number; heapUsedBytes: number };
  backpressure: { paused: boolean; pausedSec: number };
  pipelines: Array<{
    name: string;
    linesRead: number;
    bytesRead: number;
    linesPerSec: number;
    readBytesPerSec: number;
    eventsQueued: number;
    deadLetters: { parse: number; mapping: number };
    files: FileStatus[];
  }>;
  outputs: OutputStatus[];
  deadLetters: { latest: Array<{ pipeline: string; output: string | null; kind: string; reason: string; at: string }> };
  history?: History;
}

export interface History {
  intervalSec: number;
  /** Unix ms of each sample, oldest first; every series below has one value per sample (null: not known then). */
  t: number[];
  lagBytes: Record<string, Array<number | null>>;
  deliveredPerSec: Record<string, Array<number | null>>;
  queueBytes: Record<string, Array<number | null>>;
}

/** Samples the daemon every SAMPLE_EVERY_MS for rates and the 15-minute history. */
export class LiveStatusSampler {
  private readonly t: number[] = [];
  private readonly series = { lagBytes: new Map<string, Array<number | null>>(), deliveredPerSec: new Map<string, Array<number | null>>(), queueBytes: new Map<string, Array<number | null>>() };
  /** Per file key: read offsets at the last samples; per output: events sent; per pipeline: lines and bytes. */
  private readonly fileOffsets = new Map<string, Window>();
  private readonly sentAt = new Map<string, Window>();
  private readonly pipelineLines = new Map<string, Window>();
  private readonly pipelineBytes = new Map<string, Window>();
  private cpu = { usage: process.cpuUsage(), at: performance.now(), percent: 0 };
  private timer: NodeJS.Timeout | undefined;
  private depthCache: { at: number; rows: ReturnType<LiveSource['queueDepth']> } | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly source: LiveSource, private readonly now: () => number = Date.now) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample (the timer calls it; tests may too). */
  sample(): void {
    const now = this.now();
    const obs = this.source.observer;
    this.t.push(now);
    const seen = { lagBytes: new Set<string>(), deliveredPerSec: new Set<string>(), queueBytes: new Set<string>() };
    const put = (kind: keyof typeof seen, key: string, v: number | null): void => {
      let arr = this.series[kind].get(key);
      if (!arr) {
        if (this.series[kind].size >= MAX_SERIES) return;
        this.series[kind].set(key, (arr = new Array<number | null>(this.t.length - 1).fill(null)));
      }
      arr.push(v);
      seen[kind].add(key);
    };
    for (const p of this.source.pipelines()) {
      const totals = obs.pipelines.get(p.name);
      pushWindow(this.pipelineLines, p.name, now, totals?.lines ?? 0);
      pushWindow(this.pipelineBytes, p.name, now, totals?.bytes ?? 0);
      for (const f of p.trackedFiles()) {
        const key = `${p.name}/${f.path}`;
        pushWindow(this.fileOffsets, key, now, f.readOffset);
        const size = fileSize(f);
        put('lagBytes', key, size === null ? null : Math.max(0, size - f.state.offset));
      }
    }
    for (const o of obs.outputs.values()) {
      const key = `${o.pipeline}/${o.output}`;
      const prev = this.sentAt.get(key)?.at(-1);
      pushWindow(this.sentAt, key, now, o.eventsSent);
      put('deliveredPerSec', key, prev === undefined ? null : Math.max(0, round1(((o.eventsSent - prev.v) * 1000) / Math.max(1, now - prev.t))));
      put('queueBytes', key, o.queueBytes);
    }
    for (const key of this.fileOffsets.keys()) if (!seen.lagBytes.has(key)) this.fileOffsets.delete(key);
    for (const kind of Object.keys(this.series) as Array<keyof typeof seen>) {
      for (const [key, arr] of this.series[kind]) {
        if (!seen[kind].has(key)) arr.push(null);
        if (arr.length > HISTORY_SAMPLES) arr.shift();
        // A file or output gone for the whole window leaves the history.
        if (!seen[kind].has(key) && arr.every((v) => v === null)) this.series[kind].delete(key);
      }
    }
    if (this.t.length > HISTORY_SAMPLES) this.t.shift();
    const usage = process.cpuUsage();
    const at = performance.now();
    const cpuMicros = usage.user - this.cpu.usage.user + (usage.system - this.cpu.usage.system);
    this.cpu = { usage, at, percent: at > this.cpu.at ? round1((cpuMicros / 1000 / (at - this.cpu.at)) * 100) : this.cpu.percent };
  }

  status(withHistory: boolean): LiveStatus {
    const now = this.now();
    const obs = this.source.observer;
    const bp = this.source.backpressure();
    const depth = this.queueDepth(now);
    const mem = process.memoryUsage();
    const status: LiveStatus = {
      version: VERSION,
      now: new Date(now).toISOString(),
      uptimeSec: Math.round((now - this.startedAt) / 1000),
      process: { pid: process.pid, cpuPercent: this.cpu.percent, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      backpressure: { paused: bp.paused, pausedSec: Math.round(bp.pausedMs / 1000) },
      pipelines: this.source.pipelines().map((p) => {
        const t = obs.pipelines.get(p.name);
        const avgLine = t && t.lines > 0 ? t.bytes / t.lines : null;
        const files: FileStatus[] = p.trackedFiles().map((f) => {
          const size = fileSize(f);
          const lag = size === null ? null : Math.max(0, size - f.state.offset);
          return {
            path: f.path,
            state: f.fd === undefined ? 'closed' : f.detached ? 'rotated' : bp.paused ? 'paused' : 'tailing',
            offset: f.state.offset,
            size,
            lagBytes: lag,
            linesBehindEstimate: lag === null || avgLine === null ? null : Math.round(lag / avgLine),
            readBytesPerSec: rate(this.fileOffsets.get(`${p.name}/${f.path}`)),
          };
        });
        for (const r of t?.rotatedUnread ?? []) {
          files.push({
            path: r.path, state: 'rotated-unread', offset: 0, size: null, lagBytes: null, linesBehindEstimate: null, readBytesPerSec: 0,
            unreadBytes: r.unreadBytes, at: new Date(r.atMs).toISOString(),
          });
        }
        return {
          name: p.name,
          linesRead: t?.lines ?? 0,
          bytesRead: t?.bytes ?? 0,
          linesPerSec: rate(this.pipelineLines.get(p.name)),
          readBytesPerSec: rate(this.pipelineBytes.get(p.name)),
          eventsQueued: t?.eventsQueued ?? 0,
          deadLetters: { ...(t?.deadLetters ?? { parse: 0, mapping: 0 }) },
          files,
        };
      }),
      outputs: [...obs.outputs.values()].map((o) => {
        const d = depth.find((q) => q.pipeline === o.pipeline && q.output === o.output);
        return {
          pipeline: o.pipeline,
          output: o.output,
          eventsSent: o.eventsSent,
          eventsPerSec: rate(this.sentAt.get(`${o.pipeline}/${o.output}`)),
          bytesSent: o.bytesSent,
          queue: {
            events: d?.events ?? 0, rows: d?.rows ?? 0, bytes: d?.bytes ?? 0,
            oldestAgeSec: d?.oldest == null ? null : Math.max(0, Math.round((now - d.oldest) / 1000)),
          },
          retries: o.retries,
          consecutiveFailures: o.consecutiveFailures,
          lastSuccess: o.lastSuccessMs === null ? null : new Date(o.lastSuccessMs).toISOString(),
          lastError: o.lastError ?? null,
          deadLetters: Object.fromEntries(o.deadLetters),
        };
      }),
      deadLetters: {
        latest: this.latestDeadLetters().map((d) => ({ pipeline: d.pipeline, output: d.output, kind: d.kind, reason: d.reason, at: new Date(d.createdAt).toISOString() })),
      },
    };
    if (withHistory) {
      const obj = (m: Map<string, Array<number | null>>): Record<string, Array<number | null>> => Object.fromEntries(m);
      status.history = {
        intervalSec: SAMPLE_EVERY_MS / 1000,
        t: [...this.t],
        lagBytes: obj(this.series.lagBytes),
        deliveredPerSec: obj(this.series.deliveredPerSec),
        queueBytes: obj(this.series.queueBytes),
      };
    }
    return status;
  }

  /** The store's queue depth, asked at most once a second whatever the number of viewers. */
  private queueDepth(now: number): ReturnType<LiveSource['queueDepth']> {
    if (!this.depthCache || now - this.depthCache.at >= 1000) {
      try {
        this.depthCache = { at: now, rows: this.source.queueDepth() };
      } catch {
        // The store is closing (shutdown): show the last depth known.
        this.depthCache ??= { at: now, rows: [] };
      }
    }
    return this.depthCache.rows;
  }

  private latestDeadLetters(): ReturnType<LiveSource['latestDeadLetters']> {
    try {
      return this.source.latestDeadLetters(10);
    } catch {
      return [];
    }
  }
}

/** A value's last few samples, for its rate. */
type Window = Array<{ t: number; v: number }>;

function pushWindow(m: Map<string, Window>, key: string, t: number, v: number): void {
  let arr = m.get(key);
  if (!arr) m.set(key, (arr = []));
  arr.push({ t, v });
  if (arr.length > RATE_WINDOW + 1) arr.shift();
}

/** Per second over the window (0 until it has two samples); negative changes (a truncated file) count as 0. */
function rate(w: Window | undefined): number {
  const first = w?.[0];
  const last = w?.at(-1);
  if (!first || !last || last.t <= first.t) return 0;
  return Math.max(0, round1(((last.v - first.v) * 1000) / (last.t - first.t)));
}

function fileSize(f: FileReader): number | null {
  if (f.fd === undefined) return null;
  try {
    return fstatSync(f.fd).size;
  } catch {
    return null;
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
