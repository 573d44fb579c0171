/**
 * Snowplow wire format against the real loopback collector: tp2 POST, the payload_data 1-0-4
 * envelope validated with ajv against the Iglu Central schema, self-describing, structured and
 * page view events, `stm` per send, batches bounded by bytes including the envelope.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { ENVELOPE_BYTES, PAYLOAD_DATA_SCHEMA, UNSTRUCT_EVENT_SCHEMA } from '../../src/emit/snowplow/snowplow-encoder.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from '../delivery/harness.js';

const schemaFile = 'fixtures/iglu/schemas/com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
const { $schema: _meta, self: _self, ...payloadSchema } = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
const validatePayload = new Ajv({ allErrors: true }).compile(payloadSchema);

const RULES = `
      - when: "status >= 500"
        type: track
        event: "Server Error"
        schema: "iglu:com.example/server_error/jsonschema/1-0-0"
        userId: "{{ query.uid }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}" }
        context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
        timestamp: "{{ time_local }}"
      - when: "status == 404"
        type: page
        name: "Not Found"
        anonymousId: "{{ remote_addr }}"
        context: { page: { url: "https://shop.example.com{{ request_path }}", referrer: "{{ http_referer }}" } }
        timestamp: "{{ time_local }}"
      - type: track
        event: "Item Viewed"
        anonymousId: "{{ remote_addr }}"
        properties: { category: "items", label: "{{ request_path }}", value: "{{ body_bytes_sent }}" }
        context: { ip: "{{ remote_addr }}" }
        timestamp: "{{ time_local }}"`;

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector().start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

function snowplowYaml(extra = ''): string {
  return pipelineYaml({
    dir: tmp.dir,
    rules: RULES,
    outputs: `
      - type: snowplow
        url: ${collector.url}
        app_id: shop-nginx
        batch_size: 100
        flush_interval: 100ms
        retry: { base: 20ms, cap: 200ms }
        base64: false
${extra}`,
  });
}

type Item = Record<string, string>;
const items = (): Item[] => collector.messages as unknown as Item[];

describe('snowplow destination', () => {
  it('posts payload_data 1-0-4 bodies the Iglu schema accepts, one event kind per rule', async () => {
    writeFileSync(path.join(tmp.dir, 'access.log'), [nginxLine(1), nginxLine(2, 503), nginxLine(3, 404)].join('\n') + '\n');
    const before = Date.now();
    daemon = await startDaemon(snowplowYaml(), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000, '3 events');

    for (const req of collector.requests) {
      expect(req.path).toBe('/com.snowplowanalytics.snowplow/tp2');
      expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(req.headers.authorization).toBeUndefined();
      expect(req.headers['content-encoding']).toBeUndefined();
      const body = req.json as { schema: string; data: unknown[] };
      expect(Object.keys(body).sort()).toEqual(['data', 'schema']);
      expect(body.schema).toBe(PAYLOAD_DATA_SCHEMA);
      const ok = validatePayload(body.data);
      expect(validatePayload.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }

    const byE = new Map(items().map((i) => [i.e, i]));
    const se = byE.get('se')!;
    expect(se).toMatchObject({
      p: 'srv', tna: 'tailship', aid: 'shop-nginx', se_ca: 'items', se_ac: 'Item Viewed', se_la: '/items/1', se_va: '1',
      duid: '203.0.113.1', ip: '203.0.113.1', ttm: String(Date.parse('2025-03-12T14:05:01Z')),
    });
    expect(se.tv).toMatch(/^tailship-/);

    const ue = byE.get('ue')!;
    expect(ue).toMatchObject({ uid: 'u-2', ip: '203.0.113.2', ua: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0' });
    expect(JSON.parse(ue.ue_pr!)).toEqual({
      schema: UNSTRUCT_EVENT_SCHEMA,
      data: { schema: 'iglu:com.example/server_error/jsonschema/1-0-0', data: { path: '/items/2', status: 503 } },
    });

    const pv = byE.get('pv')!;
    expect(pv).toMatchObject({ page: 'Not Found', url: 'https://shop.example.com/items/3', refr: 'https://shop.example.com/', duid: '203.0.113.3' });

    for (const i of items()) {
      // eid is the messageId; stm (sent) is stamped at send, after dtm (made).
      expect(i.eid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number(i.stm)).toBeGreaterThanOrEqual(Number(i.dtm));
      expect(Number(i.dtm)).toBeGreaterThanOrEqual(before);
      for (const v of Object.values(i)) expect(typeof v).toBe('string');
    }
    expect(new Set(items().map((i) => i.eid)).size).toBe(3);
  });

  it('keeps every request within max_batch_bytes, envelope and stm included', async () => {
    const N = 120;
    writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
    daemon = await startDaemon(snowplowYaml('        max_batch_bytes: 3000'), tmp.dir);
    await collector.waitFor(() => collector.seen.size >= N, 15_000, `${N} events`);
    expect(collector.requests.length).toBeGreaterThan(N / 20);
    let fullest = 0;
    for (const req of collector.requests) {
      expect(req.raw.length).toBeLessThanOrEqual(3000);
      fullest = Math.max(fullest, req.raw.length);
    }
    // Batches are filled, not cut short: the fullest is within one event of the limit.
    expect(fullest).toBeGreaterThan(3000 - 400);
    expect(ENVELOPE_BYTES).toBe(88);
  });

  it('stamps stm again on each attempt', async () => {
    let n = 0;
    collector.respond = () => (n++ === 0 ? { status: 503 } : undefined);
    writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
    daemon = await startDaemon(snowplowYaml(), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 1, 10_000);
    const stms = collector.requests.map((r) => ((r.json as { data: Item[] }).data[0]!.stm));
    expect(stms.length).toBeGreaterThanOrEqual(2);
    expect(Number(stms[stms.length - 1])).toBeGreaterThan(Number(stms[0]));
  });

  it('counts only 2xx as delivered: a 302 is not success', async () => {
    collector.respond = () => ({ status: 302, headers: { location: 'http://127.0.0.1:9/' } });
    writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
    daemon = await startDaemon(snowplowYaml(), tmp.dir);
    await until(() => daemon!.store.deadLetters.counts().length > 0, 10_000, 'dead letter');
    expect(collector.accepted).toBe(0);
    const [letter] = daemon.store.deadLetters.list({});
    expect(letter).toMatchObject({ kind: 'delivery', output: 'snowplow', status: 302 });
    expect(JSON.parse(letter!.payload)).toMatchObject({ e: 'se', se_ac: 'Item Viewed' });
  });
});

describe('snowplow destination over GET', () => {
  it('sends one event per request to /i, stm stamped per attempt, resuming after the events already taken', async () => {
    let n = 0;
    // The second request fails once: its retry must not send the first event again.
    collector.respond = () => (n++ === 1 ? { status: 503 } : undefined);
    writeFileSync(path.join(tmp.dir, 'access.log'), [nginxLine(1), nginxLine(2, 404), nginxLine(3)].join('\n') + '\n');
    daemon = await startDaemon(snowplowYaml('        method: get'), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 3, 10_000, '3 events');
    expect(collector.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
    for (const r of collector.requests) expect(r.path).toMatch(/^\/i\?stm=\d{13}&e=/);
    expect([...collector.seen.values()]).toEqual([1, 1, 1]);
    const [, failed, retried] = collector.requests.map((r) => (r.json as { data: Item[] }).data[0]!);
    expect(retried!.eid).toBe(failed!.eid);
    expect(Number(retried!.stm)).toBeGreaterThan(Number(failed!.stm));
    // The event's own times were fixed when it was queued.
    expect(retried!.dtm).toBe(failed!.dtm);
    expect(retried!.ttm).toBe(failed!.ttm);
    for (const i of items()) expect(validatePayload([i])).toBe(true);
  });

  it('dead-letters, before queueing, an event whose query string would pass max_get_bytes', async () => {
    writeFileSync(path.join(tmp.dir, 'access.log'), [nginxLine(1), nginxLine(2).replace('/items/2', '/items/' + 'x'.repeat(600))].join('\n') + '\n');
    daemon = await startDaemon(snowplowYaml('        method: get\n        max_get_bytes: 600'), tmp.dir);
    await until(() => daemon!.store.deadLetters.counts().length > 0 && collector.accepted >= 1, 10_000, 'one sent, one dead letter');
    const [letter] = daemon.store.deadLetters.list({});
    expect(letter).toMatchObject({ kind: 'mapping', output: 'snowplow' });
    expect(letter!.reason).toMatch(/^output snowplow: GET query string of \d+ bytes is over max_get_bytes \(600\)$/);
  });
});
