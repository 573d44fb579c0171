/**
 * Twin test: the official Node SDKs (@rudderstack/rudder-sdk-node 3.0.13, @segment/analytics-node
 * 3.1.0) and tailship send the same logical events, all six call types, to one recording
 * collector on 127.0.0.1. Compared: what rudder-server's gateway and processor, and Segment's
 * HTTP API, read: path, method, auth, headers, the envelope, each message's keys and value types,
 * the values, and what each timestamp means. Every difference that remains is listed in
 * INTENDED below, with the reason; anything else fails the test.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Analytics as Segment } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import type { Daemon } from '../../src/daemon.js';
import { VERSION } from '../../src/version.js';
import { Collector, type RecordedMessage, type RequestInfo } from '../helpers/collector.js';
import { tempDir } from '../helpers/tmp.js';
import { startDaemon } from '../delivery/harness.js';

/** The event time of every logical event: the time in the log line. */
const EVENT_TIME = '2026-03-01T10:00:00.000Z';
const CALLS = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
type Call = (typeof CALLS)[number];

/** The logical events, as the SDKs' call arguments (without the time and the ids each side adds). */
const EVENTS: Record<Call, Record<string, unknown>> = {
  track: { userId: 'u-1', event: 'Order Completed', properties: { order_id: 'o-1', revenue: 9.5 }, context: { ip: '10.0.0.1' } },
  identify: { userId: 'u-1', traits: { email: 'a@example.com', plan: 'pro' }, context: { ip: '10.0.0.1' } },
  page: { userId: 'u-1', name: 'Pricing', category: 'Docs', properties: { path: '/pricing', url: 'https://example.com/pricing' }, context: { ip: '10.0.0.1' } },
  screen: { userId: 'u-1', name: 'Home', category: 'Main', properties: { variant: 'a' }, context: { ip: '10.0.0.1' } },
  group: { userId: 'u-1', groupId: 'g-1', traits: { name: 'Acme', employees: 42 }, context: { ip: '10.0.0.1' } },
  alias: { userId: 'u-1', previousId: 'anon-1', context: { ip: '10.0.0.1' } },
};

/** The same events as log lines, and the tailship rules that map them back. */
const LOG_LINES = CALLS.map((call) => JSON.stringify({ call, time: EVENT_TIME, ...flatten(EVENTS[call]) })).join('\n') + '\n';

function flatten(e: Record<string, unknown>): Record<string, unknown> {
  const { properties, traits, context, ...rest } = e as { properties?: object; traits?: object; context?: object };
  return { ...rest, ...properties, ...traits, ...(context ? { ip: (context as { ip: string }).ip } : {}) };
}

const RULES = CALLS.map((call) => {
  const e = EVENTS[call];
  const lines = [`      - when: 'call == "${call}"'`, `        type: ${call}`];
  for (const k of ['event', 'userId', 'name', 'category', 'groupId', 'previousId']) if (k in e) lines.push(`        ${k}: "{{ ${k} }}"`);
  for (const k of ['properties', 'traits'] as const) {
    const o = e[k] as Record<string, unknown> | undefined;
    if (o) lines.push(`        ${k}: { ${Object.keys(o).map((f) => `${f}: "{{ ${f} }}"`).join(', ')} }`);
  }
  lines.push('        context: { ip: "{{ ip }}" }', '        timestamp: "{{ time }}"', '        timestamp_format: iso8601');
  return lines.join('\n');
}).join('\n');

/** Write keys tell the four senders apart at the one collector. */
const KEYS = { rudderSdk: 'rs-sdk', tailshipRudder: 'rs-tailship', segmentSdk: 'seg-sdk', tailshipSegment: 'seg-tailship' } as const;
type Sender = keyof typeof KEYS;

/**
 * Differences that stay, each with why. Paths are message keys (`context.library.name`) or
 * `envelope.<key>` / `header.<name>`; `value` differences keep the key and its type.
 */
