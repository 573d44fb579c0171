/**
 * The emitter alone: queue rows in a real SQLite file, a real collector on 127.0.0.1, and a
 * FakeClock for flush deadlines and retry delays, so a schedule is checked by what the emitter
 * asks the clock for, never by waiting for it.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DeliveryResult } from '../../src/emit/destination.js';
import { Emitter, type DeliveryDeadLetterCode, type EmitterEvents } from '../../src/emit/emitter.js';
import { loadEncoder } from '../../src/emit/encoders.js';
import { createDestination, encoderSpec, outputSchema } from '../../src/emit/registry.js';
import { ChunkBuilder } from '../../src/run/chunker.js';
import { Store } from '../../src/store/store.js';
import { Collector, type RequestInfo } from '../helpers/collector.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/time.js';

const WRITE_KEY = 'wk-emitter-test';
const EVENTS = 8;

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let store: Store | undefined;
let emitter: Emitter | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: WRITE_KEY }).start();
});

afterEach(async () => {
  await emitter?.stop();
  emitter = undefined;
  store?.close();
  store = undefined;
  await collector.stop();
  tmp.cleanup();
});

/** What the emitter reported, in order. */
class Reports implements EmitterEvents {
  readonly sent: number[] = [];
  readonly failed: Array<{ kind: string; status: number | undefined; delayMs: number }> = [];
  readonly dead: Array<{ count: number; code: DeliveryDeadLetterCode; reason: string }> = [];
  readonly failures: Array<Error & { code: string }> = [];
  batchSent(_output: string, events: number): void {
    this.sent.push(events);
  }
  batchFailed(_output: string, result: Exclude<DeliveryResult, { kind: 'ok' }>, _attempt: number, delayMs: number): void {
    this.failed.push({ kind: result.kind, status: result.status, delayMs });
  }
  deadLettered(_output: string, count: number, code: DeliveryDeadLetterCode, reason: string): void {
    this.dead.push({ count, code, reason });
  }
}

function message(i: number, padding = 0): string {
  return JSON.stringify({ type: 'track', event: 'Signed Up', messageId: `m-${i}`, anonymousId: 'a-1', properties: { i, pad: 'x'.repeat(padding) } });
}

const ids = (r: RequestInfo): string[] => ((r.json as { batch?: Array<{ messageId: string }> }).batch ?? []).map((m) => m.messageId);

/**
 * EVENTS rows' worth of events queued for a rudderstack output (one row, committed at the fake
 * clock's time), and an emitter over them. Not started.
 */
async function setUp(options: { output?: Record<string, unknown>; padded?: Record<number, number>; storeOf?: (s: Store) => Store } = {}) {
  const clock = new FakeClock();
  const reports = new Reports();
  const o = { ...outputSchema.parse({ type: 'rudderstack', url: collector.url, write_key: WRITE_KEY, flush_interval: '1s', retry: { base: '1s', cap: '30s' }, ...options.output }), name: 'rudderstack' };
  const dest = await createDestination(o, () => clock.now());
  const encoder = await loadEncoder(encoderSpec(o, { schemas: {} }));
  const builder = new ChunkBuilder(o.name, dest.limits, encoder, 'file-key');
  for (let i = 0; i < EVENTS; i++) builder.add(message(i, options.padded?.[i] ?? 0), i * 100, i * 100 + 99);
  store = new Store(tmp.dir);
  store.commit({ pipeline: 'web', chunks: builder.finish(), deadLetters: [] }, clock.now());
  if (options.storeOf) store = options.storeOf(store);
  emitter = new Emitter('web', dest, store, reports, { clock, onFailed: (err) => reports.failures.push(err) });
  return { clock, reports, emitter, store };
}

function queuedEvents(s: Store): number {
  return s.queue.depthByOutput().reduce((n, d) => n + d.events, 0);
}

/** Resolves once the emitter sleeps on the clock; returns what it asked for. */
async function nextSleep(clock: FakeClock, what: string): Promise<number> {
  await waitUntil(() => clock.sleeping.length > 0, 10_000, what);
  expect(clock.sleeping).toHaveLength(1);
  return clock.sleeping[0]!;
}

