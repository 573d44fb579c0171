/**
 * The runner (src/run/pipeline.ts) on its own: real files, a real SQLite store, real processing
 * (inline or on worker threads), and a fake clock, so that polls and the store-full retry
 * schedule are checked without waiting on real time.
 */
import { appendFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Backpressure } from '../../src/run/backpressure.js';
import { Pipeline, type PipelineEvents } from '../../src/run/pipeline.js';
import type { StagesSetup } from '../../src/run/stages.js';
import { joinerFactory } from '../../src/source/joiners.js';
import { Store } from '../../src/store/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitUntil } from '../helpers/time.js';
import { tempDir } from '../helpers/tmp.js';
import { storeConnection } from '../helpers/store-connection.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  tmp = tempDir('tailship-runner-');
  store = new Store(path.join(tmp.dir, 'state'));
});

afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
  store.close();
  tmp.cleanup();
});

/** What the runner reported, in order. */
class Recorder implements PipelineEvents {
  readonly unavailable: Array<{ retryInMs: number; failures: number }> = [];
  readonly recovered: number[] = [];
  readonly failures: unknown[] = [];
  commits = 0;
  caughtUp = 0;
  fileOpened(): void {}
  fileRotated(): void {}
  fileTruncated(): void {}
  fileClosed(): void {}
  lineTruncated(): void {}
  readError(path: string, err: unknown): void {
    throw new Error(`read error on ${path}: ${String(err)}`);
  }
  processed(): void {}
  committed(): void {
    this.commits++;
  }
  storeUnavailable(_pipeline: string, _err: unknown, retryInMs: number, failures: number): void {
    this.unavailable.push({ retryInMs, failures });
  }
  storeRecovered(_pipeline: string, pausedMs: number): void {
    this.recovered.push(pausedMs);
  }
}

function start(opts: { workers: number; maxReadBytes: number; multiline?: string }, clock: FakeClock, events: Recorder): Pipeline {
  const { config } = loadConfigText(
    `
state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(path.join(tmp.dir, '*.log'))}]
        start_at: beginning
        max_read_bytes: ${opts.maxReadBytes}
        poll_interval: 100ms
    parser: { type: json }
    ${opts.multiline ? `multiline: ${opts.multiline}` : ''}
    events:
      - type: track
        event: "Line"
        anonymousId: "{{ n }}"
    output: { type: stdout }
`,
    'runner.yaml',
    tmp.dir,
    {},
  );
  const { output: _output, outputs: _outputs, ...p } = config.pipelines[0]!;
  const stages: StagesSetup = { pipeline: p, pipelineIndex: 0, configDir: tmp.dir, host: 'h', version: '0', outputs: [{ name: 'stdout', encoder: { module: 'ndjson-encoder.js' }, maxEvents: 50, maxBytes: 100_000 }] };
  const backpressure = new Backpressure({ maxRows: 1e9, maxBytes: 1e12, resumeRatio: 0.5 }, undefined, clock);
  const newJoiner = joinerFactory(config.pipelines[0]!, 0, undefined, clock);
  pipeline = new Pipeline({ config: config.pipelines[0]!, stages, workers: opts.workers, newJoiner }, store, backpressure, events, () => {}, {
    clock,
    onCaughtUp: () => events.caughtUp++,
    onFailed: (err) => events.failures.push(err),
  });
  return pipeline;
}

const jsonLines = (from: number, to: number): string => {
  let s = '';
  for (let n = from; n <= to; n++) s += `{"n":${n}}\n`;
  return s;
};

/** Lets the pipeline poll (every 100 ms of fake time) until `done`. */
async function polls(clock: FakeClock, done: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) {
    await waitUntil(() => done() || clock.sleeping.includes(100), 10_000, 'the pipeline to wait for its next poll');
    if (!done()) await clock.advance(100);
  }
  expect(done()).toBe(true);
}

/** The queue's rows for the one output, oldest first. */
const rows = () => store.queue.next('web', 'stdout', 0, 1e6);

it('commits reads in read order: each row continues where the one before ended, and the offset follows', async () => {
  const log = path.join(tmp.dir, 'a.log');
  writeFileSync(log, jsonLines(1, 3000));
  const clock = new FakeClock();
  const events = new Recorder();
  // Small reads on two worker threads: results come back in any order, commits may not.
  await start({ workers: 2, maxReadBytes: 1024 }, clock, events).start();
  await waitUntil(() => events.caughtUp > 0, 20_000, 'the pipeline to catch up');

  const got = rows();
  expect(got.length).toBeGreaterThan(20);
  expect(got[0]!.startOffset).toBe(0);
  for (let i = 1; i < got.length; i++) expect(got[i]!.startOffset).toBe(got[i - 1]!.endOffset);
  expect(got.at(-1)!.endOffset).toBe(statSync(log).size);
  expect(got.flatMap((r) => r.events()).map((e) => (JSON.parse(e) as { anonymousId: string }).anonymousId)).toEqual(
    Array.from({ length: 3000 }, (_, i) => String(i + 1)),
  );
  expect(store.files.forPipeline('web').map((s) => s.offset)).toEqual([statSync(log).size]);
  expect(events.failures).toEqual([]);
});

