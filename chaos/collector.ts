/**
 * The chaos suite's collector on 127.0.0.1: speaks the RudderStack batch API, and for each
 * message whose `properties.id` names a written line ("<file>/<n>") keeps the first messageId
 * seen and counts arrivals, so that a run of a million lines stays small in memory. `down`
 * makes it answer 503 (an outage).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export class ChaosCollector {
  /** First messageId per line id. */
  readonly ids = new Map<string, string>();
  /** Arrivals of a line id under a messageId other than its first. */
  conflicts = 0;
  /** Messages accepted in all (duplicates included). */
  arrivals = 0;
  /** Messages without a line id (events made from hostile lines). */
  other = 0;
  down = false;
  url = '';
  private server: Server | undefined;

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
  }

  /** Line ids of `file` 1..n that never arrived. */
  missing(file: string, n: number, among?: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (let i = 1; i <= n; i++) if ((!among || among.has(i)) && !this.ids.has(`${file}/${i}`)) out.push(i);
    return out;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (this.down) {
        res.writeHead(503).end('down for chaos');
        return;
      }
      let raw = Buffer.concat(parts);
      try {
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        const body = JSON.parse(raw.toString()) as { batch?: Array<{ messageId: string; properties?: { id?: unknown } }> };
        for (const m of body.batch ?? []) {
          this.arrivals++;
          const id = m.properties?.id;
          if (typeof id !== 'string' || !/^[\w.-]+\/\d+$/.test(id)) {
            this.other++;
            continue;
          }
          const first = this.ids.get(id);
          if (first === undefined) this.ids.set(id, m.messageId);
          else if (first !== m.messageId) this.conflicts++;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  }
}