it('waits flush_interval on the clock for a partial batch, then sends it', async () => {
  const { clock, emitter, store } = await setUp();
  emitter.start();
  expect(await nextSleep(clock, 'the flush deadline')).toBe(1000);
  expect(collector.requests).toHaveLength(0);
  await clock.advance(1000);
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be delivered');
  expect(collector.requests).toHaveLength(1);
  expect(collector.seen.size).toBe(EVENTS);
  expect(queuedEvents(store)).toBe(0);
});

it('retries a failed request after the backoff delay it asks the clock for, doubling, then acknowledges', async () => {
  collector.respond = (r) => (r.n < 2 ? { status: 503, body: 'overloaded' } : undefined);
  const { clock, reports, emitter, store } = await setUp();
  emitter.drain();
  emitter.start();
  const first = await nextSleep(clock, 'the first retry delay');
  // base 1s: equal jitter keeps the first delay within [0.5 s, 1 s], the second within [1 s, 2 s].
  expect(first).toBeGreaterThanOrEqual(500);
  expect(first).toBeLessThanOrEqual(1000);
  expect(reports.failed).toEqual([{ kind: 'retry', status: 503, delayMs: first }]);
  expect(collector.requests).toHaveLength(1);
  await clock.advance(first);
  await waitUntil(() => reports.failed.length === 2, 10_000, 'the second attempt');
  const second = await nextSleep(clock, 'the second retry delay');
  expect(second).toBeGreaterThanOrEqual(1000);
  expect(second).toBeLessThanOrEqual(2000);
  expect(reports.failed[1]!.delayMs).toBe(second);
  expect(collector.requests).toHaveLength(2);
  await clock.advance(second);
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be delivered');
  expect(collector.requests).toHaveLength(3);
  expect(reports.sent).toEqual([EVENTS]);
  expect(collector.seen.size).toBe(EVENTS);
  expect(queuedEvents(store)).toBe(0);
  expect(emitter.consecutiveFailures).toBe(0);
});

