/**
 * The path from processing workers to the collector: rows made on worker threads are
 * decompressed, stamped and sent as one gzip stream, rows from before still deliver, a refused
 * stored request is bisected event by event, and the events do not depend on the number of workers.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Store } from '../../src/store/store.js';
import { Collector } from '../helpers/collector.js';
import { gzipMembers } from '../helpers/gzip-members.js';
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

const output = (): string => `
      - type: rudderstack
        url: ${collector.url}
        write_key: wk-1234
        batch_size: 100
        flush_interval: 50ms
        retry: { base: 20ms, cap: 200ms }`;

function writeLines(dir: string, n: number): void {
  writeFileSync(path.join(dir, 'access.log'), Array.from({ length: n }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
}

describe('stored rows', () => {
  it('sends stored rows as one gzip stream, every message stamped with the request sentAt', async () => {
    writeLines(tmp.dir, 500);
    // Like a gateway or proxy whose gunzip stops after the first member: several would be "corrupt".
    collector.respond = (req) => (gzipMembers(req.raw) === 1 ? undefined : { status: 500, body: 'corrupt gzip body' });
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output(), extraTop: '' }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 500, 15_000, '500 messages');
    expect(collector.seen.size).toBe(500);
    for (const req of collector.requests) {
      expect(gzipMembers(req.raw)).toBe(1);
      const body = req.json as { batch: Array<{ sentAt: string }>; sentAt: string };
      expect(body.batch.length).toBeLessThanOrEqual(100);
      for (const m of body.batch) expect(m.sentAt).toBe(body.sentAt);
    }
  });

  it('keeps a body made of stored rows, head, tail and stamps included, within max_batch_bytes', async () => {
    writeLines(tmp.dir, 400);
    const limited = output().replace('batch_size: 100', 'batch_size: 1000\n        max_batch_bytes: 20000');
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: limited }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 400, 15_000, '400 messages');
    const sizes = collector.requests.map((r) => gunzipSync(r.raw).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20_000);
    // Full ones come close to the limit: the rows were cut by bytes, not by count.
    expect(Math.max(...sizes)).toBeGreaterThan(15_000);
  });

  it('bisects a refused stored request down to the one event the collector refuses', async () => {
    writeLines(tmp.dir, 40);
    collector.respond = (req) => {
      const batch = (req.json as { batch: Array<{ properties: { path: string } }> }).batch;
      return batch.some((m) => m.properties.path === '/items/17') ? { status: 400, body: 'bad event' } : undefined;
    };
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output() }), tmp.dir);
    await until(() => daemon!.store.deadLetters.list({}).length === 1 && collector.accepted === 39, 15_000, '39 delivered and 1 dead letter');
    const letter = daemon.store.deadLetters.list({})[0]!;
    expect(letter).toMatchObject({ kind: 'delivery', status: 400 });
    expect(JSON.parse(letter.payload)).toMatchObject({ properties: { path: '/items/17' } });
  });

  it('delivers rows written by earlier versions (raw deflate or TEXT, no max_event_bytes)', async () => {
    const state = path.join(tmp.dir, 'state');
    const store = new Store(state);
    const legacy = ['{"type":"track","messageId":"m-1","event":"A"}', '{"type":"track","messageId":"m-2","event":"B"}'];
    store.commit({ pipeline: 'web', chunks: [{ output: 'rudderstack', fileKey: 'k', startOffset: 0, endOffset: 10, eventCount: 2, bytes: 90, payload: deflateRawSync(legacy.join('\n')) }], deadLetters: [] });
    store.commit({ pipeline: 'web', chunks: [{ output: 'rudderstack', fileKey: 'k', startOffset: 10, endOffset: 20, eventCount: 1, bytes: 45, payload: '{"type":"track","messageId":"m-3","event":"C"}' }], deadLetters: [] });
    store.close();
    daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: output() }), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 15_000, 'the three legacy messages');
    expect([...collector.seen.keys()].sort()).toEqual(['m-1', 'm-2', 'm-3']);
  });
});

describe('processing workers', () => {
  /**
   * Runs the pipeline once over the same file with `workers`, returning the messages by their
   * line's offset (the messageId's last group; its first groups hash the run's random file key).
   */
  async function shipOnce(workers: number, logDir: string): Promise<Map<string, unknown>> {
    const c = await new Collector({ writeKey: 'wk-1234' }).start();
    const dir = tempDir();
    try {
      const yaml = pipelineYaml({ dir: logDir, outputs: output().replace(collector.url, c.url) })
        .replace(JSON.stringify(path.join(logDir, 'state')), JSON.stringify(path.join(dir.dir, 'state')))
        .replace('    parser: { type: nginx, format: combined }', `    parser: { type: nginx, format: combined }\n    workers: ${workers}`);
      const d = await startDaemon(yaml, dir.dir, { once: true });
      await d.finished();
      await d.stop();
      return new Map(c.messages.map((m) => [m.messageId.split('-').pop()!, { ...m, messageId: undefined, sentAt: undefined }]));
    } finally {
      await c.stop();
      dir.cleanup();
    }
  }

  it('makes the same events for the same lines on the main thread and on 3 workers', async () => {
    writeLines(tmp.dir, 3_000);
    const inline = await shipOnce(0, tmp.dir);
    const pooled = await shipOnce(3, tmp.dir);
    expect(inline.size).toBe(3_000);
    expect([...pooled.keys()].sort()).toEqual([...inline.keys()].sort());
    for (const [line, m] of inline) expect(pooled.get(line)).toEqual(m);
  });

  it('a processing thread that dies on a line is replaced: that line is a dead letter, the others are delivered, the daemon goes on', async () => {
    // A plugin that ends its thread (process.exit in a worker ends only that worker).
    writeFileSync(path.join(tmp.dir, 'exit-plugin.mjs'), `export default { parse(line) { if (line.includes('/items/30?')) process.exit(3); return { line }; } };`);
    writeLines(tmp.dir, 40);
    const rules = `
      - type: track
        event: "Line"
        anonymousId: "a"
        properties: { line: "{{ line }}" }`;
    const yaml = pipelineYaml({ dir: tmp.dir, outputs: output(), rules }).replace(
      '    parser: { type: nginx, format: combined }',
      '    parser: { module: ./exit-plugin.mjs }\n    workers: 1',
    );
    const fatal: unknown[] = [];
    daemon = await startDaemon(yaml, tmp.dir, { onFatal: (err) => fatal.push(err) });
    await until(() => collector.accepted >= 39, 15_000, 'the other 39 lines');
    expect(fatal).toEqual([]);
    const letters = daemon.store.deadLetters.list({ pipeline: 'web' });
    expect(letters.map((l) => l.payload)).toEqual([expect.stringContaining('/items/30?')]);
    expect(letters[0]!.reason).toContain('processing worker died (exited with code 3)');
    expect(collector.messages.map((m) => (m as unknown as { properties: { line: string } }).properties.line).some((l) => l.includes('/items/30?'))).toBe(false);
  });

  it('fails at start-up, not at the first line, when a worker cannot build the pipeline', async () => {
    // Loads on the main thread (where the config is checked), refuses in a worker thread.
    writeFileSync(
      path.join(tmp.dir, 'main-only.mjs'),
      `import { isMainThread } from 'node:worker_threads';\nif (!isMainThread) throw new Error('this plugin needs the main thread');\nexport default { parse(line) { return { line }; } };`,
    );
    writeLines(tmp.dir, 5);
    const yaml = pipelineYaml({ dir: tmp.dir, outputs: output() }).replace('    parser: { type: nginx, format: combined }', '    parser: { module: ./main-only.mjs }\n    workers: 1');
    await expect(startDaemon(yaml, tmp.dir)).rejects.toMatchObject({
      code: 'TAILSHIP_WORKER_FAILED',
      message: expect.stringMatching(/processing worker could not start: .*this plugin needs the main thread/),
    });
  });

  it('a processing thread stuck on a line fails /healthz, and stopping does not wait for it forever', async () => {
    writeFileSync(path.join(tmp.dir, 'stuck-plugin.mjs'), `export default { parse(line) { if (line.includes('/items/3?')) for (;;) {} return { line }; } };`);
    writeLines(tmp.dir, 10);
    const rules = `
      - type: track
        event: "Line"
        anonymousId: "a"
        properties: { line: "{{ line }}" }`;
    const yaml = pipelineYaml({ dir: tmp.dir, outputs: output(), rules, extraTop: 'server: { listen: "127.0.0.1:0" }' }).replace(
      '    parser: { type: nginx, format: combined }',
      '    parser: { module: ./stuck-plugin.mjs }\n    workers: 1',
    );
    daemon = await startDaemon(yaml, tmp.dir, { livenessLimitMs: 500, onFatal: () => undefined });
    const healthz = async (): Promise<{ status: number; body: string }> => {
      const res = await fetch(`http://${daemon!.serverAddress}/healthz`);
      return { status: res.status, body: await res.text() };
    };
    let last = await healthz();
    const deadline = Date.now() + 10_000;
    while (last.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      last = await healthz();
    }
    expect(last.status).toBe(503);
    expect(last.body).toMatch(/pipeline web: one read has been processing for/);
    const stopped = Date.now();
    await daemon.stop();
    daemon = undefined;
    expect(Date.now() - stopped).toBeLessThan(15_000);
  }, 30_000);
});