it('holds a commit the store refuses, retries it at 1 s, 2 s, 4 s (not sooner when woken), and goes on once there is room', async () => {
  const log = path.join(tmp.dir, 'a.log');
  writeFileSync(log, jsonLines(1, 10));
  const clock = new FakeClock();
  const events = new Recorder();
  const p = start({ workers: 0, maxReadBytes: 64 * 1024 }, clock, events);
  await p.start();
  await waitUntil(() => events.caughtUp === 1, 10_000, 'the first lines committed');
  const queuedBefore = rows().length;

  // A real SQLITE_FULL: the database may not grow past its current size.
  const pages = storeConnection(store).pragma('page_count', { simple: true }) as number;
  storeConnection(store).pragma(`max_page_count = ${pages}`);
  appendFileSync(log, jsonLines(11, 4000));
  await clock.advance(100); // the poll: the pipeline reads the new lines and tries to commit them
  await waitUntil(() => events.unavailable.length === 1, 10_000, 'the commit refused');
  expect(events.unavailable[0]).toEqual({ retryInMs: 1000, failures: 1 });
  expect(clock.sleeping).toEqual([1000]);

  // New files and rescans wake the pipeline: they must not shorten the wait into a busy loop.
  for (let i = 0; i < 5; i++) p.wake();
  expect(clock.sleeping).toEqual([1000]);
  await clock.advance(999);
  expect(clock.sleeping).toEqual([1]);
  expect(events.unavailable).toHaveLength(1);
  await clock.advance(1);
  await waitUntil(() => events.unavailable.length === 2, 10_000, 'the first retry');
  expect(events.unavailable[1]).toEqual({ retryInMs: 2000, failures: 2 });
  await clock.advance(2000);
  await waitUntil(() => events.unavailable.length === 3, 10_000, 'the second retry');
  expect(events.unavailable[2]).toEqual({ retryInMs: 4000, failures: 3 });
  expect(rows()).toHaveLength(queuedBefore);

  storeConnection(store).pragma('max_page_count = 1073741823');
  await clock.advance(4000);
  await waitUntil(() => events.recovered.length === 1, 10_000, 'the held commit to go through');
  expect(events.recovered).toEqual([7000]);
  await waitUntil(() => events.caughtUp === 2, 10_000, 'the rest committed');
  expect(rows().reduce((n, r) => n + r.eventCount, 0)).toBe(4000);
  expect(store.files.forPipeline('web').map((s) => s.offset)).toEqual([statSync(log).size]);
  expect(events.failures).toEqual([]);
});

it('a rename rotation while the store refuses: the new file waits with the held commit, and every line arrives once there is room', async () => {
  const log = path.join(tmp.dir, 'a.log');
  writeFileSync(log, jsonLines(1, 10));
  const clock = new FakeClock();
  const events = new Recorder();
  await start({ workers: 0, maxReadBytes: 64 * 1024 }, clock, events).start();
  await waitUntil(() => events.caughtUp === 1, 10_000, 'the first lines committed');

  const pages = storeConnection(store).pragma('page_count', { simple: true }) as number;
  storeConnection(store).pragma(`max_page_count = ${pages}`);
  renameSync(log, path.join(tmp.dir, 'a.log.1'));
  writeFileSync(log, jsonLines(11, 3000));
  await clock.advance(100); // the poll: the old file is at its end, its path leads to the new one
  await waitUntil(() => events.unavailable.length === 1, 10_000, 'the commit refused');
  // Nothing of the new file is committed: no offset past lines that are not queued.
  expect(store.files.forPipeline('web').filter((s) => s.offset > 0).map((s) => s.path)).toEqual([log]);
  expect(rows().reduce((n, r) => n + r.eventCount, 0)).toBe(10);

  storeConnection(store).pragma('max_page_count = 1073741823');
  await clock.advance(1000);
  await waitUntil(() => events.recovered.length === 1 && events.caughtUp === 2, 10_000, 'the rest committed');
  const ids = rows().flatMap((r) => r.events()).map((e) => Number((JSON.parse(e) as { anonymousId: string }).anonymousId));
  expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  const newFile = store.files.forPipeline('web').find((s) => s.ino === statSync(log).ino);
  expect(newFile?.offset).toBe(statSync(log).size);
  expect(events.failures).toEqual([]);
});

it('a truncation drops the lines held back (an open multiline group, an unfinished line) and counts them in the same file life', async () => {
  const log = path.join(tmp.dir, 'a.log');
  // {"n":1} is complete once {"n":2} starts; {"n":2} and its continuation wait for the next line
  // (the multiline timeout does not pass on the fake clock); {"n":3 has no newline yet.
  writeFileSync(log, '{"n":1}\n{"n":2,\n  "more":true}\n{"n":3');
  const clock = new FakeClock();
  const events = new Recorder();
  await start({ workers: 0, maxReadBytes: 64 * 1024, multiline: "{ pattern: '^\\s', match: after, timeout: 1h }" }, clock, events).start();
  await waitUntil(() => events.caughtUp === 1, 10_000, 'the first line committed');
  const [before] = store.lineAccounts.all();
  expect(before).toMatchObject({ read: 1, outcomes: { queued: 1 } });

  writeFileSync(log, '{"n":4}\n'); // truncated in place and written again
  await polls(clock, () => events.caughtUp === 2); // one poll notices the truncation, the next reads

  const old = store.lineAccounts.all().find((a) => a.fileKey === before!.fileKey);
  expect(old).toMatchObject({ read: 4, outcomes: { queued: 1, droppedAtTruncation: 3 } });
  expect(store.files.forPipeline('web').find((s) => s.fileKey === before!.fileKey)?.removedAt).not.toBeNull();
  expect(events.failures).toEqual([]);
});
