/**
 * A processing worker that dies on a line (a plugin that exits, throws from a timer, or runs out
 * of heap) is replaced; its batch is processed again in halves until the line is found, which
 * becomes a counted parse dead letter; every other line is delivered, and the pipeline goes on.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Backpressure } from '../../src/run/backpressure.js';
import { Pipeline, type PipelineEvents } from '../../src/run/pipeline.js';
import type { StagesSetup } from '../../src/run/stages.js';
import { Store } from '../../src/store/store.js';
import { waitUntil } from '../helpers/time.js';
import { tempDir } from '../helpers/tmp.js';

const plugins = fileURLToPath(new URL('../../fixtures/parsers/plugins/', import.meta.url));

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let pipeline: Pipeline | undefined;
let failed: unknown;

beforeEach(() => {
  tmp = tempDir('tailship-worker-death-');
  store = new Store(path.join(tmp.dir, 'state'));
  failed = undefined;
});

afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
  store.close();
  tmp.cleanup();
});

class Recorder implements PipelineEvents {
  caughtUp = 0;
  /** Codes of the batch failures processing reported (for the log line and the errors metric). */
  readonly failures: string[] = [];
  processingFailed(_p: string, code: string): void {
    this.failures.push(code);
  }
  fileOpened(): void {}
  fileRotated(): void {}
  fileTruncated(): void {}
  fileClosed(): void {}
  lineTruncated(): void {}
  readError(): void {}
  processed(): void {}
  committed(): void {}
}

async function run(workers: number, lines: string[]): Promise<Recorder> {
  writeFileSync(path.join(tmp.dir, 'a.log'), lines.join('\n') + '\n');
  const { config } = loadConfigText(
    `
state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(path.join(tmp.dir, '*.log'))}]
        start_at: beginning
        max_read_bytes: 4KiB
        poll_interval: 50ms
    parser: { module: ./thread-killer.mjs }
    events:
      - type: track
        event: "Line"
        anonymousId: "{{ line }}"
    output: { type: stdout }
`,
    path.join(plugins, 'runner.yaml'),
    plugins,
    {},
  );
  const { output: _output, outputs: _outputs, ...p } = config.pipelines[0]!;
  const stages: StagesSetup = { pipeline: p, pipelineIndex: 0, configDir: plugins, host: 'h', version: '0', outputs: [{ name: 'stdout', encoder: { module: 'ndjson-encoder.js' }, maxEvents: 50, maxBytes: 100_000 }] };
  const events = new Recorder();
  const backpressure = new Backpressure({ maxRows: 1e9, maxBytes: 1e12, resumeRatio: 0.5 });
  pipeline = new Pipeline({ config: config.pipelines[0]!, stages, workers }, store, backpressure, events, () => {}, {
    onCaughtUp: () => events.caughtUp++,
    onFailed: (err) => (failed = err),
  });
  await pipeline.start();
  await waitUntil(() => events.caughtUp > 0 || failed !== undefined, 30_000, 'the pipeline to catch up');
  expect(failed).toBeUndefined();
  return events;
}

const delivered = (): string[] =>
  store.queue.next('web', 'stdout', 0, 1e6).flatMap((r) => r.events()).map((e) => (JSON.parse(e) as { anonymousId: string }).anonymousId);

const good = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `ok-${from + i}`);

it('sets aside a line that makes the worker exit, delivers the lines around it, and goes on with a new worker', async () => {
  const lines = [...good(1, 300), 'exit', ...good(301, 600), 'exit', ...good(601, 700)];
  const events = await run(1, lines);
  // Each death is reported once for the batch it was processing, not again while it is bisected.
  expect(events.failures.length).toBeGreaterThanOrEqual(1);
  expect(events.failures.length).toBeLessThanOrEqual(2);
  expect(new Set(events.failures)).toEqual(new Set(['worker_died']));
  expect(delivered()).toEqual(good(1, 700));
  const letters = store.deadLetters.list({ pipeline: 'web' });
  expect(letters.map((l) => l.payload)).toEqual(['exit', 'exit']);
  expect(letters[0]!.reason).toMatch(/processing failed on this line, which was set aside: processing worker died \(exited with code 7\)/);
  const [account] = store.lineAccounts.all();
  expect(account!.read).toBe(702);
  expect(account!.outcomes).toMatchObject({ queued: 700, deadLetterParse: 2 });
});

it('goes on when a worker dies of an exception thrown from a timer, losing no line', async () => {
  const lines = [...good(1, 200), 'timer', ...good(201, 400)];
  await run(1, lines);
  // The timer fires after its line was parsed: that line is delivered too, or set aside if its
  // batch was the one being processed when the thread died.
  const got = delivered();
  expect(got.filter((l) => l !== 'timer')).toEqual(good(1, 400));
  const [account] = store.lineAccounts.all();
  expect(account!.read).toBe(401);
  expect(account!.outcomes.queued + account!.outcomes.deadLetterParse).toBe(401);
});

it('sets aside a line on which a worker runs out of heap', async () => {
  const lines = [...good(1, 100), 'hog', ...good(101, 200)];
  await run(2, lines);
  expect(delivered()).toEqual(good(1, 200));
  expect(store.deadLetters.list({ pipeline: 'web' }).map((l) => l.payload)).toEqual(['hog']);
});
