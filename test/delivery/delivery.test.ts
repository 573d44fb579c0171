/**
 * Delivery behaviour against the real loopback collector: split on 413, Retry-After as an HTTP
 * date, several requests in flight with queue order kept inside each request, fan-out where one
 * output is down, and max_retry_age turning a long outage into dead letters.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;
const others: Collector[] = [];

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector().start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  for (const c of others.splice(0)) await c.stop();
  tmp.cleanup();
});

/** An output's YAML; keys given in `extra` replace the defaults. */
function rudder(url: string, extra = '', name?: string): string {
  const given = new Set(extra.split('\n').map((l) => l.trim().split(':')[0]));
  const defaults = ['batch_size: 50', 'flush_interval: 50ms', 'retry: { base: 20ms, cap: 200ms }'].filter((l) => !given.has(l.split(':')[0]!));
  return `
      - type: rudderstack
        ${name ? `name: ${name}` : ''}
        url: ${url}
        write_key: wk
${defaults.map((l) => `        ${l}\n`).join('')}${extra}`;
}

function writeLines(n: number, from = 1): void {
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: n }, (_, i) => nginxLine(from + i)).join('\n') + '\n');
}

const pathsOf = (c: Collector): number[] => c.messages.map((m) => Number((m.properties as { path: string }).path.split('/').pop()));
const batchOf = (json: unknown): Array<{ properties: { path: string } }> => (json as { batch: Array<{ properties: { path: string } }> }).batch;

it('splits a batch refused with 413 and delivers every half', async () => {
  collector.respond = (req) => (batchOf(req.json).length > 6 ? { status: 413, body: 'Request size too large' } : undefined);
  writeLines(100);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url) }), tmp.dir);
  await collector.waitFor(() => collector.seen.size >= 100, 15_000);
  expect(collector.requests.some((r) => batchOf(r.json).length === 50)).toBe(true);
  expect(daemon.store.deadLetters.counts()).toEqual([]);
  expect([...collector.seen.values()].every((n) => n === 1)).toBe(true);
  await until(() => daemon!.store.queue.depthByOutput().length === 0, 5_000, 'empty queue');
});

it('honours Retry-After given as an HTTP date', async () => {
  const answers: number[] = [];
  collector.respond = () => {
    answers.push(Date.now());
    // HTTP dates have whole seconds: two seconds ahead is at least one second away.
    return answers.length === 1 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } } : undefined;
  };
  writeLines(1);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url, '        concurrency: 1') }), tmp.dir);
  await collector.waitFor(() => collector.accepted >= 1, 10_000);
  expect(answers.length).toBe(2);
  // Without the header the next try would come after base (20 ms) with jitter.
  expect(answers[1]! - answers[0]!).toBeGreaterThanOrEqual(950);
});

it('keeps several requests in flight (concurrency) with queue order inside each request', async () => {
  collector.respond = () => ({ status: 200, delayMs: 150 });
  writeLines(600);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url, '        concurrency: 4\n        batch_size: 25') }), tmp.dir);
  await collector.waitFor(() => collector.seen.size >= 600, 20_000);
  expect(collector.maxInflight).toBeGreaterThan(1);
  expect(collector.maxInflight).toBeLessThanOrEqual(4);
  // Each request holds consecutive lines in file order, and the requests tile the file with
  // no overlap (arrival order between requests in flight is not promised).
  const ranges = collector.requests.map((r) => batchOf(r.json).map((m) => Number(m.properties.path.split('/').pop())));
  for (const ns of ranges) expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => ns[0]! + i));
  expect(ranges.sort((a, b) => a[0]! - b[0]!).flat()).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
  expect([...collector.seen.values()].every((n) => n === 1)).toBe(true);
});

it('fan-out: an output that is down holds up nothing for the other, and loses nothing itself', async () => {
  const down = await new Collector().start();
  others.push(down);
  let up = false;
  down.respond = () => (up ? undefined : { status: 503, body: 'maintenance' });
  writeLines(300);
  daemon = await startDaemon(
    pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url, '', 'primary') + rudder(down.url, '', 'backup') }),
    tmp.dir,
  );
  await collector.waitFor(() => collector.seen.size >= 300, 15_000, 'primary gets everything');
  appendFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: 100 }, (_, i) => nginxLine(301 + i)).join('\n') + '\n');
  await collector.waitFor(() => collector.seen.size >= 400, 15_000, 'primary keeps going');
  // The collector counts an event when the request arrives; the daemon removes the row only
  // once the response is back, so wait for primary's last ack before reading the depths.
  const primaryDrained = () => !daemon!.store.queue.depthByOutput().some((d) => d.output === 'primary');
  await until(primaryDrained, 5_000, 'primary acked');
  expect(down.accepted).toBe(0);
  const depth = daemon.store.queue.depthByOutput();
  expect(depth.map((d) => [d.output, d.events])).toEqual([['backup', 400]]);

  up = true;
  await down.waitFor(() => down.seen.size >= 400, 15_000, 'backup catches up');
  expect(pathsOf(down).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  // Same events, same messageIds, on both outputs.
  expect(new Set(down.seen.keys())).toEqual(new Set(collector.seen.keys()));
  expect(daemon.store.deadLetters.counts()).toEqual([]);
});

it('moves events to dead letters after max_retry_age, with the last error', async () => {
  collector.respond = () => ({ status: 503, body: 'down for good' });
  writeLines(10);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url, '        retry: { base: 20ms, cap: 100ms, max_retry_age: 400ms }') }), tmp.dir);
  await until(() => daemon!.store.deadLetters.counts().reduce((n, c) => n + c.count, 0) >= 10, 10_000, '10 dead letters');
  const letters = daemon.store.deadLetters.list({});
  expect(letters).toHaveLength(10);
  for (const l of letters) {
    expect(l).toMatchObject({ kind: 'delivery', output: 'rudderstack', status: 503 });
    expect(l.reason).toContain('max_retry_age');
    expect(l.reason).toContain('down for good');
    expect(l.attempts).toBeGreaterThan(1);
  }
  expect(collector.requests.length).toBeGreaterThan(1);
  await until(() => daemon!.store.queue.depthByOutput().length === 0, 5_000, 'empty queue');
});

it("sends a backlog's last partial batch as soon as reading catches up, and holds a trickle for flush_interval", async () => {
  writeLines(120);
  daemon = await startDaemon(pipelineYaml({ dir: tmp.dir, outputs: rudder(collector.url, '        flush_interval: 1h') }), tmp.dir);
  // Two full batches of 50 and the remainder of 20, which nothing else would fill within the hour.
  await collector.waitFor(() => collector.seen.size >= 120, 15_000);
  expect(collector.requests.map((r) => batchOf(r.json).length)).toEqual([50, 50, 20]);
  // Lines arriving one at a time after that wait for a full batch or flush_interval, as configured.
  appendFileSync(path.join(tmp.dir, 'access.log'), nginxLine(121) + '\n');
  await until(() => daemon!.store.queue.depthByOutput().some((d) => d.events === 1), 10_000, 'the trickled line queued');
  // The pipeline calls the emitters right after the commit: a premature send would show by now.
  await until(() => daemon!.store.queue.depthByOutput().some((d) => d.events === 1), 10_000, 'still queued');
  expect(collector.seen.size).toBe(120);
});