it("waits what the collector's Retry-After says rather than its own backoff", async () => {
  collector.respond = (r) => (r.n === 0 ? { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' } : undefined);
  const { clock, reports, emitter } = await setUp();
  emitter.drain();
  emitter.start();
  expect(await nextSleep(clock, 'the Retry-After delay')).toBe(7000);
  expect(reports.failed).toEqual([{ kind: 'retry', status: 429, delayMs: 7000 }]);
  await clock.advance(6999);
  expect(collector.requests).toHaveLength(1);
  await clock.advance(1);
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be delivered');
  expect(collector.requests).toHaveLength(2);
  expect(collector.seen.size).toBe(EVENTS);
});

it('bisects a request refused with 400 down to the one event refused, which becomes a dead letter', async () => {
  collector.respond = (r) => (ids(r).includes('m-5') ? { status: 400, body: 'invalid event' } : undefined);
  const { clock, reports, emitter, store } = await setUp();
  emitter.drain();
  emitter.start();
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be settled');
  expect([...collector.seen.keys()].sort()).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-6', 'm-7']);
  expect(reports.dead).toEqual([{ count: 1, code: 'rejected', reason: 'HTTP 400: invalid event' }]);
  const [letter, ...more] = store.deadLetters.list({});
  expect(more).toHaveLength(0);
  expect(letter).toMatchObject({ output: 'rudderstack', status: 400, response: 'invalid event' });
  expect(letter!.payload).toContain('"messageId":"m-5"');
  expect(queuedEvents(store)).toBe(0);
  // Splitting waits for nothing.
  expect(clock.sleeping).toEqual([]);
});

it('splits a request refused with 413 until the parts fit, and dead-letters nothing', async () => {
  collector.respond = (r) => (ids(r).length > 3 ? { status: 413, body: 'request too large' } : undefined);
  const { reports, emitter, store } = await setUp();
  emitter.drain();
  emitter.start();
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be settled');
  expect(collector.seen.size).toBe(EVENTS);
  expect([...collector.seen.values()].every((n) => n === 1)).toBe(true);
  expect(reports.failed.every((f) => f.kind === 'split' && f.status === 413)).toBe(true);
  expect(reports.sent.every((n) => n <= 3)).toBe(true);
  expect(reports.dead).toEqual([]);
  expect(store.deadLetters.list({})).toEqual([]);
  expect(queuedEvents(store)).toBe(0);
});

it('dead-letters a batch still failing after max_retry_age, by the clock', async () => {
  collector.respond = () => ({ status: 503, body: 'down' });
  const { clock, reports, emitter, store } = await setUp({ output: { retry: { base: '1s', cap: '2s', max_retry_age: '5s' } } });
  emitter.drain();
  emitter.start();
  while (reports.dead.length === 0) {
    await waitUntil(() => clock.sleeping.length > 0 || reports.dead.length > 0, 10_000, 'a retry delay or the dead letters');
    if (clock.sleeping.length > 0) await clock.advance(clock.sleeping[0]!);
  }
  await waitUntil(() => emitter.idle(), 10_000, 'the rows to leave the queue');
  expect(reports.dead).toEqual([{ count: EVENTS, code: 'max_retry_age', reason: 'gave up after max_retry_age: HTTP 503: down' }]);
  // Every attempt but the last waited; together at least max_retry_age.
  const waited = reports.failed.reduce((n, f) => n + f.delayMs, 0);
  expect(waited).toBeGreaterThanOrEqual(5000);
  expect(collector.requests.length).toBe(reports.failed.length + 1);
  expect(store.deadLetters.list({})).toHaveLength(EVENTS);
  expect(queuedEvents(store)).toBe(0);
});

it('dead-letters an event over max_message_bytes as too_large and sends the others', async () => {
  const { reports, emitter, store } = await setUp({ output: { max_message_bytes: 400 }, padded: { 2: 600 } });
  emitter.drain();
  emitter.start();
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be settled');
  expect(collector.seen.size).toBe(EVENTS - 1);
  expect(collector.seen.has('m-2')).toBe(false);
  expect(reports.dead).toEqual([{ count: 1, code: 'too_large', reason: 'message larger than max_message_bytes (400)' }]);
  expect(queuedEvents(store)).toBe(0);
});

it('dead-letters what the collector refuses for good (401) as rejected, each code counted on its own', async () => {
  const { reports, emitter, store } = await setUp({ output: { write_key: 'not-the-key', max_message_bytes: 400 }, padded: { 0: 600 } });
  emitter.drain();
  emitter.start();
  await waitUntil(() => emitter.idle(), 10_000, 'the batch to be settled');
  expect(collector.seen.size).toBe(0);
  expect(reports.dead).toEqual([
    { count: 1, code: 'too_large', reason: 'message larger than max_message_bytes (400)' },
    { count: EVENTS - 1, code: 'rejected', reason: 'HTTP 401: Invalid Write Key' },
  ]);
  expect(store.deadLetters.list({})).toHaveLength(EVENTS);
  expect(queuedEvents(store)).toBe(0);
});

it('hands an acknowledgement that fails on a store error to its failure path, never as an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    // The rows are committed, then the store is reopened read-only: reading them works,
    // acknowledging them fails with SQLITE_READONLY, which no wait can cure.
    const { reports, emitter } = await setUp({
      storeOf: (s) => {
        s.close();
        return new Store(tmp.dir, { readonly: true });
      },
    });
    emitter.drain();
    emitter.start();
    await waitUntil(() => reports.failures.length > 0, 10_000, 'the failure to be reported');
    expect(collector.seen.size).toBe(EVENTS);
    expect(reports.failures).toHaveLength(1);
    expect(reports.failures[0]!.code).toBe('SQLITE_READONLY');
    expect(emitter.lastError).toBe('stopped: SQLITE_READONLY');
    // Stopped: nothing more is sent, and the daemon's drain loops see it as done.
    expect(emitter.idle()).toBe(true);
    await emitter.stop();
    expect(unhandled).toEqual([]);
    // The delivered rows stay queued for the next start (at least once).
    store!.close();
    store = new Store(tmp.dir);
    expect(queuedEvents(store)).toBe(EVENTS);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

it('stops through the same path, with a code, when an error without one comes from the store', async () => {
  collector.respond = () => {
    // The store goes away while the request is out: acknowledging throws a TypeError.
    store!.close();
    return undefined;
  };
  const { reports, emitter } = await setUp();
  emitter.drain();
  emitter.start();
  await waitUntil(() => reports.failures.length > 0, 10_000, 'the failure to be reported');
  expect(reports.failures).toHaveLength(1);
  const failure = reports.failures[0]!;
  expect(failure.code).toBe('TAILSHIP_OUTPUT_FAILED');
  expect(failure.cause).toBeInstanceOf(TypeError);
  expect(emitter.idle()).toBe(true);
});
