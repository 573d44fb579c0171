/**
 * What operators look at, on an in-process daemon with a real collector: /api/status figures
 * and history, /api/tap (filters, rate limit, a slow viewer loses events without holding the
 * pipeline, viewers detached when they go), the auth token, read-only routes, and no secret in
 * any of it.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import type { LiveStatus } from '../../src/ops/live-status.js';
import { createLogger } from '../../src/ops/logger.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';

const WRITE_KEY = 'sk-live-live-status-4242';
const TOKEN = 'ops-token-0123456789abcdef';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: WRITE_KEY }).start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

async function start(server = 'listen: "127.0.0.1:0"'): Promise<string> {
  const text = `server: { ${server} }\n` + testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url, writeKey: WRITE_KEY });
  const loaded = loadConfigText(text, 'test.yaml', tmp.dir, {});
  daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: loaded.secrets, pretty: false }));
  await daemon.start();
  return `http://${daemon.serverAddress}`;
}

async function waitUntil<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function status(base: string, history = false, headers: Record<string, string> = {}): Promise<LiveStatus> {
  const res = await fetch(`${base}/api/status${history ? '?history=1' : ''}`, { headers });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).not.toContain(WRITE_KEY);
  return JSON.parse(text) as LiveStatus;
}

/** Reads NDJSON lines from /api/tap until `enough` says so; the connection is closed after. */
async function tapLines(url: string, enough: (lines: Array<Record<string, unknown>>) => boolean, init?: RequestInit): Promise<Array<Record<string, unknown>>> {
  const ac = new AbortController();
  const res = await fetch(url, { ...init, signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-ndjson');
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  const timeout = setTimeout(() => ac.abort(), 20_000);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += Buffer.from(chunk).toString();
      const parts = rest.split('\n');
      rest = parts.pop()!;
      for (const p of parts) if (p) lines.push(JSON.parse(p) as Record<string, unknown>);
      if (enough(lines)) break;
    }
  } finally {
    clearTimeout(timeout);
    ac.abort();
  }
  return lines;
}