const INTENDED: Record<'rudderstack' | 'segment', Record<string, string>> = {
  rudderstack: {
    '_metadata': 'rudder-sdk-node reports its own Node.js version; no RudderStack server or warehouse column reads it',
    'envelope.timestamp': "rudder-sdk-node also puts a batch-level timestamp beside the batch; the gateway keeps only the batch's items",
    'value context.library': 'each sender names itself (tailship/<version>, analytics-node/<version>), as the library field is meant to',
    'value messageId': 'the SDK makes a random UUID v4; tailship a deterministic UUID per line, so a replay is deduplicated',
    'value header.user-agent': 'each sender names itself in the same <library>/<version> form',
    'header.content-type':
      "rudder-sdk-node posts its gzipped body with axios's default type for a Buffer, application/x-www-form-urlencoded; the gateway reads the body whatever the type, and tailship sends application/json, as the HTTP API documents",
    'properties.name': 'page only: tailship copies the page name into properties as the Page spec says (analytics.js does); rudder-sdk-node does not',
    'properties.category': 'page only: tailship copies the category into properties as the Page spec and analytics-node do; rudder-sdk-node does not',
  },
  segment: {
    '_metadata': 'analytics-node reports its runtime; Segment does not store it',
    'envelope.writeKey': 'analytics-node repeats the write key in the body; tailship sends it in Basic auth only, which Segment documents as the way',
    'header.x-retry-count': 'not on a first attempt',
    'value context.library': 'each sender names itself (tailship/<version>, @segment/analytics-node/<version>)',
    'value messageId': 'analytics-node makes a random id; tailship a deterministic UUID per line, so a replay is deduplicated',
    'value header.user-agent': 'each sender names itself in the <library>/<version> form',
    'channel': 'tailship sends channel "server" on every message, as RudderStack SDKs do; Segment sets the channel of a server source itself and accepts the field',
    'integrations': "analytics-node always sends an empty integrations object; tailship sends the rule's integrations only when it has some (absent and {} mean the same: all destinations)",
    'properties.name': 'page only: tailship copies the page name into properties as the Page spec says and analytics.js does; analytics-node copies only the category',
    'context.traits': 'identify only: tailship sends the traits in context.traits too, as rudder-sdk-node does; for Segment they are the same user traits',
  },
};

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;
const startedAt = Date.now();

beforeAll(async () => {
  tmp = tempDir();
  collector = await new Collector().start();
  await sendWithSdks();
  writeFileSync(path.join(tmp.dir, 'rs.log'), LOG_LINES);
  writeFileSync(path.join(tmp.dir, 'seg.log'), LOG_LINES);
  daemon = await startDaemon(tailshipYaml(), tmp.dir);
  await collector.waitFor(() => (['tailshipRudder', 'tailshipSegment'] as const).every((s) => messagesOf(s).length === CALLS.length), 30_000, 'tailship messages');
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await collector?.stop();
  tmp?.cleanup();
});

async function sendWithSdks(): Promise<void> {
  const at = new Date(EVENT_TIME);
  const rudder = new RudderAnalytics(KEYS.rudderSdk, { dataPlaneUrl: collector.url, flushAt: 20, flushInterval: 60_000, logLevel: 'error' });
  const segment = new Segment({ writeKey: KEYS.segmentSdk, host: collector.url, path: '/v1/batch', maxEventsInBatch: 20, flushInterval: 60_000 });
  for (const call of CALLS) {
    // rudder-sdk-node takes the event time as originalTimestamp (as analytics-go); analytics-node as timestamp.
    (rudder[call] as (m: object) => void).call(rudder, { ...EVENTS[call], originalTimestamp: at });
    const { name, category, ...rest } = EVENTS[call] as { name?: string; category?: string };
    const seg = { ...rest, timestamp: at, ...(name !== undefined ? { name } : {}), ...(category !== undefined ? { category } : {}) };
    (segment[call] as (m: object) => void).call(segment, seg);
  }
  await rudder.flush();
  await segment.closeAndFlush({ timeout: 20_000 });
  await collector.waitFor(() => (['rudderSdk', 'segmentSdk'] as const).every((s) => messagesOf(s).length === CALLS.length), 30_000, 'SDK messages');
}

function tailshipYaml(): string {
  const pipeline = (name: string, file: string, output: string): string => `
  - name: ${name}
    inputs:
      - paths: [${JSON.stringify(path.join(tmp.dir, file))}]
        start_at: beginning
        poll_interval: 50ms
    parser: { type: json }
    events:
${RULES}
    output:
${output}`;
  const out = (type: string, key: string): string => `      type: ${type}\n      url: ${collector.url}\n      write_key: ${key}\n      flush_interval: 50ms`;
  return `
state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
log_level: silent
shutdown_timeout: 2s
pipelines:${pipeline('rs', 'rs.log', out('rudderstack', KEYS.tailshipRudder))}${pipeline('seg', 'seg.log', out('segment', KEYS.tailshipSegment))}
`;
}

