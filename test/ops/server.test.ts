/**
 * The ops server of an in-process daemon: /metrics content after a known run, /healthz,
 * /readyz turning unready while the collector fails and ready again after, POST /reload,
 * and no secret in any body it sends.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { counters } from '../helpers/observer-counters.js';
import { tempDir } from '../helpers/tmp.js';

const WRITE_KEY = 'sk-live-9f8e7d6c5b4a';
const BASIC = Buffer.from(`${WRITE_KEY}:`).toString('base64');

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

function configText(extraTop = ''): string {
  const base = testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url, writeKey: WRITE_KEY });
  return `${extraTop}\nserver: { listen: "127.0.0.1:0", unready_after_failures: 2, unready_after: 0s }\n${base}`;
}

async function start(text = configText(), reloadText?: () => string): Promise<{ base: string; d: Daemon }> {
  const loaded = loadConfigText(text, 'test.yaml', tmp.dir, {});
  daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: loaded.secrets, pretty: false }), {
    ...(reloadText ? { reloadSource: () => loadConfigText(reloadText(), 'test.yaml', tmp.dir, {}) } : {}),
  });
  await daemon.start();
  return { base: `http://${daemon.serverAddress}`, d: daemon };
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** The value of one sample line `name{labels} value` in exposition text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function waitUntil(what: string, pred: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ops server', () => {
  it('fails the start with TAILSHIP_SERVER_LISTEN when the port is taken, before reading anything', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
      const text = configText().replace('127.0.0.1:0', `127.0.0.1:${port}`);
      const loaded = loadConfigText(text, 'test.yaml', tmp.dir, {});
      daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: [], pretty: false }));
      await expect(daemon.start()).rejects.toMatchObject({ code: 'TAILSHIP_SERVER_LISTEN' });
      expect(counters(daemon.observer).get('lines_read')).toBe(0);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('exposes metrics matching a known run', async () => {
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\nnot an nginx line\n' + nginxLine(4, 503) + '\n');
    const { base } = await start();
    await collector.waitFor(() => collector.accepted >= 4, 10_000, '4 messages');
    await waitUntil('queue empty', async () => sample((await get(`${base}/metrics`)).text, 'tailship_queue_rows', { pipeline: 'web' }) === 0);
    const m = await get(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    const t = m.text;
    expect(sample(t, 'tailship_input_lines_total', { pipeline: 'web' })).toBe(5);
    expect(sample(t, 'tailship_input_bytes_total', { pipeline: 'web', file: log })).toBe(Buffer.byteLength(readFileSync(log, 'utf8')));
    expect(sample(t, 'tailship_lines_parsed_total', { pipeline: 'web', outcome: 'ok' })).toBe(4);
    expect(sample(t, 'tailship_lines_parsed_total', { pipeline: 'web', outcome: 'error' })).toBe(1);
    expect(sample(t, 'tailship_dead_letters_total', { pipeline: 'web', reason: 'parse' })).toBe(1);
    expect(sample(t, 'tailship_mapping_outcomes_total', { pipeline: 'web', outcome: 'event' })).toBe(4);
    expect(sample(t, 'tailship_events_queued_total', { pipeline: 'web' })).toBe(4);
    expect(sample(t, 'tailship_output_sent_events_total', { pipeline: 'web', output: 'rudderstack' })).toBe(4);
    // The events' bytes as sent, before gzip: each event is one JSON object in the batch array.
    const sentBytes = collector.requests.flatMap((r) => (r.json as { batch: unknown[] }).batch).reduce((n: number, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    const counted = sample(t, 'tailship_output_sent_event_bytes_total', { pipeline: 'web', output: 'rudderstack' })!;
    expect(counted).toBeGreaterThanOrEqual(sentBytes);
    expect(counted).toBeLessThan(sentBytes + 4 * 64);
    expect(sample(t, 'tailship_queue_events', { pipeline: 'web', output: 'rudderstack' })).toBe(0);
    expect(sample(t, 'tailship_output_requests_total', { output: 'rudderstack', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'tailship_queue_bytes', { pipeline: 'web', output: 'rudderstack' })).toBe(0);
    expect(sample(t, 'tailship_file_lag_bytes', { pipeline: 'web', file: log })).toBe(0);
    expect(sample(t, 'tailship_files_open', { pipeline: 'web' })).toBe(1);
    expect(sample(t, 'tailship_output_request_duration_seconds_count', { pipeline: 'web', output: 'rudderstack' })).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'tailship_store_commit_seconds_count', { pipeline: 'web' })).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'tailship_backpressure_paused')).toBe(0);
    expect(t).toContain('tailship_build_info{');
    expect(t).not.toContain(WRITE_KEY);
    expect(t).not.toContain(BASIC);
  });

  it('shows every counter at zero for its known labels before anything happens, and queued events as a gauge', async () => {
    collector.respond = () => ({ status: 503, body: 'not now' });
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, '');
    const { base } = await start();
    const t0 = (await get(`${base}/metrics`)).text;
    for (const [name, labels] of [
      ['tailship_dead_letters_total', { pipeline: 'web', output: 'rudderstack', reason: 'rejected' }],
      ['tailship_dead_letters_total', { pipeline: 'web', output: 'rudderstack', reason: 'too_large' }],
      ['tailship_dead_letters_total', { pipeline: 'web', output: 'none', reason: 'parse' }],
      ['tailship_output_requests_total', { pipeline: 'web', output: 'rudderstack', status: '4xx' }],
      ['tailship_output_requests_total', { pipeline: 'web', output: 'rudderstack', status: 'error' }],
      ['tailship_output_sent_events_total', { pipeline: 'web', output: 'rudderstack' }],
      ['tailship_output_sent_event_bytes_total', { pipeline: 'web', output: 'rudderstack' }],
      ['tailship_output_retries_total', { pipeline: 'web', output: 'rudderstack' }],
      ['tailship_output_request_duration_seconds_count', { pipeline: 'web', output: 'rudderstack' }],
      ['tailship_queue_events', { pipeline: 'web', output: 'rudderstack' }],
      ['tailship_input_lines_total', { pipeline: 'web' }],
      ['tailship_lines_parsed_total', { pipeline: 'web', outcome: 'error' }],
      ['tailship_reloads_total', { result: 'refused' }],
    ] as const) {
      expect(sample(t0, name, labels), `${name} ${JSON.stringify(labels)}`).toBe(0);
    }
    // The collector refuses (503, retried): the events wait in the queue and the gauge says how many.
    appendFileSync(log, [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\n');
    await waitUntil('3 queued events', async () => sample((await get(`${base}/metrics`)).text, 'tailship_queue_events', { pipeline: 'web', output: 'rudderstack' }) === 3);
    await waitUntil('a refused request counted', async () => sample((await get(`${base}/metrics`)).text, 'tailship_output_requests_total', { pipeline: 'web', output: 'rudderstack', status: '5xx' })! >= 1);
    expect(sample((await get(`${base}/metrics`)).text, 'tailship_queue_events', { pipeline: 'web', output: 'rudderstack' })).toBe(3);
  });

  it('answers /healthz, and /readyz turns unready while the collector fails, ready again after', async () => {
    let failing = false;
    collector.respond = () => (failing ? { status: 503, body: `upstream says no to ${WRITE_KEY}` } : undefined);
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, nginxLine(1) + '\n');
    const { base } = await start();
    expect((await get(`${base}/healthz`)).status).toBe(200);
    await collector.waitFor(() => collector.accepted >= 1, 10_000);
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ ok: true, problems: [] });

    failing = true;
    appendFileSync(log, nginxLine(2) + '\n');
    await waitUntil('unready', async () => (await get(`${base}/readyz`)).status === 503);
    const body = await get(`${base}/readyz`);
    expect(JSON.parse(body.text).problems.join(' ')).toMatch(/output web\/rudderstack failing/);
    expect(body.text).not.toContain(WRITE_KEY);
    expect((await get(`${base}/healthz`)).status).toBe(200);

    failing = false;
    await collector.waitFor(() => collector.accepted >= 2, 15_000);
    await waitUntil('ready again', async () => (await get(`${base}/readyz`)).status === 200);
  });

  it('POST /reload applies a new config and refuses an invalid one', async () => {
    let next = configText();
    const { base, d } = await start(configText(), () => next);
    expect((await get(`${base}/reload`)).status).toBe(405);
    next = 'pipelines: [ {';
    const bad = await get(`${base}/reload`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ ok: false, error: expect.stringContaining('TAILSHIP_CONFIG_INVALID') });
    expect(d.pipelines.map((p) => p.name)).toEqual(['web']);
    next = configText().replace('batch_size: 100', 'batch_size: 50');
    const ok = await get(`${base}/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({ ok: true, restarted: ['web'], added: [], removed: [] });
    const m = (await get(`${base}/metrics`)).text;
    expect(sample(m, 'tailship_reloads_total', { result: 'ok' })).toBe(1);
    expect(sample(m, 'tailship_reloads_total', { result: 'refused' })).toBe(1);
    expect((await get(`${base}/nope`)).status).toBe(404);
  });
});