describe('status and tap', () => {
  it('/api/status shows files, outputs, dead letters, process figures and history', async () => {
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\nnot an nginx line\n');
    const base = await start();
    await collector.waitFor(() => collector.accepted >= 3, 15_000, '3 messages');
    const s = await waitUntil('the delivery in the status', async () => {
      const x = await status(base, true);
      return x.outputs[0]?.eventsSent === 3 && x.deadLetters.latest.length === 1 && x.history!.t.length >= 2 ? x : undefined;
    });
    expect(s.pipelines).toHaveLength(1);
    const p = s.pipelines[0]!;
    expect(p).toMatchObject({ name: 'web', linesRead: 4, deadLetters: { parse: 1, mapping: 0 } });
    expect(p.files).toEqual([expect.objectContaining({ path: log, state: 'tailing', lagBytes: 0, linesBehindEstimate: 0 })]);
    expect(s.outputs[0]).toMatchObject({ pipeline: 'web', output: 'rudderstack', queue: { events: 0, rows: 0, bytes: 0, oldestAgeSec: null }, retries: 0, lastError: null });
    expect(s.deadLetters.latest[0]).toMatchObject({ pipeline: 'web', kind: 'parse', reason: expect.stringContaining('does not match') });
    expect(s.process.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(s.process.cpuPercent).toBeGreaterThanOrEqual(0);
    const h = s.history!;
    expect(h.intervalSec).toBe(2);
    expect(h.lagBytes[`web/${log}`]).toHaveLength(h.t.length);
    expect(h.deliveredPerSec['web/rudderstack']).toHaveLength(h.t.length);
    expect(h.queueBytes['web/rudderstack']!.at(-1)).toBe(0);
  });

  it('/api/status: the lag of a file behind, the last error of a failing output, scrubbed', async () => {
    collector.respond = () => ({ status: 503, body: `upstream refuses ${WRITE_KEY}` });
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, nginxLine(1) + '\n');
    const base = await start();
    const s = await waitUntil('a retry in the status', async () => {
      const x = await status(base);
      return x.outputs[0] && x.outputs[0].retries > 0 && x.outputs[0].queue.events === 1 ? x : undefined;
    });
    expect(s.outputs[0]!.lastError).toContain('503');
    expect(s.outputs[0]!.consecutiveFailures).toBeGreaterThan(0);
    expect(s.outputs[0]!.queue.oldestAgeSec).toBeGreaterThanOrEqual(0);
  });

  it('/api/tap streams mapped events with their lines, filtered by rule and type; counts what it does not show', async () => {
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, '');
    const base = await start();
    expect(daemon!.tap.viewerCount).toBe(0);
    let n = 0;
    const writer = setInterval(() => {
      appendFileSync(log, Array.from({ length: 20 }, () => nginxLine(++n, n % 5 === 0 ? 503 : 200)).join('\n') + '\n');
    }, 50);
    try {
      // Rule 0 is the "Server Error" track of status >= 500.
      const errors = await tapLines(`${base}/api/tap?rule=0&rate=1000`, (l) => l.filter((x) => x.kind === 'event').length >= 3);
      for (const e of errors.filter((x) => x.kind === 'event')) {
        expect(e).toMatchObject({ pipeline: 'web', file: log, rule: 0, type: 'track', event: { type: 'track', event: 'Server Error' } });
        expect(e.line).toMatch(/" 503 /);
        expect(typeof e.offset).toBe('number');
      }
      const tracks = await tapLines(`${base}/api/tap?type=identify`, (l) => l.filter((x) => x.kind === 'stats').length >= 2);
      expect(tracks.filter((x) => x.kind === 'event')).toEqual([]);
      // A rate of 1 a second: the rest are counted in the stats line.
      const limited = await tapLines(`${base}/api/tap?rate=1`, (l) => l.some((x) => x.kind === 'stats' && (x.dropped as { rate: number }).rate > 0));
      const stats = limited.filter((x) => x.kind === 'stats').at(-1) as { sent: number; dropped: { rate: number } };
      expect(stats.dropped.rate).toBeGreaterThan(0);
      expect(stats.sent).toBeLessThanOrEqual(3);
    } finally {
      clearInterval(writer);
    }
    await waitUntil('viewers detached', async () => (daemon!.tap.viewerCount === 0 ? true : undefined));
    const bad = await fetch(`${base}/api/tap?type=click`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('type: \\"click\\" is not a call type');
    expect((await fetch(`${base}/api/tap?pipeline=nope`)).status).toBe(400);
  });

  it('a viewer that does not read loses events (counted), and the pipeline keeps delivering', async () => {
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, '');
    const base = await start();
    // A raw connection that never reads its socket: the server's buffer for it fills.
    const { host, port } = new URL(base);
    const req = request({ host: host.split(':')[0], port, path: '/api/tap?rate=1000', method: 'GET' });
    req.on('response', (res) => res.pause());
    req.end();
    await waitUntil('the viewer attached', async () => (daemon!.tap.viewerCount === 1 ? true : undefined));
    const big = 'x'.repeat(2000);
    let n = 0;
    const before = collector.accepted;
    const writer = setInterval(() => appendFileSync(log, Array.from({ length: 50 }, () => nginxLine(++n).replace('Chrome/122.0', big)).join('\n') + '\n'), 20);
    try {
      await collector.waitFor(() => collector.accepted - before >= 3000, 60_000, '3000 delivered while a viewer does not read');
      await waitUntil('events dropped for the slow viewer', async () => ((daemon!.tap.viewerStats()[0]?.dropped.slow ?? 0) > 0 ? true : undefined));
    } finally {
      clearInterval(writer);
    }
    req.destroy();
    await waitUntil('the viewer detached', async () => (daemon!.tap.viewerCount === 0 ? true : undefined));
  });

  it('with server.auth_token, /api/status and /api/tap need the bearer token; the page, metrics and health do not', async () => {
    writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
    const base = await start(`listen: "127.0.0.1:0", auth_token: "${TOKEN}"`);
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/api/tap`)).status).toBe(401);
    const s = await status(base, false, { authorization: `Bearer ${TOKEN}` });
    expect(s.pipelines[0]!.name).toBe('web');
    expect(JSON.stringify(s)).not.toContain(TOKEN);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script src="status.js">');
    expect((await fetch(`${base}/status.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Read-only: nothing but GET.
    for (const p of ['/', '/api/status', '/api/tap']) expect((await fetch(`${base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });
});
