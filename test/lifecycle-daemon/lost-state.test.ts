/**
 * The state directory lost (a wiped volume, a pod rescheduled without its state): a daemon
 * started again with `start_at: beginning` reads every file again, and every line arrives with
 * the messageId it had, so a deduplicating collector counts it once. File keys come from the
 * files themselves (src/source/identity.ts).
 */
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { type Child, killIfRunning, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'test-write-key' }).start();
});

afterEach(async () => {
  await killIfRunning(child);
  await collector.stop();
  tmp.cleanup();
});

const block = (from: number, to: number): string => {
  let s = '';
  for (let n = from; n <= to; n++) s += nginxLine(n) + '\n';
  return s;
};

it('gives every line the messageId it had after the state directory is deleted', async () => {
  const stateDir = path.join(tmp.dir, 'state');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(cfg, testConfig({ stateDir, logGlob: path.join(tmp.dir, '*.log'), url: collector.url }));
  const a = path.join(tmp.dir, 'a.log');
  const b = path.join(tmp.dir, 'b.log');
  const c = path.join(tmp.dir, 'c.log');
  // b.log starts with the very line a.log starts with: its ids must still be its own.
  writeFileSync(a, block(1, 40));
  writeFileSync(b, nginxLine(1) + '\n' + block(101, 139));
  // c.log's first line is not complete when the daemon first sees it.
  const first = nginxLine(201);
  writeFileSync(c, first.slice(0, 30));

  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.accepted >= 80, 20_000, 'a.log and b.log delivered');
  appendFileSync(c, first.slice(30) + '\n' + block(202, 220));
  await collector.waitFor(() => collector.accepted >= 100, 20_000, 'c.log delivered');
  child.proc.kill('SIGTERM');
  await child.exited;
  expect(collector.accepted).toBe(100);
  const firstRun = new Set(collector.seen.keys());
  expect(firstRun.size).toBe(100);

  rmSync(stateDir, { recursive: true, force: true });
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.accepted >= 200, 20_000, 'every line delivered again');
  child.proc.kill('SIGTERM');
  await child.exited;
  expect(collector.accepted).toBe(200);
  // Each line once per run, with one id: no id is new in the second run.
  expect(collector.seen.size).toBe(100);
  expect([...collector.seen.values()].every((n) => n === 2)).toBe(true);
});
