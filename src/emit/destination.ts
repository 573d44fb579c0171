/**
 * The destination contract. Events are encoded to an output's wire form where they are
 * processed (its Encoder, built in each processing worker: encoders.ts), so the queue holds
 * ready-to-send bytes; a destination delivers a list of encoded events at send time. The
 * emitter owns batching, retries, splitting and dead letters for every destination.
 */
import type { AnalyticsEvent, CompiledRules, RuleWriters } from '../mapping/event.js';
import type { SendStamp } from './send-stamp.js';

export type DeliveryResult =
  | { readonly kind: 'ok' }
  /** Try the same events again later (network error, timeout, 5xx, 429). */
  | {
      readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number;
      /** The collector did not answer within the timeout (`afterMs`); the next request waits `nextMs`. */
      readonly timedOut?: { readonly afterMs: number; readonly nextMs: number; readonly capped: boolean };
    }
  /** The collector refused the request as a whole (400, 413): split it to find what it refuses. */
  | { readonly kind: 'split'; readonly reason: string; readonly status: number; readonly response?: string }
  /** The collector refuses these events for good (e.g. 401 bad write key, or 400 on one event). */
  | { readonly kind: 'reject'; readonly reason: string; readonly status?: number; readonly response?: string };

export interface StoredDelivery {
  /** Bytes a body adds beyond its rows' `bytes` (its head and tail; send-time stamps are in `bytes`). */
  readonly overheadBytes: number;
  deliver(members: readonly Uint8Array[], signal: AbortSignal): Promise<DeliveryResult>;
}

/**
 * Thrown by `Encoder.encode` for an event the output's protocol would refuse (e.g. data that
 * fails its Iglu schema): the event becomes a dead letter for that output, never queued.
 */
export class EncodeRefusal extends Error {
  override readonly name = 'EncodeRefusal';
}

/** An output's wire form, known at start-up: built on the main thread and in each processing worker. */
export interface Encoder {
  /** Wire form of one event; must not contain a raw newline nor end with "," (store/payload.ts). May throw EncodeRefusal. */
  encode(event: AnalyticsEvent): string;
  /** Written after each event of a queue row but the last: "," where rows are sent as stored, else "". */
  readonly separator: string;
  /**
   * Names the wire form `encode` writes, when the protocol offers writers for it (RudderStack's
   * message JSON names its dialect): outputs that agree on it share the writers below, and the
   * events they write are queued as they are.
   */
  readonly messageJson?: string;
  /**
   * Writers that write the rules' events in this wire form straight from the record, each
   * exactly what `encode` makes of the event (Mapper.mapWith).
   */
  ruleWriters?(rules: CompiledRules): RuleWriters;
  /** The send-time stamp the output's destination writes into each event of stored rows (send-stamp.ts); rows count its bytes. */
  readonly sendStamp?: SendStamp | undefined;
  /** Rows are written spliced (store/payload.ts), with a slot for `sendStamp`: the destination sends them as stored without decompressing them. */
  readonly splicedRows?: boolean;
}

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
  /** Bytes one encoded event adds to a request beyond its own length (separators). */
  readonly perEventOverhead: number;
  deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult>;
  /**
   * Sends queue rows given as stored (spliced rows or gzip members of events joined by the
   * encoder's separator, store/payload.ts): spliced ones as they are (spliced-gzip.ts), the
   * others decompressed off the main thread (send-stamp.ts stampedRows).
   * Offered by outputs whose body is `head + events joined by "," + tail`; the emitter falls back
   * to `deliver` without it.
   */
  readonly stored?: StoredDelivery | undefined;
  close(): Promise<void>;
}
