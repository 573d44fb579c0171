/**
 * End to end in one process: lines appended to a real file arrive at a real loopback collector
 * as correct RudderStack batch messages (Basic auth, gzip, sentAt, deterministic messageIds).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { nginxLine, testConfig, type TestConfigOptions } from '../helpers/config.js';
import { counters } from '../helpers/observer-counters.js';
import { useTestBed } from '../helpers/test-bed.js';

const bed = useTestBed({ writeKey: 'test-write-key' });

async function startDaemon(extra: Partial<TestConfigOptions> = {}): Promise<Daemon> {
  const text = testConfig({ stateDir: path.join(bed.tmp.dir, 'state'), logGlob: path.join(bed.tmp.dir, '*.log'), url: bed.collector.url, ...extra });
  const loaded = loadConfigText(text, 'test.yaml', bed.tmp.dir, {});
  bed.daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: loaded.secrets, pretty: false }));
  await bed.daemon.start();
  return bed.daemon;
}

describe('nginx → RudderStack end to end', () => {
  it('delivers appended lines as RudderStack batch messages', async () => {
    const log = path.join(bed.tmp.dir, 'access.log');
    writeFileSync(log, nginxLine(1) + '\n');
    await startDaemon();
    appendFileSync(log, [nginxLine(2), nginxLine(3, 503)].join('\n') + '\n');
    await bed.collector.waitFor(() => bed.collector.accepted >= 3, 10_000, '3 messages');

    const req = bed.collector.requests[0]!;
    expect(req.path).toBe('/v1/batch');
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Basic ' + Buffer.from('test-write-key:').toString('base64'));
    const body = req.json as { sentAt: string; batch: unknown[] };
    expect(Date.parse(body.sentAt)).toBeGreaterThan(Date.now() - 60_000);

    const byPath = new Map(bed.collector.messages.map((m) => [(m.properties as { path: string }).path, m]));
    expect(byPath.get('/items/2')).toMatchObject({
      type: 'track',
      event: 'Page Requested',
      userId: 'u-2',
      anonymousId: '203.0.113.2',
      originalTimestamp: '2025-03-12T14:05:02.000Z',
      channel: 'server',
      properties: { path: '/items/2', status: 200, bytes: 2 },
      context: { ip: '203.0.113.2', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0', library: { name: 'tailship' } },
    });
    expect(byPath.get('/items/3')).toMatchObject({ event: 'Server Error', properties: { status: 503 } });
    for (const m of bed.collector.messages) expect(m.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(bed.collector.messages.map((m) => m.messageId)).size).toBe(3);
  });

  it('resumes at the stored offset after a restart, sending nothing twice', async () => {
    const log = path.join(bed.tmp.dir, 'access.log');
    writeFileSync(log, [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\n');
    await startDaemon();
    await bed.collector.waitFor(() => bed.collector.accepted >= 3, 10_000);
    await bed.daemon!.stop();
    bed.daemon = undefined;
    appendFileSync(log, [4, 5].map((n) => nginxLine(n)).join('\n') + '\n');
    await startDaemon();
    await bed.collector.waitFor(() => bed.collector.accepted >= 5, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(bed.collector.accepted).toBe(5);
    expect([...bed.collector.seen.values()].every((c) => c === 1)).toBe(true);
  });

  it('moves messages refused with a non-retryable 4xx to dead letters and delivers the rest', async () => {
    const log = path.join(bed.tmp.dir, 'access.log');
    // The collector refuses any batch that holds the message for /items/13 (400), like the
    // gateway does for a message without ids; bisection must isolate it.
    bed.collector.respond = (req) =>
      JSON.stringify(req.json).includes('/items/13"') ? { status: 400, body: 'Request neither has anonymousId nor userId' } : undefined;
    writeFileSync(log, Array.from({ length: 20 }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
    const d = await startDaemon({ batchSize: 20, flushInterval: '1s' });
    await bed.collector.waitFor(() => bed.collector.accepted >= 19, 10_000);
    await bed.collector.waitFor(() => d.store.deadLetters.counts().length > 0, 5_000, 'dead letter');
    const letters = d.store.deadLetters.list({});
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'delivery', status: 400, output: 'rudderstack' });
    expect(letters[0]!.payload).toContain('/items/13"');
    expect(letters[0]!.reason).toContain('400');
    expect(bed.collector.accepted).toBe(19);
    expect(d.store.queue.depthByOutput()).toEqual([]);
  });

  it('counts a line that does not parse as a dead letter and goes on', async () => {
    const log = path.join(bed.tmp.dir, 'access.log');
    writeFileSync(log, [nginxLine(1), 'garbage \u0000 line', nginxLine(2)].join('\n') + '\n');
    const d = await startDaemon();
    await bed.collector.waitFor(() => bed.collector.accepted >= 2, 10_000);
    const letters = d.store.deadLetters.list({});
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'parse', payload: 'garbage \u0000 line' });
    expect(counters(d.observer).get('lines_parsed_error')).toBe(1);
  });
});
