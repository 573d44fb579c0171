/**
 * HTTP transport shared by the collector protocols: one undici Agent per destination (keep-alive,
 * optional proxy and extra CA), gzip on the libuv thread pool (off the main thread), and the
 * mapping of an HTTP answer to a DeliveryResult.
 */
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { GZIP_OPTIONS } from '../store/payload.js';
import { rootCertificates } from 'node:tls';
import { undiciClasses, type Dispatcher } from './undici.js';
import { TailshipError } from '../errors.js';
import { parseRetryAfter } from './backoff.js';
import type { DeliveryResult } from './destination.js';
import { VERSION } from '../version.js';
import { AdaptiveTimeout, isRequestTimeout } from './timeout.js';

const gzipAsync = promisify(gzipCb);

/**
 * A request compressed whole, with the options of stored rows (store/payload.ts), in one pass
 * on the pool: an output chunk of a quarter of the body holds what level 1 makes of JSON.
 */
export function gzip(body: string | Buffer): Promise<Buffer> {
  return gzipAsync(body, { ...GZIP_OPTIONS, chunkSize: Math.max(16 * 1024, body.length >> 2) });
}

export interface HttpOptions {
  readonly timeoutMs: number;
  readonly caFile?: string | undefined;
  readonly proxy?: string | undefined;
  readonly concurrency: number;
}

/**
 * The dispatcher of one destination. TLS trusts the system CAs plus `ca_file`; `proxy` sends
 * everything through that proxy (CONNECT tunnel); without it, HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY from the environment apply as curl reads them. `timeoutMs` bounds connecting (to
 * the proxy and to the collector), waiting for the answer's headers and for its body.
 */
export function makeDispatcher(opts: HttpOptions): Dispatcher {
  const tls = { timeout: opts.timeoutMs, ...(opts.caFile ? { ca: [...rootCertificates, readCaFile(opts.caFile)] } : {}) };
  const pool = { connections: opts.concurrency * 2, keepAliveTimeout: 30_000 };
  const proxyTls = { timeout: opts.timeoutMs };
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = undiciClasses();
  if (opts.proxy) return new ProxyAgent({ uri: opts.proxy, ...pool, requestTls: tls, proxyTls });
  if (PROXY_VARS.some((v) => process.env[v])) return new EnvHttpProxyAgent({ ...pool, connect: tls, requestTls: tls, proxyTls });
  return new Agent({ ...pool, connect: tls });
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', `ca_file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export interface PostResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Sent on every request, in the `<library>/<version>` form of rudder-sdk-node's. */
export const USER_AGENT = `tailship/${VERSION}`;

/** POSTs (with tailship's User-Agent) and reads at most 4 KiB of the answer (enough for an error message). */
export function post(
  dispatcher: Dispatcher,
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostResult> {
  return send(dispatcher, 'POST', url, body, headers, timeoutMs, signal);
}

async function send(
  dispatcher: Dispatcher,
  method: 'GET' | 'POST',
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostResult> {
  const { origin } = new URL(url);
  const res = await dispatcher.request({
    origin,
    // The path as given: re-serialising it through URL could change the query's encoding.
    path: url.slice(origin.length),
    method,
    body: body ?? null,
    headers: { 'user-agent': USER_AGENT, ...headers },
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

/**
 * POSTs with the output's adaptive timeout (timeout.ts) and turns the outcome into a delivery
 * result: a request cut off by the timeout says so, with the wait the next one gets.
 */
export function postTimed(
  dispatcher: Dispatcher,
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  timeout: AdaptiveTimeout,
  signal: AbortSignal,
): Promise<DeliveryResult> {
  return timed((ms, s) => post(dispatcher, url, body, headers, ms, s), timeout, signal, true);
}

/** GETs a URL (its query string already encoded) with the output's adaptive timeout, as postTimed; a GET's one event cannot be split. */
export function getTimed(dispatcher: Dispatcher, url: string, timeout: AdaptiveTimeout, signal: AbortSignal): Promise<DeliveryResult> {
  return timed((ms, s) => send(dispatcher, 'GET', url, undefined, {}, ms, s), timeout, signal, false);
}

async function timed(
  request: (timeoutMs: number, signal: AbortSignal) => Promise<PostResult>,
  timeout: AdaptiveTimeout,
  signal: AbortSignal,
  splittable: boolean,
): Promise<DeliveryResult> {
  const waited = timeout.ms;
  const started = performance.now();
  // Our own timer for the whole request: undici's headers and body timeouts run on a coarse
  // clock (about a second), too late for a timeout under a few seconds.
  const timer = new AbortController();
  const t = setTimeout(() => timer.abort(), waited);
  const forward = (): void => timer.abort();
  signal.addEventListener('abort', forward, { once: true });
  try {
    const res = await request(waited, timer.signal);
    timeout.answered(performance.now() - started);
    return classify(res, splittable);
  } catch (err) {
    if (signal.aborted || !(timer.signal.aborted || isRequestTimeout(err))) return networkFailure(err);
    const nextMs = timeout.timedOut();
    return { kind: 'retry', reason: `timeout: no answer within ${waited} ms`, timedOut: { afterMs: waited, nextMs, capped: nextMs >= timeout.capMs } };
  } finally {
    clearTimeout(t);
    signal.removeEventListener('abort', forward);
  }
}
