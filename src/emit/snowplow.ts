/**
 * Snowplow tracker protocol (protocols.md §2): POST {url}/com.snowplowanalytics.snowplow/tp2 with
 * the payload_data 1-0-4 envelope, every value a string. A track event whose rule names an Iglu
 * `schema` (and any call type with one) becomes a self-describing event (`ue_pr`), other track
 * events become structured events (`se`), pages become page views (`pv`). `stm` is stamped on
 * every event at each send, as both official trackers do.
 */
import type { Dispatcher } from 'undici';
import type { OutputConfig } from '../config/schema.js';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy } from './destination.js';
import { makeDispatcher, postTimed } from './http.js';
import { AdaptiveTimeout } from './timeout.js';
import { ENVELOPE_BYTES, ENVELOPE_HEAD, ENVELOPE_TAIL, SnowplowEncoder, STM_BYTES, TP2_PATH } from './snowplow-encoder.js';

type Config = Extract<OutputConfig, { type: 'snowplow' }> & { name: string };

export class SnowplowDestination implements Destination {
  readonly type = 'snowplow';
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  /** The comma between events and the `stm` field stamped at send time. */
  readonly perEventOverhead = 1 + STM_BYTES;
  private readonly url: string;
  readonly encoder: SnowplowEncoder;
  private readonly timeout: AdaptiveTimeout;
  private readonly dispatcher: Dispatcher;

  constructor(cfg: Config, private readonly now: () => number = Date.now) {
    this.name = cfg.name;
    this.url = cfg.url.replace(/\/+$/, '') + TP2_PATH;
    this.encoder = new SnowplowEncoder(cfg.app_id, now);
    this.timeout = new AdaptiveTimeout(cfg.timeout);
    // Requests are bounded by bytes including the envelope, so the events get what is left.
    const maxBytes = Math.max(256, cfg.max_batch_bytes - ENVELOPE_BYTES);
    this.limits = {
      maxEvents: cfg.batch_size,
      maxBytes,
      maxMessageBytes: Math.min(cfg.max_message_bytes, maxBytes - this.perEventOverhead),
      flushIntervalMs: cfg.flush_interval,
      concurrency: cfg.concurrency,
    };
    this.retry = { baseMs: cfg.retry.base, capMs: cfg.retry.cap, maxRetryAgeMs: cfg.retry.max_retry_age };
    this.dispatcher = makeDispatcher({ timeoutMs: cfg.timeout, caFile: cfg.ca_file, proxy: cfg.proxy, concurrency: cfg.concurrency });
  }

  async deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    // Each item is `{...}`: `stm` goes right after the opening brace, no re-parse needed.
    const stm = `{"stm":"${this.now()}",`;
    let body = ENVELOPE_HEAD;
    for (let i = 0; i < events.length; i++) body += (i ? ',' : '') + stm + events[i]!.slice(1);
    body += ENVELOPE_TAIL;
    return postTimed(this.dispatcher, this.url, body, { 'content-type': 'application/json; charset=utf-8' }, this.timeout, signal);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
