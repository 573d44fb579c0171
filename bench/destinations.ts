/**
 * Destinations benchmark: events/s each output delivers from a filled queue to a local counting
 * collector (the real Emitter, Store and Destination; encode timed apart), and, in the same run,
 * the official @segment/analytics-node SDK sending the same events to the same collector.
 * Runnable alone: `npm run build && node dist/bench/destinations.js`.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Analytics } from '@segment/analytics-node';
import type { OutputConfig } from '../src/config/schema.js';
import { outputSchema } from '../src/config/schema.js';
import type { Destination, Encoder } from '../src/emit/destination.js';
import { Emitter, type EmitterEvents } from '../src/emit/emitter.js';
import { loadEncoder } from '../src/emit/encoders.js';
import { ndjsonEncoder } from '../src/emit/ndjson-encoder.js';
import { createDestination, encoderSpec } from '../src/emit/registry.js';
import { StdoutDestination } from '../src/emit/stdout/stdout.js';
import type { AnalyticsEvent } from '../src/mapping/event.js';
import { ChunkBuilder } from '../src/run/chunker.js';
import { Store } from '../src/store/store.js';
import { CountingCollector, WRITE_KEY } from './collector.js';

const EVENTS = 100_000;

interface Row {
  name: string;
  encodeUsPerEvent: number | undefined;
  eventsPerSec: number;
  requests: number | undefined;
  wireBytes: number | undefined;
}

/** Events shaped like the nginx mapping's output (track, ids, properties, context). */
function makeEvents(n: number): AnalyticsEvent[] {
  const out: AnalyticsEvent[] = [];
  for (let i = 0; i < n; i++) {
    const hex = i.toString(16).padStart(12, '0');
    out.push({
      type: 'track',
      event: 'Page Requested',
      messageId: `3ed244de-9ce9-8ee1-9937-${hex}`,
      originalTimestamp: new Date(1_741_788_331_000 + i).toISOString(),
      userId: `u-${i % 97}`,
      anonymousId: `203.0.113.${i % 250}`,
      properties: { path: `/items/${i}`, status: 200, bytes: i % 9000, method: 'GET' },
      context: {
        ip: `203.0.113.${i % 250}`,
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
        library: { name: 'tailship', version: '0.1.0' },
        page: { path: `/items/${i}`, referrer: 'https://shop.example.com/', url: `https://shop.example.com/items/${i}` },
      },
    });
  }
  return out;
}

const quiet: EmitterEvents = { batchSent() {}, batchFailed() {}, deadLettered() {} };

function output(raw: Record<string, unknown>): OutputConfig & { name: string } {
  const o = outputSchema.parse(raw);
  return { ...o, name: String(raw.type) };
}

/** The output's encoder, as a processing worker builds it. */
function encoderOf(o: OutputConfig & { name: string }): Promise<Encoder> {
  return loadEncoder(encoderSpec(o, { schemas: {} }));
}

/** Encodes every event into queue chunks (as the pipeline does), then lets an Emitter drain them. */
async function runOne(name: string, dest: Destination, encoder: Encoder, events: AnalyticsEvent[], wait: () => Promise<void>, dir: string): Promise<Row> {
  const store = new Store(path.join(dir, name));
  try {
    const t0 = performance.now();
    const builder = new ChunkBuilder(dest.name, dest.limits, encoder, 'bench-file');
    let off = 0;
    for (const e of events) {
      builder.add(encoder.encode(e), off, off + 170);
      off += 170;
    }
    const encodeMs = performance.now() - t0;
    const chunks = builder.finish();
    for (let i = 0; i < chunks.length; i += 50) store.commit({ pipeline: 'bench', chunks: chunks.slice(i, i + 50), deadLetters: [] });
    const emitter = new Emitter('bench', dest, store, quiet, { onFailed: (err) => console.error(`${name}: emitter failed (${err.code}): ${err.message}`) });
    const t1 = performance.now();
    emitter.start();
    emitter.drain();
    await wait();
    while (!emitter.idle()) await new Promise((r) => setTimeout(r, 5));
    const secs = (performance.now() - t1) / 1000;
    await emitter.stop();
    return { name, encodeUsPerEvent: (encodeMs * 1000) / events.length, eventsPerSec: events.length / secs, requests: undefined, wireBytes: undefined };
  } finally {
    store.close();
  }
}

