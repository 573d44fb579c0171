/**
 * HTTP transport shared by the collector protocols: one undici Agent per destination (keep-alive,
 * optional proxy and extra CA), gzip on the libuv thread pool (off the main thread), and the
 * mapping of an HTTP answer to a DeliveryResult.
 */
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip as gzipCb, constants as zlibConstants } from 'node:zlib';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { parseRetryAfter } from './backoff.js';
import type { DeliveryResult } from './destination.js';

const gzipAsync = promisify(gzipCb);

/** Level 1: on JSON event batches it compresses nearly as well as 6 at several times the speed (bench/RESULTS.md). */
export const GZIP_LEVEL = 1;

export function gzip(body: string | Buffer): Promise<Buffer> {
  return gzipAsync(body, { level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
}

export interface HttpOptions {
  readonly timeoutMs: number;
  readonly caFile?: string | undefined;
  readonly proxy?: string | undefined;
  readonly concurrency: number;
}

export function makeDispatcher(opts: HttpOptions): Dispatcher {
  const ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
  const connect = { timeout: opts.timeoutMs, ...(ca ? { ca } : {}) };
  const proxy = opts.proxy ?? process.env.HTTPS_PROXY ?? process.env.https_proxy;
  if (proxy) return new ProxyAgent({ uri: proxy, connect, ...(ca ? { requestTls: { ca } } : {}) });
  return new Agent({ connect, connections: opts.concurrency * 2, keepAliveTimeout: 30_000 });
}

export interface PostResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** POSTs and reads at most 4 KiB of the answer (enough for an error message). */
export async function post(
  dispatcher: Dispatcher,
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostResult> {
  const res = await request(url, {
    method: 'POST',
    body,
    headers,
    dispatcher,
    signal,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let text = '';
  for await (const chunk of res.body) {
    if (text.length < 4096) text += (chunk as Buffer).toString('utf8');
  }
  return { status: res.statusCode, headers: res.headers, text: text.slice(0, 4096) };
}

/** The common policy: 2xx ok; 408, 429, 5xx retried; 400/413 split; other 4xx refused. */
export function classify(res: PostResult, splittable = true): DeliveryResult {
  const s = res.status;
  if (s >= 200 && s < 300) return { kind: 'ok' };
  const reason = `HTTP ${s}${res.text ? `: ${res.text.trim().slice(0, 200)}` : ''}`;
  if (s === 408 || s === 429 || s >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    return retryAfterMs === undefined ? { kind: 'retry', reason, status: s } : { kind: 'retry', reason, status: s, retryAfterMs };
  }
  if (splittable && (s === 400 || s === 413)) return { kind: 'split', reason, status: s, response: res.text };
  return { kind: 'reject', reason, status: s, response: res.text };
}

/** A transport failure (refused, reset, timeout) as a retryable result; never leaks headers. */
export function networkFailure(err: unknown): DeliveryResult {
  const e = err as { code?: string; name?: string; message?: string };
  return { kind: 'retry', reason: `network: ${e.code ?? e.name ?? 'error'}${e.message ? ` (${e.message.slice(0, 120)})` : ''}` };
}
