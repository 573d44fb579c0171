/**
 * Transport options against real loopback servers: an HTTPS collector whose certificate is
 * signed by a CA made for the test (openssl CLI), trusted only through `ca_file`; a local HTTP
 * CONNECT proxy given as `proxy` or through HTTPS_PROXY; the request timeout.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from './harness.js';

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

let certs: ReturnType<typeof tempDir>;
let caFile = '';
let serverTls: { key: string; cert: string };

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it. */
function makeCerts(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tailship test CA']);
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  caFile = path.join(dir, 'ca.pem');
  serverTls = { key: readFileSync(path.join(dir, 'server.key'), 'utf8'), cert: readFileSync(path.join(dir, 'server.pem'), 'utf8') };
}

/** A minimal HTTP proxy that only tunnels (CONNECT), recording each target. */
class ConnectProxy {
  readonly targets: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  url = '';
  async start(): Promise<this> {
    this.server = createServer((_req, res) => res.writeHead(405).end());
    this.server.on('connect', (req, client: Socket, head: Buffer) => {
      this.targets.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = netConnect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;
let proxy: ConnectProxy | undefined;
const savedEnv = { ...process.env };

beforeAll(() => {
  certs = tempDir('tailship-certs-');
  if (hasOpenssl) makeCerts(certs.dir);
});
afterAll(() => certs.cleanup());

beforeEach(() => {
  tmp = tempDir();
  writeFileSync(path.join(tmp.dir, 'access.log'), [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\n');
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector?.stop();
  await proxy?.stop();
  proxy = undefined;
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  tmp.cleanup();
});

function output(extra: string): string {
  return `
      - type: rudderstack
        url: ${collector.url}
        write_key: wk
        batch_size: 50
        flush_interval: 50ms
        retry: { base: 20ms, cap: 200ms }
${extra}`;
}

describe.skipIf(!hasOpenssl)('TLS and proxy', () => {
  it('trusts the collector through ca_file', async () => {
    collector = await new Collector({ tls: serverTls }).start();
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output(`        ca_file: ${caFile}`) }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    expect(collector.url.startsWith('https://')).toBe(true);
  });

  it('refuses (and keeps retrying, nothing lost) a certificate it cannot verify', async () => {
    collector = await new Collector({ tls: serverTls }).start();
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('') }), tmp.dir);
    const emitter = daemon.emitters[0]!;
    await until(() => emitter.consecutiveFailures >= 2, 10_000, 'failed TLS handshakes');
    expect(emitter.lastError).toMatch(/network: .*(CERT|SIGN|VERIFY|ISSUER)/i);
    expect(collector.requests).toHaveLength(0);
    expect(daemon.store.deadLetters.counts()).toEqual([]);
    expect(daemon.store.queue.depthByOutput()[0]!.events).toBe(3);
  });

  it('goes through the proxy given in the config (CONNECT tunnel, TLS inside)', async () => {
    collector = await new Collector({ tls: serverTls }).start();
    proxy = await new ConnectProxy().start();
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output(`        ca_file: ${caFile}\n        proxy: ${proxy.url}`) }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    expect(proxy.targets).toContain(collector.url.replace('https://', ''));
  });

  it('goes through HTTPS_PROXY from the environment', async () => {
    collector = await new Collector({ tls: serverTls }).start();
    proxy = await new ConnectProxy().start();
    process.env.HTTPS_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output(`        ca_file: ${caFile}`) }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    expect(proxy.targets).toContain(collector.url.replace('https://', ''));
  });

  it('skips HTTPS_PROXY for hosts in NO_PROXY', async () => {
    collector = await new Collector({ tls: serverTls }).start();
    proxy = await new ConnectProxy().start();
    process.env.HTTPS_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output(`        ca_file: ${caFile}`) }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    expect(proxy.targets).toEqual([]);
  });
});

it('gives up on a request after `timeout` and tries again', async () => {
  collector = await new Collector().start();
  // The first answer would take far longer than the test; only a timeout gets past it.
  collector.respond = (req) => (req.n === 0 ? { status: 503, delayMs: 60_000 } : undefined);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('        timeout: 300ms\n        concurrency: 1') }), tmp.dir);
  await collector.waitFor(() => collector.accepted >= 3, 15_000);
  expect(collector.requests.length).toBeGreaterThanOrEqual(2);
});