async function httpRow(name: string, raw: Record<string, unknown>, countKey: string, events: AnalyticsEvent[], dir: string): Promise<Row> {
  const collector = await new CountingCollector({ countKey, ...(raw.write_key ? { writeKey: WRITE_KEY } : {}) }).start();
  try {
    const o = output({ ...raw, url: collector.url });
    const row = await runOne(name, await createDestination(o), await encoderOf(o), events, () => collector.waitFor(events.length, 120_000), dir);
    return { ...row, requests: collector.requests, wireBytes: collector.bodyBytes };
  } finally {
    await collector.stop();
  }
}

/** The official SDK: track() every event, then closeAndFlush(); timed until the collector has them all. */
async function sdkRow(events: AnalyticsEvent[]): Promise<Row> {
  const collector = await new CountingCollector({ writeKey: WRITE_KEY }).start();
  try {
    // Same batch size as our default (250), the SDK's own flush interval and retries.
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: collector.url, path: '/v1/batch', flushAt: 250, maxEventsInBatch: 250 } as ConstructorParameters<typeof Analytics>[0]);
    const t0 = performance.now();
    for (const e of events) {
      analytics.track({
        event: e.event!,
        userId: e.userId!,
        anonymousId: e.anonymousId!,
        properties: e.properties as Record<string, unknown>,
        timestamp: e.originalTimestamp,
        messageId: e.messageId,
        context: e.context as Record<string, unknown>,
      });
    }
    await analytics.closeAndFlush({ timeout: 120_000 });
    await collector.waitFor(events.length, 120_000);
    const secs = (performance.now() - t0) / 1000;
    return { name: '@segment/analytics-node 3.1.0 (official SDK, same collector)', encodeUsPerEvent: undefined, eventsPerSec: events.length / secs, requests: collector.requests, wireBytes: collector.bodyBytes };
  } finally {
    await collector.stop();
  }
}

export async function benchDestinations(): Promise<{ title: string; markdown: string }> {
  const events = makeEvents(EVENTS);
  const dir = mkdtempSync(path.join(tmpdir(), 'tailship-bench-dest-'));
  const rows: Row[] = [];
  try {
    const http = { write_key: WRITE_KEY, batch_size: 250, flush_interval: '1s', concurrency: 2 };
    rows.push(await httpRow('rudderstack (gzip)', { type: 'rudderstack', ...http }, 'messageId', events, dir));
    rows.push(await httpRow('rudderstack (gzip off)', { type: 'rudderstack', ...http, gzip: false }, 'messageId', events, dir));
    rows.push(await httpRow('segment', { type: 'segment', ...http }, 'messageId', events, dir));
    rows.push(await httpRow('snowplow (40 kB requests)', { type: 'snowplow', batch_size: 250, flush_interval: '1s', concurrency: 2 }, 'eid', events, dir));
    const filePath = path.join(dir, 'events.ndjson');
    const file = output({ type: 'file', path: filePath, max_file_bytes: '1GiB' });
    const fileRow = await runOne('file', await createDestination(file), await encoderOf(file), events, async () => undefined, dir);
    rows.push({ ...fileRow, wireBytes: statSync(filePath).size });
    const devnull = createWriteStream('/dev/null');
    rows.push(await runOne('stdout (to /dev/null)', new StdoutDestination({ type: 'stdout', name: 'stdout', batch_size: 500, flush_interval: 200 }, devnull), ndjsonEncoder, events, async () => undefined, dir));
    devnull.destroy();
    rows.push(await sdkRow(events));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n: number | undefined, d = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const lines = [
    `${EVENTS.toLocaleString('en-US')} nginx-like track events per destination, queued in SQLite, drained by the Emitter to a counting collector on 127.0.0.1 in the same process (2 cores shared). "encode" is the commit-time wire encoding, not in events/s.`,
    '',
    '| destination | events/s | encode µs/event | requests | bytes on the wire |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.eventsPerSec)} | ${fmt(r.encodeUsPerEvent, 2)} | ${fmt(r.requests)} | ${fmt(r.wireBytes)} |`),
  ];
  return { title: 'Destinations: events/s per output, beside the official SDK', markdown: lines.join('\n') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchDestinations();
  process.stdout.write(`## ${r.title}\n\n${r.markdown}\n`);
}
