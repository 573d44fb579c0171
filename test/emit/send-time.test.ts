/**
 * Send-time fields are stamped at each attempt, event times never: rows queued through the real
 * mapper and row format, sent by the real emitter and destination to a loopback collector that
 * is down for 10 minutes of a controllable clock (each refused attempt moves it 5 minutes on),
 * then takes them. No real 10-minute wait: the clock is the destination's and the emitter's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText, pipelineOutputs } from '../../src/config/load.js';
import { systemClock } from '../../src/clock.js';
import { Emitter } from '../../src/emit/emitter.js';
import { createDestination, encoderSpec } from '../../src/emit/registry.js';
import type { Destination } from '../../src/emit/destination.js';
import { ChunkBuilder } from '../../src/run/chunker.js';
import { buildStages } from '../../src/run/stages.js';
import { Store } from '../../src/store/store.js';
import { Collector, type RequestInfo } from '../helpers/collector.js';
import { tempDir } from '../helpers/tmp.js';

/** The log lines' own times, long before the outage. */
const LINES = [
  { t: '2026-03-01T09:00:00.000Z', user: 'u-1', path: '/a' },
  { t: '2026-03-01T09:00:01.500Z', user: 'u-2', path: '/b' },
  { t: '2026-03-01T09:00:02.250Z', user: 'u-3', path: '/c' },
];
const OUTAGE_START = Date.parse('2026-03-02T12:00:00.000Z');
const STEP_MS = 5 * 60_000;

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let store: Store | undefined;
let emitter: Emitter | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'wk-1' }).start();
});

afterEach(async () => {
  await emitter?.stop();
  emitter = undefined;
  store?.close();
  store = undefined;
  await collector.stop();
  tmp.cleanup();
});

/** Queues LINES for the output as the processing stage does, and starts its emitter on `now`. */
async function queueAndSend(type: 'rudderstack' | 'segment', gzip: boolean, now: () => number): Promise<void> {
  const yaml = `
state_dir: ${JSON.stringify(tmp.dir)}
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(tmp.dir + '/x.log')}] }]
    parser: { type: json }
    events:
      - type: track
        event: Page Viewed
        userId: "{{ user }}"
        properties: { path: "{{ path }}" }
        timestamp: "{{ t }}"
        timestamp_format: iso8601
    output:
      type: ${type}
      url: ${collector.url}
      write_key: wk-1
      gzip: ${gzip}
      flush_interval: 10ms
      retry: { base: 10ms, cap: 20ms }
`;
  const loaded = loadConfigText(yaml, 'test.yaml', tmp.dir, {});
  const p = loaded.config.pipelines[0]!;
  const [o] = pipelineOutputs(p);
  const dest: Destination = await createDestination(o!, now);
  const { output: _o, outputs: _os, ...pipeline } = p;
  const stages = await buildStages({
    pipeline, pipelineIndex: 0, configDir: tmp.dir, host: 'h', version: '1.2.3',
    outputs: [{ name: dest.name, encoder: encoderSpec(o!, { schemas: {} }), maxEvents: dest.limits.maxEvents, maxBytes: dest.limits.maxBytes }],
  });
  const builder = new ChunkBuilder(dest.name, dest.limits, stages.outputs[0]!.encoder, 'file-key');
  LINES.forEach((line, i) => {
    for (const out of stages.mapper.mapWith(line, { fileKey: 'file-key', file: 'x.log', offset: i * 100, readAtMs: OUTAGE_START }, stages.writers)) {
      if (!out.ok) throw new Error(out.reason);
      builder.add('json' in out ? out.json : stages.outputs[0]!.encoder.encode(out.event), i * 100, i * 100 + 99);
    }
  });
  store = new Store(tmp.dir);
  store.commit({ pipeline: 'web', chunks: builder.finish(), deadLetters: [] });
  const noop = (): void => undefined;
  emitter = new Emitter('web', dest, store, { batchSent: noop, batchFailed: noop, deadLettered: noop }, { clock: { now, sleep: systemClock.sleep }, onFailed: noop });
  emitter.start();
  emitter.drain();
}

/** A collector down for the first three attempts; each refusal moves the clock 5 minutes on. */
function outage(clock: { ms: number }): void {
  collector.respond = (req: RequestInfo) => {
    if (req.n >= 3) return undefined;
    clock.ms += STEP_MS;
    return { status: 503, body: 'down' };
  };
}

type Message = { messageId: string; sentAt?: string; originalTimestamp?: string; timestamp?: string };
const batchOf = (r: RequestInfo): Message[] => (r.json as { batch: Message[] }).batch;

describe('send-time fields and event times across a 10-minute outage', () => {
  it.each([true, false])('RudderStack (gzip %s): every message gets a new sentAt at each attempt; originalTimestamp stays the log time', async (gzip) => {
    const clock = { ms: OUTAGE_START };
    outage(clock);
    await queueAndSend('rudderstack', gzip, () => clock.ms);
    await collector.waitFor(() => collector.accepted === LINES.length, 15_000, 'the retried batch');
    expect(collector.requests).toHaveLength(4);
    const attempts = collector.requests.map(batchOf);
    // Attempt k was made at OUTAGE_START + k·5 min: three refused, the fourth 15 minutes in.
    attempts.forEach((batch, k) => {
      const sentAt = new Date(OUTAGE_START + k * STEP_MS).toISOString();
      expect((collector.requests[k]!.json as { sentAt: string }).sentAt).toBe(sentAt);
      for (const m of batch) expect(m.sentAt).toBe(sentAt);
    });
    expect(new Set(attempts.map((b) => b[0]!.sentAt)).size).toBe(4);
    for (const batch of attempts) {
      expect(batch.map((m) => m.originalTimestamp)).toEqual(LINES.map((l) => l.t));
      expect(batch.map((m) => m.messageId)).toEqual(attempts[0]!.map((m) => m.messageId));
      for (const m of batch) expect(m.timestamp).toBeUndefined();
    }
  });

  it('Segment: the batch gets a new sentAt at each attempt; timestamp stays the log time', async () => {
    const clock = { ms: OUTAGE_START };
    outage(clock);
    await queueAndSend('segment', false, () => clock.ms);
    await collector.waitFor(() => collector.accepted === LINES.length, 15_000, 'the retried batch');
    expect(collector.requests).toHaveLength(4);
    collector.requests.forEach((r, k) => {
      expect((r.json as { sentAt: string }).sentAt).toBe(new Date(OUTAGE_START + k * STEP_MS).toISOString());
      const batch = batchOf(r);
      expect(batch.map((m) => m.timestamp)).toEqual(LINES.map((l) => l.t));
      for (const m of batch) {
        expect(m.sentAt).toBeUndefined();
        expect(m.originalTimestamp).toBeUndefined();
      }
    });
  });
});
