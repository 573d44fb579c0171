/**
 * What the processing stages copy out for `tailship tap` while a viewer is attached: a few
 * sampled events of each batch with the line they came from. Nothing is copied while no tap is
 * attached (the selector is undefined), and never more than `maxPerBatch` per batch, so a tap
 * costs the pipeline a bounded amount of work whatever the viewer asks for.
 */
import type { AnalyticsEvent } from '../mapping/event.js';

/** Plain data (it crosses to the processing threads): which events to copy out. */
export interface TapSelector {
  /** Rule indexes to copy; null: every rule. */
  readonly rules: readonly number[] | null;
  /** Fraction of the matching events to copy, in (0, 1]. */
  readonly sample: number;
  /** Copies per batch at most; the rest are counted as `overflow`. */
  readonly maxPerBatch: number;
}

export interface TappedEvent {
  readonly file: string;
  readonly offset: number;
  readonly rule: number;
  /** The event as mapped: the message JSON, or the protocol-neutral event for other outputs. */
  readonly event: string;
  readonly line: string;
}

/** One batch's copies. */
export interface TapBatch {
  readonly events: TappedEvent[];
  /** Matching, sampled events left out by maxPerBatch. */
  overflow: number;
}

/** A selector made ready for the per-event check. */
export class Tap {
  private readonly rules: ReadonlySet<number> | null;
  constructor(readonly selector: TapSelector) {
    this.rules = selector.rules === null ? null : new Set(selector.rules);
  }

  /** Copies the event when it is selected and sampled; `batch` collects the copies. */
  offer(batch: TapBatch, rule: number, event: AnalyticsEvent | string, file: string, offset: number, line: string): void {
    if (this.rules !== null && !this.rules.has(rule)) return;
    if (this.selector.sample < 1 && Math.random() >= this.selector.sample) return;
    if (batch.events.length >= this.selector.maxPerBatch) {
      batch.overflow++;
      return;
    }
    batch.events.push({ file, offset, rule, line, event: typeof event === 'string' ? event : JSON.stringify(event) });
  }
}
