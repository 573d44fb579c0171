/**
 * `tailship status` after a known run with the collector down: files with their lag, the queue
 * per output, dead letters and the last error, as a table and as JSON; it reads the store
 * without disturbing the daemon that holds it.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ops/status.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { type Child, killIfRunning, runTailship, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  // The collector refuses everything for good: events stay queued (503) or become dead letters (401).
  collector = await new Collector({ writeKey: 'test-write-key', respond: () => ({ status: 503, body: 'maintenance' }) }).start();
});

afterEach(async () => {
  await killIfRunning(child);
  await collector.stop();
  tmp.cleanup();
});

it('shows files with lag, queue depth, dead letters and last errors, beside a running daemon', async () => {
  const log = path.join(tmp.dir, 'access.log');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(log, [1, 2, 3, 4].map((n) => nginxLine(n)).join('\n') + '\ngarbage line\n');
  writeFileSync(cfg, testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url, batchSize: 2 }));
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.requests.length >= 2, 15_000, 'failing requests');

  const json = await runTailship(['status', '--config', cfg, '--json']);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as StatusReport;
  expect(report.files).toHaveLength(1);
  expect(report.files[0]).toMatchObject({ pipeline: 'web', path: log, removed: false });
  const size = Buffer.byteLength([1, 2, 3, 4].map((n) => nginxLine(n)).join('\n') + '\ngarbage line\n');
  expect(report.files[0]!.size).toBe(size);
  expect(report.files[0]!.offset).toBe(size);
  expect(report.files[0]!.lag).toBe(0);
  expect(report.queues).toEqual([expect.objectContaining({ pipeline: 'web', output: 'rudderstack', events: 4 })]);
  expect(report.deadLetters).toEqual([{ pipeline: 'web', output: null, kind: 'parse', count: 1 }]);

  // Bytes the daemon has not read yet show as lag once it is stopped.
  child.proc.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
  appendFileSync(log, nginxLine(5) + '\n');
  const table = await runTailship(['status', '--config', cfg]);
  expect(table.code).toBe(0);
  const lines = table.stdout.split('\n');
  const fileRow = lines.find((l) => l.includes(log))!;
  expect(fileRow.trim().split(/\s+/).slice(-3)).toEqual([String(size), String(size + Buffer.byteLength(nginxLine(5) + '\n')), String(Buffer.byteLength(nginxLine(5) + '\n'))]);
  expect(table.stdout).toMatch(/QUEUE\n\s+PIPELINE\s+OUTPUT\s+EVENTS\s+ROWS\s+BYTES\s+OLDEST\n\s+web\s+rudderstack\s+4\s+/);
  expect(table.stdout).toMatch(/DEAD LETTERS\n\s+PIPELINE\s+OUTPUT\s+KIND\s+COUNT\n\s+web\s+-\s+parse\s+1/);
});
