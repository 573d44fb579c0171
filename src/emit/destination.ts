/**
 * The destination contract. A destination encodes one event to its wire form (at commit time,
 * once, so the queue holds ready-to-send bytes) and delivers a list of encoded events (at send
 * time). The emitter owns batching, retries, splitting and dead letters for every destination.
 */
import type { AnalyticsEvent } from '../pipeline/event.js';

export type DeliveryResult =
  | { readonly kind: 'ok' }
  /** Try the same events again later (network error, timeout, 5xx, 429). */
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number }
  /** The collector refused the request as a whole (400, 413): split it to find what it refuses. */
  | { readonly kind: 'split'; readonly reason: string; readonly status: number; readonly response?: string }
  /** The collector refuses these events for good (e.g. 401 bad write key, or 400 on one event). */
  | { readonly kind: 'reject'; readonly reason: string; readonly status?: number; readonly response?: string };

export interface BatchLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** One encoded event larger than this is a dead letter, never sent. */
  readonly maxMessageBytes: number;
  readonly flushIntervalMs: number;
  readonly concurrency: number;
}

export interface RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  /** 0: retry forever. */
  readonly maxRetryAgeMs: number;
}

export interface Destination {
  readonly type: string;
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  /** Wire form of one event; must not contain a raw newline. */
  encode(event: AnalyticsEvent): string;
  /** Bytes one encoded event adds to a request beyond its own length (separators). */
  readonly perEventOverhead: number;
  deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult>;
  close(): Promise<void>;
}
