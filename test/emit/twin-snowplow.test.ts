/**
 * Snowplow twin test: @snowplow/node-tracker 4.8.0 and tailship rules send the same logical
 * events (page view, structured, self-describing, screen view, each with context entities) to
 * one recording collector on 127.0.0.1, over POST and over GET, and every field the collector
 * and enrich read is compared. Every body, self-describing event and entity is checked with
 * ajv against the official Iglu schemas (fixtures/iglu). The intended differences are listed
 * in INTENDED below, each with its reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildPageView, buildScreenView, buildSelfDescribingEvent, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Collector, type RequestInfo } from '../helpers/collector.js';
import { IGLU_FIXTURES } from '../helpers/iglu-registry.js';
import { tempDir } from '../helpers/tmp.js';
import { startDaemon, until } from '../delivery/harness.js';

/**
 * Where tailship deliberately differs from node-tracker 4.8, and why:
 * - tv: each names its own tracker (`node-4.8.0` / `tailship-<version>`).
 * - eid: both UUIDs; the tracker's is random (v4), tailship's derives from file and offset so that
 *   a replay after a crash repeats it and the warehouse can deduplicate (enrich takes any version).
 * - dtm: given a true timestamp the JavaScript tracker sends `ttm` alone; tailship sends both, as the
 *   Go tracker does: `ttm` is the log line's time, `dtm` when tailship made the event. Enrich
 *   derives derived_tstamp from ttm when present, so the event time is the same.
 * - contexts schema: the JavaScript tracker wraps entities in contexts 1-0-0, tailship (like the Go
 *   tracker) in 1-0-1; enrich reads both, and the entities inside are identical.
 * - Content-Type (POST): `application/json; charset=UTF-8` against `...charset=utf-8`: media-type
 *   parameters compare without case, and the collector takes both.
 * - Request headers other than Content-Type (User-Agent, Accept...) are the HTTP client's own.
 */
const INTENDED_KEYS = new Set(['tv', 'eid', 'dtm', 'stm', 'ue_px', 'cx']);

const SERVER_ERROR = 'iglu:com.example/server_error/jsonschema/1-0-0';
const REQUEST = 'iglu:com.example/request/jsonschema/1-0-0';
const SCREEN_VIEW = 'iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0';

const ajv = new Ajv({ strict: false, validateFormats: false });
const schemaAt = (uri: string): ValidateFunction => {
  const rel = uri.replace(/^iglu:/, 'schemas/');
  const { $schema: _m, self: _s, ...schema } = JSON.parse(readFileSync(path.join(IGLU_FIXTURES, rel), 'utf8')) as Record<string, unknown>;
  return ajv.compile(schema);
};
const validators = new Map<string, ValidateFunction>();
function mustValidate(uri: string, data: unknown): void {
  let v = validators.get(uri);
  if (!v) validators.set(uri, (v = schemaAt(uri)));
  const ok = v(data);
  expect(v.errors ?? [], `${uri}: ${JSON.stringify(data)}`).toEqual([]);
  expect(ok).toBe(true);
}

