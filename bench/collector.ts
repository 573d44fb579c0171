/**
 * A counting HTTP collector on 127.0.0.1 for the benchmarks: accepts any POST, checks Basic auth
 * when a write key is given, gunzips, and counts messages by their "messageId" keys without
 * parsing the JSON (so the collector's own CPU, on the same 2 cores, stays small). With
 * `parse: true` it parses each body and calls `onMessage` per message (latency runs).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';

const gunzip = promisify(gunzipCb);
const KEY = Buffer.from('"messageId"');

export interface CountingCollectorOptions {
  writeKey?: string;
  /** Parse each body and call onMessage per message of its "batch" (or a JSON-lines body). */
  parse?: boolean;
  onMessage?: (m: Record<string, unknown>, receivedAtMs: number) => void;
  /** Answer every request with this status (e.g. 503 for a collector that is "down"). */
  status?: number;
  /** The key counted once per message (default "messageId"; Snowplow items have "eid"). */
  countKey?: string;
}

/** The write key every benchmark's daemon sends and the collector checks. */
export const WRITE_KEY = 'bench-write-key';

export class CountingCollector {
  messages = 0;
  requests = 0;
  bodyBytes = 0;
  rejected = 0;
  /** performance.now() when the first / latest message arrived. */
  firstAt = 0;
  lastAt = 0;
  url = '';
  private server: Server | undefined;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(private readonly options: CountingCollectorOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Resolves once `n` messages have arrived, or rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<void> {
    if (this.messages >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`collector: ${this.messages} of ${n} messages after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void this.body(req, Buffer.concat(chunks)).then(
        (status) => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status < 300 ? 'OK' : 'error');
        },
        () => {
          res.writeHead(500);
          res.end('error');
        },
      );
    });
  }

  private async body(req: IncomingMessage, raw: Buffer): Promise<number> {
    if (this.options.status !== undefined) return this.options.status;
    if (this.options.writeKey !== undefined) {
      const expected = 'Basic ' + Buffer.from(`${this.options.writeKey}:`).toString('base64');
      if (req.headers.authorization !== expected) {
        this.rejected++;
        return 401;
      }
    }
    const body = req.headers['content-encoding'] === 'gzip' ? await gunzip(raw) : raw;
    const now = performance.now();
    let n = 0;
    if (this.options.parse) {
      const text = body.toString('utf8');
      const json = text.trimStart().startsWith('{"batch"') ? (JSON.parse(text) as { batch: Array<Record<string, unknown>> }).batch : text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      const wall = Date.now();
      for (const m of json) this.options.onMessage?.(m, wall);
      n = json.length;
    } else {
      const key = this.options.countKey === undefined ? KEY : Buffer.from(JSON.stringify(this.options.countKey));
      for (let i = body.indexOf(key); i !== -1; i = body.indexOf(key, i + key.length)) n++;
    }
    this.requests++;
    this.bodyBytes += raw.length;
    if (n > 0) {
      if (this.messages === 0) this.firstAt = now;
      this.lastAt = now;
      this.messages += n;
    }
    this.waiters = this.waiters.filter((w) => (this.messages >= w.n ? (w.resolve(), false) : true));
    return 200;
  }
}
