/**
 * `tailship tap` on the daemon's side: viewers attach with a filter (pipeline, rules, call
 * types), a sample fraction and a rate limit; the pipelines copy out events only while a viewer
 * wants them (run/tap.ts). A viewer that cannot keep up loses events, counted in its stats
 * lines; the pipeline never waits for it.
 */
import type { CallType } from '../mapping/call-types.js';
import type { TapBatch, TapSelector, TappedEvent } from '../run/tap.js';

/** Copies per batch at most: bounds the pipeline's extra work whatever the viewers ask. */
export const TAP_MAX_PER_BATCH = 32;

export interface TapRequest {
  /** Only this pipeline (default: all). */
  readonly pipeline?: string | undefined;
  /** Only these rule indexes (default: all). */
  readonly rules?: readonly number[] | undefined;
  /** Only events of these call types (default: all). */
  readonly types?: readonly CallType[] | undefined;
  /** Fraction of the matching events to show, in (0, 1]. */
  readonly sample: number;
  /** Events per second at most. */
  readonly ratePerSec: number;
}

/** What a viewer was shown and what it lost, per cause. */
export interface TapStats {
  sent: number;
  dropped: {
    /** Over the viewer's rate limit. */
    rate: number;
    /** The viewer did not read fast enough (its connection's buffer was full). */
    slow: number;
    /** Over the per-batch cap of copies in the pipeline. */
    batch_cap: number;
  };
}

/** A running pipeline as the tap sees it. */
export interface TapTarget {
  readonly name: string;
  /** The call type of each mapping rule, by index (undefined: a drop rule). */
  readonly ruleTypes: ReadonlyArray<CallType | undefined>;
  setTap(selector: TapSelector | undefined): void;
}

/** Writes one NDJSON line to the viewer; false when its buffer is full (the line is dropped). */
export type TapWrite = (line: string) => boolean;

export class TapViewer {
  readonly stats: TapStats = { sent: 0, dropped: { rate: 0, slow: 0, batch_cap: 0 } };
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly request: TapRequest,
    private readonly write: TapWrite,
    private readonly now: () => number,
  ) {
    this.tokens = Math.max(1, request.ratePerSec);
    this.refilledAt = now();
  }

  /** The rules this viewer wants of a pipeline with these rule types (null: all). */
  rulesOf(ruleTypes: ReadonlyArray<CallType | undefined>): number[] | null {
    const { rules, types } = this.request;
    if (!rules && !types) return null;
    return ruleTypes.map((_t, i) => i).filter((i) => (!rules || rules.includes(i)) && (!types || (ruleTypes[i] !== undefined && types.includes(ruleTypes[i]!))));
  }

  wants(pipeline: string): boolean {
    return this.request.pipeline === undefined || this.request.pipeline === pipeline;
  }

  /** Offers one copied event, which the pipeline sampled at `pipelineSample`. */
  offer(pipeline: string, type: CallType | undefined, e: TappedEvent, pipelineSample: number): void {
    const { rules, types, sample } = this.request;
    if (rules && !rules.includes(e.rule)) return;
    if (types && (type === undefined || !types.includes(type))) return;
    // The pipeline sampled for the most eager viewer: this one keeps its own share of those.
    if (sample < pipelineSample && Math.random() >= sample / pipelineSample) return;
    if (!this.take()) {
      this.stats.dropped.rate++;
      return;
    }
    const line =
      `{"kind":"event","pipeline":${JSON.stringify(pipeline)},"file":${JSON.stringify(e.file)},"offset":${e.offset},` +
      `"rule":${e.rule},"type":${JSON.stringify(type ?? null)},"line":${JSON.stringify(e.line)},"event":${e.event}}\n`;
    if (this.write(line)) this.stats.sent++;
    else this.stats.dropped.slow++;
  }

  /** A stats line (sent and dropped so far); dropped too when the viewer's buffer is full. */
  writeStats(): void {
    this.write(JSON.stringify({ kind: 'stats', ...this.stats }) + '\n');
  }

  private take(): boolean {
    const now = this.now();
    const rate = this.request.ratePerSec;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

export class TapHub {
  private readonly viewers = new Set<TapViewer>();
  /** The selector each pipeline runs with now (absent: no copies). */
  private readonly selectors = new Map<string, TapSelector>();

  constructor(
    private readonly targets: () => readonly TapTarget[],
    private readonly now: () => number = Date.now,
  ) {}

  pipelineNames(): string[] {
    return this.targets().map((t) => t.name);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** What each attached viewer was shown and lost so far. */
  viewerStats(): TapStats[] {
    return [...this.viewers].map((v) => v.stats);
  }

  attach(request: TapRequest, write: TapWrite): TapViewer {
    const v = new TapViewer(request, write, this.now);
    this.viewers.add(v);
    this.apply();
    return v;
  }

  detach(v: TapViewer): void {
    if (this.viewers.delete(v)) this.apply();
  }

  /** Gives every pipeline the selector its viewers need now (after an attach, a detach, a reload). */
  apply(): void {
    this.selectors.clear();
    for (const t of this.targets()) {
      const sel = this.selectorFor(t);
      if (sel) this.selectors.set(t.name, sel);
      t.setTap(sel);
    }
  }

  /** What a pipeline copied out: each viewer takes its share. */
  publish(pipeline: string, batch: TapBatch): void {
    const sel = this.selectors.get(pipeline);
    if (!sel) return;
    const ruleTypes = this.targets().find((t) => t.name === pipeline)?.ruleTypes ?? [];
    for (const v of this.viewers) {
      if (!v.wants(pipeline)) continue;
      v.stats.dropped.batch_cap += batch.overflow;
      for (const e of batch.events) v.offer(pipeline, ruleTypes[e.rule], e, sel.sample);
    }
  }

  /** The union of what the pipeline's viewers want; undefined when none wants anything of it. */
  private selectorFor(t: TapTarget): TapSelector | undefined {
    let rules: Set<number> | null = new Set();
    let sample = 0;
    let any = false;
    for (const v of this.viewers) {
      if (!v.wants(t.name)) continue;
      const r = v.rulesOf(t.ruleTypes);
      if (r !== null && r.length === 0) continue;
      any = true;
      sample = Math.max(sample, v.request.sample);
      if (r === null) rules = null;
      else if (rules) for (const i of r) rules.add(i);
    }
    if (!any) return undefined;
    return { rules: rules && [...rules].sort((a, b) => a - b), sample, maxPerBatch: TAP_MAX_PER_BATCH };
  }
}
