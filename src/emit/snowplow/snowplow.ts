/**
 * Snowplow tracker protocol (docs/destinations.md, Snowplow): POST {url}/com.snowplowanalytics.snowplow/tp2
 * with the payload_data 1-0-4 envelope, or GET {url}/i with one event per request, URL-encoded.
 * Rows hold the payload_data items as snowplow-encoder.ts wrote them; `stm` is stamped on every
 * event at each attempt (as both official trackers do), which is why Snowplow rows are decoded
 * and sent through `deliver`, never as stored.
 */
import type { Dispatcher } from 'undici';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy } from '../destination.js';
import { getTimed, makeDispatcher, postTimed } from '../http.js';
import type { SnowplowOptions } from './options.js';
import { ENVELOPE_BYTES, ENVELOPE_HEAD, ENVELOPE_TAIL, GET_PATH, queryString, STM, TP2_PATH } from './snowplow-encoder.js';
import { stampedJoin } from '../send-stamp.js';
import { AdaptiveTimeout } from '../timeout.js';

type Config = SnowplowOptions & { name: string };

export class SnowplowDestination implements Destination {
  readonly type = 'snowplow';
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  /** The comma between events and the `stm` field stamped at send time. */
  readonly perEventOverhead = 1 + STM.bytesPerMessage;
  private readonly url: string;
  private readonly getUrl: string;
  private readonly method: 'post' | 'get';
  /**
   * GET sends a request's events one by one: how many of a request's events the collector has
   * taken, so that a retry of the same request resumes after them instead of sending them again.
   */
  private readonly gotten = new WeakMap<readonly string[], number>();
  private readonly timeout: AdaptiveTimeout;
  private readonly dispatcher: Dispatcher;

  constructor(cfg: Config, private readonly now: () => number = Date.now) {
    this.name = cfg.name;
    const base = cfg.url.replace(/\/+$/, '');
    this.url = base + TP2_PATH;
    this.getUrl = base + GET_PATH;
    this.method = cfg.method;
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

  deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    return this.method === 'get' ? this.deliverGet(events, signal) : this.deliverPost(events, signal);
  }

  private async deliverGet(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    for (let i = this.gotten.get(events) ?? 0; i < events.length; i++) {
      const item = JSON.parse(events[i]!) as Record<string, string>;
      // One event per request: a 400 refuses that event alone, never a batch to split.
      const result = await getTimed(this.dispatcher, this.getUrl + queryString(item, this.now()), this.timeout, signal);
      if (result.kind === 'retry') return result;
      if (result.kind !== 'ok') {
        // Refused for good: the emitter dead-letters the request's events, so send only this one.
        if (events.length > 1) return { kind: 'split', reason: result.reason, status: result.status ?? 400 };
        return result;
      }
      this.gotten.set(events, i + 1);
    }
    return { kind: 'ok' };
  }

  private async deliverPost(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    const body = ENVELOPE_HEAD + stampedJoin(events, STM.members(this.now())) + ENVELOPE_TAIL;
    return postTimed(this.dispatcher, this.url, body, { 'content-type': 'application/json; charset=utf-8' }, this.timeout, signal);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