const authOf = (sender: Sender): string => 'Basic ' + Buffer.from(`${KEYS[sender]}:`).toString('base64');
const requestsOf = (sender: Sender): RequestInfo[] => collector.requests.filter((r) => r.headers.authorization === authOf(sender));
const messagesOf = (sender: Sender): RecordedMessage[] => requestsOf(sender).flatMap((r) => (r.json as { batch: RecordedMessage[] }).batch);
const messageOf = (sender: Sender, call: Call): RecordedMessage => {
  const m = messagesOf(sender).find((x) => x.type === call);
  if (!m) throw new Error(`${sender} sent no ${call}`);
  return m;
};

/** Every leaf path of a JSON value with its type (`string`, `number`, `object` for {}...). */
function shape(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) shape(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  }
  return out;
}

/** Paths present on one side only, or with other types, minus the intended differences. */
function unexplained(sdk: unknown, ours: unknown, intended: Record<string, string>, prefix = ''): string[] {
  const a = shape(sdk);
  const b = shape(ours);
  const diffs: string[] = [];
  // `value ...` entries explain values, not keys or types: they never cover a shape difference.
  const covered = (p: string): boolean => Object.keys(intended).some((k) => !k.startsWith('value ') && (prefix + p === k || (prefix + p).startsWith(k + '.')));
  for (const p of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(p) !== b.get(p) && !covered(p)) diffs.push(`${prefix}${p}: SDK ${a.get(p) ?? 'absent'}, tailship ${b.get(p) ?? 'absent'}`);
  }
  return diffs;
}

/** Headers of the HTTP clients themselves (connection handling), which no server reads. */
const TRANSPORT_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'accept', 'accept-encoding', 'accept-language', 'sec-fetch-mode']);

/** Header names one side sends and the other not, or with other values where they must agree. */
function headerDifferences(sdk: Sender, ours: Sender, intended: Record<string, string>): string[] {
  const a = requestsOf(sdk)[0]!.headers;
  const b = requestsOf(ours)[0]!.headers;
  const names = new Set([...Object.keys(a), ...Object.keys(b)].filter((h) => !TRANSPORT_HEADERS.has(h) && !(`header.${h}` in intended)));
  // Values differ by design for these two (the write key, the library name); their form is checked apart.
  return [...names].filter((h) => (h === 'authorization' || h === 'user-agent' ? (a[h] === undefined) !== (b[h] === undefined) : a[h] !== b[h])).map((h) => `${h}: SDK ${String(a[h])}, tailship ${String(b[h])}`);
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The values both sides must agree on: everything but ids, times, channel and the library (checked apart). */
function logical(m: RecordedMessage): Record<string, unknown> {
  const { messageId: _id, sentAt: _s, timestamp: _t, originalTimestamp: _o, _metadata: _m, integrations: _i, channel: _c, context, ...rest } = m as Record<string, unknown>;
  const { library: _l, ...ctx } = context as Record<string, unknown>;
  return { ...rest, context: ctx };
}

describe('RudderStack: rudder-sdk-node 3.0.13 and tailship', () => {
  it('send requests alike: POST /v1/batch, Basic auth with the write key and an empty password, gzip, a User-Agent', () => {
    for (const sender of ['rudderSdk', 'tailshipRudder'] as const) {
      for (const r of requestsOf(sender)) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe('/v1/batch');
        expect(r.headers['content-encoding']).toBe('gzip');
        expect(r.headers['user-agent']).toMatch(/^[\w@./-]+\/\d+\.\d+\.\d+$/);
      }
    }
    expect(requestsOf('tailshipRudder')[0]!.headers['content-type']).toBe('application/json');
    expect(requestsOf('tailshipRudder')[0]!.headers['user-agent']).toBe(`tailship/${VERSION}`);
    expect(headerDifferences('rudderSdk', 'tailshipRudder', INTENDED.rudderstack)).toEqual([]);
  });

  it('send the same envelope: the batch and its sentAt (the SDK adds a batch timestamp no server reads)', () => {
    const envelope = (s: Sender): Record<string, unknown> => {
      const { batch: _b, ...rest } = requestsOf(s)[0]!.json as Record<string, unknown>;
      return rest;
    };
    expect(unexplained(envelope('rudderSdk'), envelope('tailshipRudder'), INTENDED.rudderstack, 'envelope.')).toEqual([]);
  });

  it.each(CALLS)('%s: the same keys, value types and values; the event time in originalTimestamp, the send time in every message\'s sentAt', (call) => {
    const sdk = messageOf('rudderSdk', call);
    const ours = messageOf('tailshipRudder', call);
    const intended = { ...INTENDED.rudderstack };
    if (call !== 'page') {
      delete intended['properties.name'];
      delete intended['properties.category'];
    }
    expect(unexplained(sdk, ours, intended)).toEqual([]);
    const expected = logical(sdk);
    if (call === 'page') (expected.properties as Record<string, unknown>) = { ...(expected.properties as object), name: 'Pricing', category: 'Docs' };
    expect(logical(ours)).toEqual(expected);
    for (const m of [sdk, ours]) {
      expect(m.originalTimestamp).toBe(EVENT_TIME);
      expect(m.sentAt).toMatch(ISO);
      expect(Date.parse(m.sentAt as string)).toBeGreaterThanOrEqual(startedAt);
      expect(m.timestamp).toBeUndefined(); // the processor would take it as is and skip the clock-skew correction
      expect(m.channel).toBe('server');
    }
    expect(ours.messageId).toMatch(UUID);
    expect((ours.context as { library: unknown }).library).toEqual({ name: 'tailship', version: VERSION });
  });
});

