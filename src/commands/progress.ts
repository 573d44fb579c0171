/**
 * The `run --once` progress bar on a terminal: bytes read of the bytes there were to read,
 * events sent, event rate and ETA, redrawn on stderr a few times a second. Not a terminal
 * (a pipe, a log file, CI): nothing at all, so output stays clean to parse.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import type { Daemon } from '../daemon.js';

// Loaded only for a terminal: a daemon under systemd or in a container never draws a bar.
const load = createRequire(import.meta.url);

export interface Progress {
  stop(): void;
}

const SILENT: Progress = { stop: () => undefined };

/** Call before `daemon.start()`, so that offsets stored by earlier runs are known. */
export function prepareProgress(daemon: Daemon, out: NodeJS.WriteStream = process.stderr): { start(): Progress } {
  if (!out.isTTY) return { start: () => SILENT };
  const before = new Map(daemon.store.files.all().map((s) => [s.path, s.offset]));
  return { start: () => startBar(daemon, before, out) };
}

function startBar(daemon: Daemon, before: Map<string, number>, out: NodeJS.WriteStream): Progress {
  const { Presets, SingleBar } = load('cli-progress') as typeof CliProgress;
  const files = () => daemon.pipelines.flatMap((p) => p.trackedFiles());
  const from = new Map<string, number>();
  let total = 0;
  for (const f of files()) {
    const start = Math.min(before.get(f.path) ?? 0, f.readOffset);
    from.set(f.path, start);
    try {
      total += Math.max(0, statSync(f.path).size - start);
    } catch {
      // gone already: nothing to read
    }
  }
  const bar = new SingleBar(
    {
      stream: out,
      format: 'tailship {bar} {percentage}% | {read} of {size} | {events} events sent | {rate} events/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const t0 = Date.now();
  const sent = () => daemon.observer.counters.get('events_sent');
  const read = () => files().reduce((n, f) => n + Math.max(0, f.readOffset - (from.get(f.path) ?? 0)), 0);
  const payload = (r: number) => {
    const s = sent();
    const secs = Math.max((Date.now() - t0) / 1000, 0.001);
    return { read: bytes(r), size: bytes(Math.max(total, r)), events: s.toLocaleString('en-US'), rate: Math.round(s / secs).toLocaleString('en-US') };
  };
  bar.start(Math.max(total, 1), 0, payload(0));
  const timer = setInterval(() => {
    const r = read();
    if (r > total) bar.setTotal(r);
    bar.update(r, payload(r));
  }, 200);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const r = Math.max(read(), total);
      bar.setTotal(Math.max(r, 1));
      bar.update(Math.max(r, 1), payload(r));
      bar.stop();
    },
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
