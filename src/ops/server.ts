/**
 * The operations HTTP server (off unless `server` is configured): GET /metrics (Prometheus
 * text), GET /healthz, GET /readyz, POST /reload, and what operators look at: the status page
 * (GET /), its figures (GET /api/status, what `tailship top` reads) and the live events
 * (GET /api/tap, NDJSON, what `tailship tap` reads). Those three only read; with
 * `server.auth_token` set, /api/status and /api/tap need it as a bearer token. Every body it
 * sends goes through the secret scrubber, so a write key can never leave through a label or
 * an error message.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TailshipError } from '../errors.js';
import type { HealthReport } from './health.js';
import type { LiveStatus } from './live-status.js';
import type { Logger } from './logger.js';
import { pageAsset } from './page.js';
import type { Scrub } from './redact.js';
import { parseTapQuery } from './tap-query.js';
import type { TapHub } from './tap.js';

export interface ServerHandlers {
  metrics(): Promise<{ contentType: string; body: string }>;
  healthz(): HealthReport;
  readyz(): HealthReport;
  /** Re-reads and applies the config; resolves with what changed or rejects with why not. */
  reload(): Promise<Record<string, unknown>>;
  /** The figures of the status page and `tailship top`. */
  status(withHistory: boolean): LiveStatus;
  readonly tap: TapHub;
}

export interface ServerOptions {
  /** When set, /api/status and /api/tap answer 401 without `Authorization: Bearer <token>`. */
  readonly authToken?: string | undefined;
}

/** A viewer whose connection holds this much unsent data loses the next events (counted). */
const TAP_MAX_BUFFERED = 256 * 1024;
/** How often a tap stream gets a stats line (sent and dropped so far), which also keeps it alive. */
const TAP_STATS_MS = 1_000;

export interface OpsServer {
  /** host:port actually bound (the port is known even when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

/** "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464" → host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', `server.listen: expected host:port such as 127.0.0.1:9464, got ${JSON.stringify(listen)}`, { path: 'server.listen' });
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startServer(listen: string, handlers: ServerHandlers, log: Logger, scrub: Scrub, options: ServerOptions = {}): Promise<OpsServer> {
  const { host, port } = parseListen(listen);
  const token = options.authToken ? Buffer.from(`Bearer ${options.authToken}`) : undefined;
  const authorized = (req: IncomingMessage): boolean => {
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === token.length && timingSafeEqual(given, token);
  };
  const taps = new Set<ServerResponse>();
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    const text = scrub(body);
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  };
  const json = (res: ServerResponse, status: number, value: unknown): void => send(res, status, 'application/json', JSON.stringify(value) + '\n');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /metrics': {
        const m = await handlers.metrics();
        return send(res, 200, m.contentType, m.body);
      }
      case 'GET /healthz': {
        const h = handlers.healthz();
        return json(res, h.ok ? 200 : 503, h);
      }
      case 'GET /readyz': {
        const r = handlers.readyz();
        return json(res, r.ok ? 200 : 503, r);
      }
      case 'GET /':
      case 'GET /index.html':
      case 'GET /status.js':
      case 'GET /status.css': {
        // The page itself holds no figures: it asks /api/status with the token the user gives it.
        const asset = pageAsset(url.pathname === '/' ? '/index.html' : url.pathname);
        res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        return void res.end(asset.body);
      }
      case 'GET /api/status':
        if (!authorized(req)) return unauthorized(res);
        return json(res, 200, handlers.status(url.searchParams.get('history') === '1'));
      case 'GET /api/tap': {
        if (!authorized(req)) return unauthorized(res);
        const parsed = parseTapQuery(url.searchParams, handlers.tap);
        if ('error' in parsed) return json(res, 400, { ok: false, error: parsed.error });
        return streamTap(req, res, parsed.request);
      }
      case 'POST /reload':
        try {
          return json(res, 200, { ok: true, ...(await handlers.reload()) });
        } catch (err) {
          const message = err instanceof TailshipError ? `${err.describe()} [${err.code}]` : String(err);
          return json(res, 400, { ok: false, error: message });
        }
      default:
        if (['/', '/index.html', '/status.js', '/status.css', '/api/status', '/api/tap', '/metrics', '/healthz', '/readyz', '/reload'].includes(url.pathname)) {
          return json(res, 405, { ok: false, error: `${req.method} not allowed here` });
        }
        return json(res, 404, { ok: false, error: 'not found: try /, /api/status, /api/tap, /metrics, /healthz, /readyz or POST /reload' });
    }
  };

  const unauthorized = (res: ServerResponse): void => {
    res.setHeader('www-authenticate', 'Bearer realm="tailship"');
    json(res, 401, { ok: false, error: 'this server needs its auth_token: Authorization: Bearer <token>' });
  };

  /** NDJSON until the viewer goes away; a viewer that reads slowly loses events, never the pipeline. */
  const streamTap = (req: IncomingMessage, res: ServerResponse, request: Parameters<TapHub['attach']>[0]): void => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    taps.add(res);
    const viewer = handlers.tap.attach(request, (line) => {
      if (res.writableLength > TAP_MAX_BUFFERED || res.destroyed) return false;
      res.write(scrub(line));
      return true;
    });
    const stats = setInterval(() => viewer.writeStats(), TAP_STATS_MS);
    const end = (): void => {
      clearInterval(stats);
      handlers.tap.detach(viewer);
      taps.delete(res);
    };
    req.socket.on('close', end);
    res.on('close', end);
  };

  const server: Server = createServer((req, res) => {
    // The request body is never needed; drain it so keep-alive connections stay usable.
    req.resume();
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'ops server: request failed');
      if (!res.headersSent) json(res, 500, { ok: false, error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new TailshipError('TAILSHIP_SERVER_LISTEN', `cannot listen on ${listen}: ${err.code ?? err.message}`, { path: 'server.listen' })),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  log.info({ address }, 'ops server listening: / (status page), /api/status, /api/tap, /metrics, /healthz, /readyz, POST /reload');
  if (!token && !isLoopback(host)) log.warn({ address }, 'ops server reachable beyond this host without server.auth_token: the status page, /api/status and /api/tap are open to anyone who can connect');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of taps) res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