describe('Segment: analytics-node 3.1.0 and tailship', () => {
  it('send requests alike: POST /v1/batch, Basic auth with the write key and an empty password, plain JSON, a User-Agent', () => {
    for (const sender of ['segmentSdk', 'tailshipSegment'] as const) {
      for (const r of requestsOf(sender)) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe('/v1/batch');
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['content-encoding']).toBeUndefined();
        expect(r.headers['user-agent']).toMatch(/^[\w@./-]+\/[\w.]+$/);
      }
    }
    expect(headerDifferences('segmentSdk', 'tailshipSegment', INTENDED.segment)).toEqual([]);
  });

  it('send the same envelope: the batch and its sentAt, the send time', () => {
    const envelope = (s: Sender): Record<string, unknown> => {
      const { batch: _b, ...rest } = requestsOf(s)[0]!.json as Record<string, unknown>;
      return rest;
    };
    expect(unexplained(envelope('segmentSdk'), envelope('tailshipSegment'), INTENDED.segment, 'envelope.')).toEqual([]);
    for (const s of ['segmentSdk', 'tailshipSegment'] as const) {
      const sentAt = (requestsOf(s)[0]!.json as { sentAt: string }).sentAt;
      expect(sentAt).toMatch(ISO);
      expect(Date.parse(sentAt)).toBeGreaterThanOrEqual(startedAt);
    }
  });

  it.each(CALLS)('%s: the same keys, value types and values; the event time in timestamp', (call) => {
    const sdk = messageOf('segmentSdk', call);
    const ours = messageOf('tailshipSegment', call);
    const intended = { ...INTENDED.segment };
    if (call !== 'page') delete intended['properties.name'];
    if (call !== 'identify') delete intended['context.traits'];
    expect(unexplained(sdk, ours, intended)).toEqual([]);
    const expected = logical(sdk);
    if (call === 'page') (expected.properties as Record<string, unknown>) = { ...(expected.properties as object), name: 'Pricing' };
    if (call === 'identify') (expected.context as Record<string, unknown>) = { ...(expected.context as object), traits: EVENTS.identify.traits };
    expect(logical(ours)).toEqual(expected);
    for (const m of [sdk, ours]) {
      expect(m.timestamp).toBe(EVENT_TIME);
      expect(m.originalTimestamp).toBeUndefined();
      expect(m.sentAt).toBeUndefined(); // Segment reads the batch's
    }
    expect((ours.context as { library: unknown }).library).toEqual({ name: 'tailship', version: VERSION });
  });
});
