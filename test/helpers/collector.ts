/**
 * A real HTTP collector on 127.0.0.1 for tests and benchmarks. It speaks the RudderStack /
 * Segment batch API (checks Basic auth, gunzips, parses the batch and records every message) and
 * Snowplow's tp2 POST and `/i` GET.
 * `respond` decides the answer per request, to script outages (503, 429 + Retry-After, 400...).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { scaled } from './time.js';

export interface RecordedMessage {
  [key: string]: unknown;
  messageId: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this long (a slow collector). */
  delayMs?: number;
}

export interface RequestInfo {
  n: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, when it parsed. */
  json: unknown;
  raw: Buffer;
}

export interface CollectorOptions {
  writeKey?: string;
  /** Answer per request; default 200. Messages are recorded only for 2xx answers. */
  respond?: (req: RequestInfo) => Answer | undefined;
  /** Keep every message and request (default); off for benchmarks and big tests that only count. */
  keep?: boolean;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export class Collector {
  readonly messages: RecordedMessage[] = [];
  readonly requests: RequestInfo[] = [];
  /** Count of messages accepted (2xx) per messageId. */
  readonly seen = new Map<string, number>();
  accepted = 0;
  /** Requests being answered right now, and the most there ever were at once. */
  inflight = 0;
  maxInflight = 0;
  private server: Server | undefined;
  url = '';
  respond: NonNullable<CollectorOptions['respond']>;

  constructor(private readonly options: CollectorOptions = {}) {
    this.respond = options.respond ?? (() => undefined);
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = this.options.tls ? createTlsServer(this.options.tls, handler) : createServer(handler);
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Resolves when `predicate` holds, polling; rejects after `timeoutMs` (scaled, helpers/time.ts). */
  async waitFor(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    timeoutMs = scaled(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (accepted ${this.accepted} messages)`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const reply = (a: Answer): void => {
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? (a.status < 300 ? 'OK' : 'error'));
      };
      if (this.options.writeKey !== undefined) {
        const expected = 'Basic ' + Buffer.from(`${this.options.writeKey}:`).toString('base64');
        if (req.headers.authorization !== expected) return reply({ status: 401, body: 'Invalid Write Key' });
      }
      let text: string;
      try {
        text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      } catch {
        return reply({ status: 500, body: 'corrupt gzip' });
      }
      let json: unknown;
      if (req.method === 'GET' && req.url?.startsWith('/i?')) {
        // A Snowplow GET: one payload_data item in the query string, recorded as a POST body would be.
        json = { data: [Object.fromEntries(new URLSearchParams(req.url.slice(3)))] };
      } else {
        try {
          json = JSON.parse(text);
        } catch {
          return reply({ status: 400, body: 'Invalid JSON' });
        }
      }
      const info: RequestInfo = { n: this.requests.length, method: req.method ?? '', path: req.url ?? '', headers: req.headers, json, raw };
      if (this.options.keep !== false) this.requests.push(info);
      const answer = this.respond(info) ?? { status: 200 };
      const finish = (): void => {
        this.inflight--;
        if (answer.status >= 200 && answer.status < 300) this.record(json);
        reply(answer);
      };
      this.inflight++;
      this.maxInflight = Math.max(this.maxInflight, this.inflight);
      if (answer.delayMs) setTimeout(finish, answer.delayMs).unref();
      else finish();
    });
  }

  private record(json: unknown): void {
    const batch = (json as { batch?: unknown[]; data?: unknown[] }).batch ?? (json as { data?: unknown[] }).data ?? [];
    for (const m of batch as RecordedMessage[]) {
      const id = m.messageId ?? (m as { eid?: string }).eid ?? '';
      this.accepted++;
      this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
      if (this.options.keep !== false) this.messages.push(m);
    }
  }
}