/** The logical events, as the log lines tailship reads and as the tracker's calls. */
const TIME = '2025-03-12T14:05:31.250Z';
const T = Date.parse(TIME);
const BASE = { time: TIME, user: 'u-42', visitor: 'v-7', ip: '203.0.113.42', ua: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0', method: 'GET', bytes: 5120 };
interface Line {
  kind: 'page' | 'struct' | 'error' | 'screen';
  time: string; user: string; visitor: string; ip: string; ua: string; method: string; bytes: number;
  url?: string; title?: string; referrer?: string;
  category?: string; action?: string; label?: string; property?: string; value?: number;
  path?: string; status?: number;
  screen?: string; screen_id?: string;
}
const LINES: Line[] = [
  { ...BASE, kind: 'page', url: 'https://shop.example.com/items/42', title: 'Item 42', referrer: 'https://shop.example.com/' },
  { ...BASE, kind: 'struct', category: 'shop', action: 'add-to-basket', label: 'item-42', property: 'red', value: 5 },
  { ...BASE, kind: 'error', path: '/items/2', status: 503 },
  { ...BASE, kind: 'screen', screen: 'Checkout', screen_id: 'scr-1' },
];

const COMMON = `
        userId: "{{ user }}"
        anonymousId: "{{ visitor }}"
        timestamp: "{{ time }}"
        timestamp_format: iso8601`;
const RULES = `
      - when: 'kind == "page"'
        type: page
        name: "{{ title }}"
        context: { page: { url: "{{ url }}", referrer: "{{ referrer }}" } }
${COMMON}
      - when: 'kind == "struct"'
        type: track
        event: "{{ action }}"
        properties: { category: "{{ category }}", label: "{{ label }}", property: "{{ property }}", value: "{{ value }}" }
${COMMON}
      - when: 'kind == "error"'
        type: track
        event: "Server Error"
        schema: "${SERVER_ERROR}"
        properties: { path: "{{ path }}", status: "{{ status }}" }
${COMMON}
      - when: 'kind == "screen"'
        type: screen
        name: "{{ screen }}"
        properties: { id: "{{ screen_id }}" }
${COMMON}`;

function tailshipYaml(dir: string, url: string, method: 'post' | 'get'): string {
  return `
state_dir: ${JSON.stringify(path.join(dir, 'state'))}
log_level: silent
shutdown_timeout: 2s
iglu: { registries: [{ path: ${JSON.stringify(IGLU_FIXTURES)} }] }
pipelines:
  - name: twin
    inputs:
      - paths: [${JSON.stringify(path.join(dir, '*.log'))}]
        start_at: beginning
        poll_interval: 50ms
    parser: { type: json }
    context: { ip: "{{ ip }}", userAgent: "{{ ua }}" }
    contexts:
      - schema: "${REQUEST}"
        data: { method: "{{ method }}", bytes: "{{ bytes }}" }
    events:${RULES}
    outputs:
      - type: snowplow
        url: ${url}
        app_id: shop
        method: ${method}
        batch_size: 10
        flush_interval: 100ms
`;
}

async function sendWithTracker(url: string, method: 'post' | 'get'): Promise<void> {
  const tracker = newTracker({ namespace: 'tailship', appId: 'shop', encodeBase64: true }, { endpoint: url, eventMethod: method, bufferSize: method === 'post' ? 10 : 1 });
  for (const l of LINES) {
    tracker.setUserId(l.user);
    tracker.setDomainUserId(l.visitor);
    tracker.setIpAddress(l.ip);
    tracker.setUseragent(l.ua);
    const entities = [{ schema: REQUEST, data: { method: l.method, bytes: l.bytes } }];
    const ttm = { type: 'ttm' as const, value: T };
    if (l.kind === 'page') tracker.track(buildPageView({ pageUrl: l.url!, pageTitle: l.title!, referrer: l.referrer! }), entities, ttm);
    if (l.kind === 'struct') tracker.track(buildStructEvent({ category: l.category!, action: l.action!, label: l.label!, property: l.property!, value: l.value! }), entities, ttm);
    if (l.kind === 'error') tracker.track(buildSelfDescribingEvent({ event: { schema: SERVER_ERROR, data: { path: l.path!, status: l.status! } } }), entities, ttm);
    if (l.kind === 'screen') tracker.track(buildScreenView({ name: l.screen!, id: l.screen_id! }), entities, ttm);
  }
  await tracker.flush();
}

type Item = Record<string, string>;
const fromTracker = (i: Item): boolean => i.tv!.startsWith('node-');
const decode = (b64: string): { schema: string; data: unknown } => JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as { schema: string; data: unknown };
/** What one logical event is, whoever sent it. */
function logicalKey(i: Item): string {
  if (i.e === 'ue') return `ue ${(decode(i.ue_px!).data as { schema: string }).schema}`;
  return i.e === 'se' ? `se ${i.se_ac}` : `${i.e} ${i.page}`;
}

/** Every body and item against payload_data 1-0-4; every event and entity against its schema. */
function validateRequest(req: RequestInfo, method: 'post' | 'get'): Item[] {
  const items = (req.json as { data: Item[] }).data;
  if (method === 'post') {
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/com.snowplowanalytics.snowplow/tp2');
    expect(req.headers['content-type']!.toLowerCase()).toBe('application/json; charset=utf-8');
    expect((req.json as { schema: string }).schema).toBe('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
  } else {
    expect(req.method).toBe('GET');
    expect(req.path).toMatch(/^\/i\?stm=\d{13}&/);
    expect(items).toHaveLength(1);
  }
  mustValidate('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', items);
  for (const i of items) {
    if (i.ue_px) {
      const ue = decode(i.ue_px);
      mustValidate(ue.schema, ue.data);
      const inner = ue.data as { schema: string; data: unknown };
      mustValidate(inner.schema, inner.data);
    }
    const cx = decode(i.cx!);
    mustValidate(cx.schema, cx.data);
    for (const e of cx.data as Array<{ schema: string; data: unknown }>) mustValidate(e.schema, e.data);
  }
  return items;
}

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

describe.each(['post', 'get'] as const)('snowplow twin over %s: node-tracker 4.8.0 and tailship', (method) => {
  it('send the same page view, structured, self-describing and screen view events with their entities', async () => {
    await sendWithTracker(collector.url, method);
    await collector.waitFor(() => collector.accepted >= LINES.length, 15_000, 'tracker events');

    writeFileSync(path.join(tmp.dir, 'app.log'), LINES.map((l) => JSON.stringify(l)).join('\n') + '\n');
    daemon = await startDaemon(tailshipYaml(tmp.dir, collector.url, method), tmp.dir);
    await collector.waitFor(() => collector.accepted >= 2 * LINES.length, 15_000, 'tailship events');
    expect(daemon.store.deadLetters.counts()).toEqual([]);

    const items = collector.requests.flatMap((r) => validateRequest(r, method));
    const twins = new Map<string, { tracker?: Item; tailship?: Item }>();
    for (const i of items) {
      const pair = twins.get(logicalKey(i)) ?? {};
      pair[fromTracker(i) ? 'tracker' : 'tailship'] = i;
      twins.set(logicalKey(i), pair);
    }
    expect([...twins.keys()].sort()).toEqual(['pv Item 42', 'se add-to-basket', `ue ${SERVER_ERROR}`, `ue ${SCREEN_VIEW}`]);

    for (const [key, { tracker, tailship }] of twins) {
      expect(tracker, key).toBeDefined();
      expect(tailship, key).toBeDefined();
      const t = tracker!;
      const s = tailship!;
      // Every other field: the same keys with the same values.
      const same = (i: Item): Item => Object.fromEntries(Object.entries(i).filter(([k]) => !INTENDED_KEYS.has(k)));
      expect(same(s), key).toEqual(same(t));
      // The intended differences, each checked for what it must still mean.
      expect(t.tv).toBe('node-4.8.0');
      expect(s.tv).toMatch(/^tailship-\d+\.\d+\.\d+/);
      for (const i of [t, s]) expect(i.eid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(t.ttm).toBe(String(T));
      expect(t.dtm).toBeUndefined();
      expect(Number(s.dtm)).toBeGreaterThan(T);
      expect(Number(s.stm)).toBeGreaterThanOrEqual(Number(s.dtm));
      expect(Number(t.stm)).toBeGreaterThan(T);
      if (t.ue_px) expect(decode(s.ue_px!)).toEqual(decode(t.ue_px));
      else expect(s.ue_px).toBeUndefined();
      const [tc, sc] = [decode(t.cx!), decode(s.cx!)];
      expect(tc.schema).toBe('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0');
      expect(sc.schema).toBe('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1');
      expect(sc.data).toEqual(tc.data);
    }
  });
});
