/**
 * `run --once` on a terminal: a status line of events delivered out of the events there are
 * to deliver (extrapolated from the bytes read so far until every file is read), bytes read,
 * rate and ETA; and, on a terminal or not, the summary the run ends with. The bar counts
 * delivered events, not bytes read: reading finishes long before sending does.
 */
import { statSync } from 'node:fs';
import type { Daemon } from '../daemon.js';
import type { StatusLine } from '../ops/status-line.js';

/** What one `run --once` did, for its summary and its exit code. */
export interface RunSummary {
  readonly seconds: number;
  readonly linesRead: number;
  readonly delivered: number;
  /** Per output `pipeline/output`: events delivered. */
  readonly deliveredBy: ReadonlyArray<readonly [string, number]>;
  /** Lines and events that became dead letters in this run (parse, mapping, delivery). */
  readonly deadLetters: number;
  readonly leftQueued: number;
}

export interface Progress {
  /** Stops redrawing; the status line, if any, stays until `finish`. */
  stop(): RunSummary;
  /** Replaces the status line with the summary (or prints it). */
  finish(summary: RunSummary): void;
}

const REDRAW_MS = 200;
const BAR_WIDTH = 20;

/** Call before `daemon.start()`, so that offsets stored by earlier runs are known. */
export function prepareProgress(daemon: Daemon, line: StatusLine | undefined): { start(): Progress } {
  const before = new Map(daemon.store.files.all().map((s) => [s.path, s.offset]));
  return { start: () => startProgress(daemon, before, line) };
}

function startProgress(daemon: Daemon, before: Map<string, number>, line: StatusLine | undefined): Progress {
  const obs = daemon.observer;
  const files = () => daemon.pipelines.flatMap((p) => p.trackedFiles());
  const from = new Map<string, number>();
  let totalBytes = 0;
  for (const f of files()) {
    const start = Math.min(before.get(f.path) ?? 0, f.readOffset);
    from.set(f.path, start);
    try {
      totalBytes += Math.max(0, statSync(f.path).size - start);
    } catch {
      // gone already: nothing to read
    }
  }
  const outputs = () => [...obs.outputs.values()];
  const sum = <T>(xs: Iterable<T>, f: (x: T) => number): number => {
    let n = 0;
    for (const x of xs) n += f(x);
    return n;
  };
  const outputDeadLetters = () => sum(outputs(), (o) => sum(o.deadLetters.values(), (n) => n));
  const lineDeadLetters = () => sum(obs.pipelines.values(), (t) => t.deadLetters.parse + t.deadLetters.mapping);
  const t0 = Date.now();
  const start = {
    sent: sum(outputs(), (o) => o.eventsSent),
    outputDeadLetters: outputDeadLetters(),
    lineDeadLetters: lineDeadLetters(),
    lines: sum(obs.pipelines.values(), (t) => t.lines),
    backlog: sum(outputs(), (o) => o.queueEvents),
  };
  const read = () => files().reduce((n, f) => n + Math.max(0, f.readOffset - (from.get(f.path) ?? 0)), 0);

  const render = (): void => {
    const done = sum(outputs(), (o) => o.eventsSent) - start.sent + outputDeadLetters() - start.outputDeadLetters;
    const known = done + sum(outputs(), (o) => o.queueEvents);
    const r = read();
    const readAll = r >= totalBytes;
    // Events still to come from the bytes not read yet, at the rate the read bytes made them.
    const madeThisRun = known - start.backlog;
    const estimate = readAll || r === 0 ? known : known + Math.round((madeThisRun * (totalBytes - r)) / r);
    const total = Math.max(estimate, done, 1);
    const pct = Math.min(readAll ? 100 : 99, Math.floor((done / total) * 100));
    const secs = Math.max((Date.now() - t0) / 1000, 0.001);
    const rate = done / secs;
    const eta = rate > 0 ? formatDuration((total - done) / rate) : '-';
    const filled = Math.round((pct / 100) * BAR_WIDTH);
    line!.show(
      `tailship ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${pct}% | ${count(done)} of ${readAll ? '' : '~'}${count(total)} events delivered` +
        ` | read ${bytes(Math.min(r, totalBytes))} of ${bytes(totalBytes)} | ${count(Math.round(rate))} events/s | ETA ${eta}`,
    );
  };
  let timer: NodeJS.Timeout | undefined;
  if (line) {
    render();
    timer = setInterval(render, REDRAW_MS);
    timer.unref();
  }
  return {
    stop() {
      clearInterval(timer);
      if (line) render();
      const deliveredBy = outputs().map((o) => [`${o.pipeline}/${o.output}`, o.eventsSent] as const);
      return {
        seconds: (Date.now() - t0) / 1000,
        linesRead: sum(obs.pipelines.values(), (t) => t.lines) - start.lines,
        delivered: sum(outputs(), (o) => o.eventsSent) - start.sent,
        deliveredBy,
        deadLetters: outputDeadLetters() - start.outputDeadLetters + lineDeadLetters() - start.lineDeadLetters,
        leftQueued: sum(outputs(), (o) => o.queueEvents),
      };
    },
    finish(summary) {
      const text = summaryText(summary);
      if (line) line.end(text);
      // Dead letters are something to look at: a warning, shown even at log_level: warn.
      else daemon.log[summary.deadLetters ? 'warn' : 'info']({ ...summary, deliveredBy: Object.fromEntries(summary.deliveredBy) }, text);
    },
  };
}

/** `done in 12.3 s: 400,000 lines read, 399,990 events delivered (32,519/s), 10 dead letters (…)`. */
export function summaryText(s: RunSummary): string {
  const parts = [`${count(s.linesRead)} lines read`, `${count(s.delivered)} events delivered (${count(Math.round(s.delivered / Math.max(s.seconds, 0.001)))}/s)`];
  if (s.deliveredBy.length > 1) parts[1] += ` [${s.deliveredBy.map(([k, n]) => `${k}: ${count(n)}`).join(', ')}]`;
  parts.push(s.deadLetters ? `${count(s.deadLetters)} dead letter${s.deadLetters === 1 ? '' : 's'} (see \`tailship dead-letter list\`)` : 'no dead letters');
  if (s.leftQueued) parts.push(`${count(s.leftQueued)} events left queued for the next run`);
  return `tailship: done in ${s.seconds.toFixed(1)} s: ${parts.join(', ')}`;
}

const count = (n: number): string => n.toLocaleString('en-US');

function formatDuration(s: number): string {
  const t = Math.ceil(s);
  return t >= 3600 ? `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
