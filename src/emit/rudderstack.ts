/**
 * RudderStack and Segment HTTP API (one payload family, protocols.md §1): POST {url}/v1/batch
 * with `{"batch":[...],"sentAt":...}`, Basic auth with the write key as user and an empty
 * password, gzip for RudderStack by default (Segment gets plain JSON unless asked).
 * `sentAt` is stamped at each attempt so the collector's clock-skew correction stays right.
 */
import type { Dispatcher } from 'undici';
import type { OutputConfig } from '../config/schema.js';
import { gzipText } from '../store/payload.js';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy, StoredDelivery } from './destination.js';
import { gzip, makeDispatcher, postTimed } from './http.js';
import { AdaptiveTimeout } from './timeout.js';
import { RudderstackEncoder } from './rudderstack-encoder.js';

type Config = Extract<OutputConfig, { type: 'rudderstack' | 'segment' }> & { name: string };

const BODY_HEAD = '{"batch":[';
/** Members put around and between stored rows (the "," of the last event of a row is not stored). */
const GZIP_HEAD = gzipText(BODY_HEAD);
const GZIP_BETWEEN_ROWS = gzipText(',\n');

export class RudderstackDestination implements Destination {
  readonly type: string;
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  readonly perEventOverhead = 1;
  readonly encoder = new RudderstackEncoder();
  readonly stored: StoredDelivery | undefined;
  private readonly url: string;
  private readonly auth: string;
  private readonly gzip: boolean;
  private readonly timeout: AdaptiveTimeout;
  private readonly dispatcher: Dispatcher;

  constructor(cfg: Config) {
    this.type = cfg.type;
    this.name = cfg.name;
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
    // Only RudderStack: its gateway reads gzip bodies with Go's reader, which reads several
    // members; Segment does not document gzip at all, so its bodies are compressed whole.
    this.stored =
      this.gzip && cfg.type === 'rudderstack'
        ? { overheadBytes: BODY_HEAD.length + this.bodyTail().length, deliver: (members, signal) => this.postStored(members, signal) }
        : undefined;
  }

  async deliver(events: readonly string[], signal: AbortSignal): Promise<DeliveryResult> {
    const json = `${BODY_HEAD}${events.join(',')}${this.bodyTail()}`;
    return this.gzip ? this.post(await gzip(json), signal) : this.post(json, signal);
  }

  /** The body as gzip members: head, the rows as stored with ",\n" between them, tail. */
  private postStored(members: readonly Uint8Array[], signal: AbortSignal): Promise<DeliveryResult> {
    const parts: Uint8Array[] = [GZIP_HEAD];
    members.forEach((m, i) => {
      if (i > 0) parts.push(GZIP_BETWEEN_ROWS);
      parts.push(m);
    });
    parts.push(gzipText(this.bodyTail()));
    return this.post(Buffer.concat(parts), signal);
  }

  /** `sentAt` is stamped at each attempt. */
  private bodyTail(): string {
    return `],"sentAt":"${new Date().toISOString()}"}`;
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
