/**
 * The operations HTTP server (off unless `server` is configured): GET /metrics (Prometheus
 * text), GET /healthz, GET /readyz, POST /reload. Every body it sends goes through the secret
 * scrubber, so a write key can never leave through a label or an error message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TailshipError } from '../errors.js';
import type { HealthReport } from './health.js';
import type { Logger } from './logger.js';
import type { Scrub } from './redact.js';

export interface ServerHandlers {
  metrics(): Promise<{ contentType: string; body: string }>;
  healthz(): HealthReport;
  readyz(): HealthReport;
  /** Re-reads and applies the config; resolves with what changed or rejects with why not. */
  reload(): Promise<Record<string, unknown>>;
}

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

export async function startServer(listen: string, handlers: ServerHandlers, log: Logger, scrub: Scrub): Promise<OpsServer> {
  const { host, port } = parseListen(listen);
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
      case 'POST /reload':
        try {
          return json(res, 200, { ok: true, ...(await handlers.reload()) });
        } catch (err) {
          const message = err instanceof TailshipError ? `${err.describe()} [${err.code}]` : String(err);
          return json(res, 400, { ok: false, error: message });
        }
      default:
        if (['/metrics', '/healthz', '/readyz', '/reload'].includes(url.pathname)) return json(res, 405, { ok: false, error: `${req.method} not allowed here` });
        return json(res, 404, { ok: false, error: 'not found: try /metrics, /healthz, /readyz or POST /reload' });
    }
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
  log.info({ address }, 'ops server listening: /metrics /healthz /readyz, POST /reload');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
