/**
 * RudderStack and Segment HTTP API (one message family, docs/protocols/rudderstack-segment.md):
 * POST {url}/v1/batch with `{"batch":[...],"sentAt":...}`, Basic auth with the write key as user and an empty
 * password, gzip for RudderStack by default (Segment gets plain JSON unless asked), one gzip
 * stream per request. Send-time fields are stamped at each attempt (send-stamp.ts): RudderStack
 * reads `sentAt` from each message (its gateway keeps only the batch's items), so every message
 * carries one, as rudder-sdk-node and analytics-go send it; Segment reads the batch's `sentAt`,
 * as analytics-node sends it. The event time is in the stored message (message-json.ts).
 */
import type { Dispatcher } from 'undici';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy, StoredDelivery } from '../destination.js';
import { gzip, makeDispatcher, postTimed } from '../http.js';
import type { RudderstackOptions } from './options.js';
import { SENT_AT } from './rudderstack-encoder.js';
import { BETWEEN_ROWS, stampedJoin, stampedRows, type SendStamp } from '../send-stamp.js';
import { splicedGzip } from '../spliced-gzip.js';
import { AdaptiveTimeout } from '../timeout.js';

type Config = RudderstackOptions & { name: string };

const BODY_HEAD = '{"batch":[';
const BODY_HEAD_BYTES = Buffer.from(BODY_HEAD);

export class RudderstackDestination implements Destination {
  readonly type: string;
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  readonly perEventOverhead: number;
  readonly stored: StoredDelivery;
  private readonly url: string;
  private readonly auth: string;
  private readonly gzip: boolean;
  private readonly timeout: AdaptiveTimeout;
  private readonly dispatcher: Dispatcher;
  /** Stamped into each message at each attempt (RudderStack), or nothing (Segment). */
  private readonly stamp: SendStamp | undefined;

  constructor(cfg: Config, private readonly now: () => number = Date.now) {
    this.type = cfg.type;
    this.name = cfg.name;
    this.stamp = cfg.type === 'rudderstack' ? SENT_AT : undefined;
    this.perEventOverhead = 1 + (this.stamp?.bytesPerMessage ?? 0);
    this.url = cfg.url.replace(/\/+$/, '') + '/v1/batch';
    this.auth = 'Basic ' + Buffer.from(`${cfg.write_key}:`).toString('base64');
    this.gzip = cfg.gzip;
    this.timeout = new AdaptiveTimeout(cfg.timeout);
    this.limits = {
      maxEvents: cfg.batch_size,
      maxBytes: cfg.max_batch_bytes,
      maxMessageBytes: cfg.max_message_bytes,
      flushIntervalMs: cfg.flush_interval,
      concurrency: cfg.concurrency,
    };
    this.retry = { baseMs: cfg.retry.base, capMs: cfg.retry.cap, maxRetryAgeMs: cfg.retry.max_retry_age };
    this.dispatcher = makeDispatcher({ timeoutMs: cfg.timeout, caFile: cfg.ca_file, proxy: cfg.proxy, concurrency: cfg.concurrency });
    // Rows' `bytes` already count each message's stamp (the encoder's sendStamp).
    this.stored = { overheadBytes: BODY_HEAD.length + this.bodyTail(0).length, deliver: (rows, signal) => this.postStored(rows, signal) };
  }

  async deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    const at = this.now();
    const json = BODY_HEAD + stampedJoin(events, this.stamp?.members(at) ?? '') + this.bodyTail(at);
    return this.post(this.gzip ? await gzip(json) : json, signal);
  }

  /**
   * The stored rows in one gzip stream as they are, stamped (spliced-gzip.ts); without gzip, or
   * with rows not spliced for this stamp, decompressed and stamped off the main thread.
   */
  private async postStored(rows: readonly Uint8Array[], signal: AbortSignal): Promise<DeliveryResult> {
    const at = this.now();
    const tail = this.bodyTail(at);
    const spliced = this.gzip ? splicedGzip(rows, this.stamp, at, BODY_HEAD_BYTES, BETWEEN_ROWS, Buffer.from(tail)) : undefined;
    if (spliced) return this.post(spliced, signal);
    const body = await stampedRows(rows, this.stamp, at, BODY_HEAD, tail);
    return this.post(this.gzip ? await gzip(body) : body, signal);
  }

  /** The batch's own `sentAt`: what Segment reads; RudderStack's SDK sends it too. */
  private bodyTail(at: number): string {
    return `],"sentAt":"${new Date(at).toISOString()}"}`;
  }

  private async post(body: string | Buffer, signal: AbortSignal): Promise<DeliveryResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: this.auth };
    if (this.gzip) headers['content-encoding'] = 'gzip';
    return postTimed(this.dispatcher, this.url, body, headers, this.timeout, signal);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
