/**
 * RudderStack and Segment wire format against the real loopback collector: path, Basic auth,
 * gzip on/off, sentAt per attempt, context.library; each protocol's defaults and size limits
 * (schema caps, oversize message → dead letter, requests within max_batch_bytes).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText, pipelineOutputs } from '../../src/config/load.js';
import type { Daemon } from '../../src/daemon.js';
import { createDestination } from '../../src/emit/registry.js';
import { TailshipError } from '../../src/errors.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'wk-1234' }).start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

function output(type: 'rudderstack' | 'segment', extra = ''): string {
  return `
      - type: ${type}
        url: ${collector.url}
        write_key: wk-1234
        batch_size: 50
        flush_interval: 50ms
        retry: { base: 20ms, cap: 200ms }
${extra}`;
}

function writeLines(n: number, line: (i: number) => string = nginxLine): void {
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: n }, (_, i) => line(i + 1)).join('\n') + '\n');
}

const AUTH = 'Basic ' + Buffer.from('wk-1234:').toString('base64');

describe('rudderstack', () => {
  it('gzips by default: POST /v1/batch, Basic auth, full context in every message', async () => {
    writeLines(3);
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('rudderstack') }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    const req = collector.requests[0]!;
    expect(req.path).toBe('/v1/batch');
    expect(req.headers.authorization).toBe(AUTH);
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(gunzipSync(req.raw).toString())).toEqual(req.json);
    const body = req.json as { batch: Array<Record<string, unknown>>; sentAt: string };
    expect(Object.keys(body).sort()).toEqual(['batch', 'sentAt']);
    for (const m of body.batch) {
      expect(m).toMatchObject({ type: 'track', channel: 'server', context: { library: { name: 'tailship' }, ip: expect.any(String) } });
      expect(typeof m.originalTimestamp).toBe('string');
    }
  });

  it('sends plain JSON with gzip: false', async () => {
    writeLines(2);
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('rudderstack', '        gzip: false') }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 2, 10_000);
    const req = collector.requests[0]!;
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(req.raw.toString('utf8'))).toEqual(req.json);
  });

  it('stamps sentAt again on each attempt', async () => {
    let n = 0;
    collector.respond = () => (n++ < 2 ? { status: 503 } : undefined);
    writeLines(1);
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('rudderstack') }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 1, 10_000);
    const sent = collector.requests.map((r) => Date.parse((r.json as { sentAt: string }).sentAt));
    expect(sent.length).toBe(3);
    expect(sent[2]!).toBeGreaterThan(sent[0]!);
    // The same message each time (same messageId), only sentAt moves.
    const ids = collector.requests.map((r) => (r.json as { batch: Array<{ messageId: string }> }).batch[0]!.messageId);
    expect(new Set(ids).size).toBe(1);
  });

  it('dead-letters a message over max_message_bytes (32 KB by default) and delivers the rest', async () => {
    const huge = 'x'.repeat(40_000);
    writeLines(5, (i) => (i === 3 ? nginxLine(i).replace('Chrome/122.0', huge) : nginxLine(i)));
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('rudderstack') }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 4, 10_000);
    await until(() => daemon!.store.deadLetters.counts().length > 0, 5_000, 'dead letter');
    const [letter] = daemon.store.deadLetters.list({});
    expect(letter!.reason).toContain('max_message_bytes (32768)');
    expect(letter!.payload).toContain(huge);
    expect(collector.messages.map((m) => (m.properties as { path: string }).path).sort()).toEqual(['/items/1', '/items/2', '/items/4', '/items/5']);
  });

  it('keeps each request within max_batch_bytes (uncompressed)', async () => {
    writeLines(200);
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('rudderstack', '        max_batch_bytes: 8KB') }), tmp.dir);
    await collector.waitFor(() => collector.seen.size >= 200, 15_000);
    for (const r of collector.requests) {
      const batch = (r.json as { batch: unknown[] }).batch;
      expect(JSON.stringify(batch).length).toBeLessThanOrEqual(8000 + 1);
    }
    expect(collector.requests.length).toBeGreaterThan(200 / 50);
  });
});

describe('segment', () => {
  it('defaults: api.segment.io, plain JSON, 480 KiB batches, 32 KB messages', async () => {
    const loaded = loadConfigText(
      pipelineYaml({ dir: tmp.dir, outputs: '      - type: segment\n        write_key: wk-1234' }),
      'test.yaml',
      tmp.dir,
      {},
    );
    const [o] = pipelineOutputs(loaded.config.pipelines[0]!);
    expect(o).toMatchObject({ type: 'segment', url: 'https://api.segment.io', gzip: false, max_batch_bytes: 491_520, max_message_bytes: 32_768 });
    const dest = await createDestination(o!);
    expect(dest.limits).toMatchObject({ maxBytes: 491_520, maxMessageBytes: 32_768 });
    void dest.close();
  });

  it('posts plain JSON to a regional host with Basic auth', async () => {
    writeLines(3);
    // The collector stands in for e.g. https://events.eu1.segmentapis.com.
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output('segment') }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    const req = collector.requests[0]!;
    expect(req.path).toBe('/v1/batch');
    expect(req.headers.authorization).toBe(AUTH);
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(Date.parse((req.json as { sentAt: string }).sentAt)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('size limits in the schema', () => {
  const load = (type: string, extra: string) =>
    loadConfigText(pipelineYaml({ dir: tmp.dir, outputs: `      - type: ${type}\n        url: http://127.0.0.1:1\n        write_key: k\n${extra}` }), 'test.yaml', tmp.dir, {});
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (err) {
      return err instanceof TailshipError ? err.code : String(err);
    }
  };

  it('lets RudderStack go up to 4 MB per batch and below 4 MB per message', () => {
    expect(code(() => load('rudderstack', '        max_batch_bytes: 4000000\n        max_message_bytes: 3MB'))).toBeUndefined();
    expect(code(() => load('rudderstack', '        max_batch_bytes: 5MB'))).toBe('TAILSHIP_CONFIG_INVALID');
    expect(code(() => load('rudderstack', '        max_message_bytes: 4MB'))).toBe('TAILSHIP_CONFIG_INVALID');
  });

  it('holds Segment to 500 KB batches and 32 KB messages', () => {
    expect(code(() => load('segment', '        max_batch_bytes: 500KB'))).toBeUndefined();
    expect(code(() => load('segment', '        max_batch_bytes: 600KB'))).toBe('TAILSHIP_CONFIG_INVALID');
    expect(code(() => load('segment', '        max_message_bytes: 64KiB'))).toBe('TAILSHIP_CONFIG_INVALID');
  });
});
