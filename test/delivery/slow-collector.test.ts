/**
 * A collector slower than the output's `timeout` (a real HTTP server on 127.0.0.1 that answers
 * after 700 ms; timeout 250 ms): each timed-out request is logged as such, counted in
 * tailship_output_request_timeouts_total, and the next one waits twice as long (250, 500, then 1000 ms
 * gets the answer): the events arrive instead of being sent again and again.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ respond: () => ({ status: 200, delayMs: 700 }) }).start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

it('says the collector is slower than the timeout, counts it, and waits longer each time', async () => {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const yaml = pipelineYaml({ dir: tmp.dir, outputs: `
      - type: rudderstack
        url: ${collector.url}
        write_key: wk
        batch_size: 100
        concurrency: 1
        flush_interval: 50ms
        timeout: 250ms
        retry: { base: 20ms, cap: 100ms }` });
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: 50 }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  daemon = await Daemon.create(loadConfigText(yaml, 'test.yaml', tmp.dir, {}), pino({ level: 'info' }, sink));
  await daemon.start();
  await collector.waitFor(() => collector.seen.size >= 50, 30_000, 'every event');
  await collector.waitFor(() => daemon!.store.queue.depthByOutput().length === 0, 10_000, 'the queue to empty');

  const timeouts = logs.filter((l) => String(l.msg).startsWith('collector slower than the request timeout'));
  // (A very busy machine may need one more doubling; the first two are always these.)
  expect(timeouts.slice(0, 2).map((l) => [l.timeoutMs, l.nextTimeoutMs])).toEqual([
    [250, 500],
    [500, 1000],
  ]);
  expect(timeouts[0]).toMatchObject({ code: 'REQUEST_TIMEOUT', output: 'rudderstack', level: 40 });
  expect(String(timeouts[0]!.msg)).toContain("raise the output's `timeout`");
  const metrics = await daemon.observer.metrics.text();
  expect(metrics).toContain(`tailship_output_request_timeouts_total{pipeline="web",output="rudderstack"} ${timeouts.length}`);
});
