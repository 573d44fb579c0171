/**
 * A static Iglu registry on 127.0.0.1: serves fixtures/iglu/schemas/... as Iglu Central serves
 * its schemas, 404 for anything else. `down` makes it answer 503, as a registry in an outage.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ROOT } from './daemon.js';

export const IGLU_FIXTURES = path.join(ROOT, 'fixtures/iglu');

export class IgluRegistry {
  url = '';
  down = false;
  /** Paths asked for, in order. */
  readonly asked: string[] = [];
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const p = decodeURIComponent((req.url ?? '').split('?')[0]!);
      this.asked.push(p);
      if (this.down) return void res.writeHead(503).end('down');
      if (!/^\/schemas\/[\w.-]+\/[\w-]+\/jsonschema\/\d+-\d+-\d+$/.test(p)) return void res.writeHead(404).end();
      readFile(path.join(IGLU_FIXTURES, p)).then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body),
        () => res.writeHead(404).end('not found'),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
