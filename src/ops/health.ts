/**
 * Liveness and readiness. Alive: the event loop answers and has not been blocked for long since
 * the last check (the daemon adds: no processing thread stuck on one read as long). Ready: the store is open, every pipeline runs, and no output has been failing
 * past the thresholds (so many failed attempts in a row AND nothing delivered for so long).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { OutputTotals } from './observer.js';

export interface ReadinessThresholds {
  /** Consecutive failed attempts of one output before it counts as failing. */
  readonly failures: number;
  /** ...and for at least this long without a success (ms). */
  readonly failingForMs: number;
}

export interface ReadinessView {
  storeOpen(): boolean;
  /** Each pipeline and whether it is reading (or held back by backpressure, which is fine). */
  pipelines(): ReadonlyArray<{ name: string; running: boolean }>;
  outputs(): Iterable<OutputTotals>;
}

export interface HealthReport {
  ok: boolean;
  problems: string[];
  [k: string]: unknown;
}

export function readiness(view: ReadinessView, t: ReadinessThresholds, now: number): HealthReport {
  const problems: string[] = [];
  if (!view.storeOpen()) problems.push('state store is not open');
  const pipelines = view.pipelines();
  if (pipelines.length === 0) problems.push('no pipeline is running');
  for (const p of pipelines) if (!p.running) problems.push(`pipeline ${p.name} is not running`);
  const outputs: Array<Record<string, unknown>> = [];
  for (const o of view.outputs()) {
    const failing = o.consecutiveFailures >= t.failures && o.failingSinceMs !== null && now - o.failingSinceMs >= t.failingForMs;
    if (failing) problems.push(`output ${o.pipeline}/${o.output} failing: ${o.consecutiveFailures} attempts in a row since ${new Date(o.failingSinceMs!).toISOString()} (last error: ${o.lastError ?? 'unknown'})`);
    outputs.push({
      pipeline: o.pipeline, output: o.output, failing, consecutiveFailures: o.consecutiveFailures,
      lastSuccess: o.lastSuccessMs === null ? null : new Date(o.lastSuccessMs).toISOString(), lastError: o.lastError ?? null,
    });
  }
  return { ok: problems.length === 0, problems, pipelines, outputs };
}

/** Watches event-loop delay; a check fails when the loop was blocked past the limit since the last check. */
export class LoopMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(readonly maxBlockedMs = 10_000) {
    this.histogram.enable();
  }

  check(): HealthReport {
    const maxMs = this.histogram.max / 1e6;
    this.histogram.reset();
    const ok = !(maxMs > this.maxBlockedMs);
    return { ok, problems: ok ? [] : [`event loop blocked for ${Math.round(maxMs)} ms`], eventLoopMaxDelayMs: Math.round(maxMs) };
  }

  stop(): void {
    this.histogram.disable();
  }
}
