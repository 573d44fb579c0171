/**
 * Stopping a real daemon: SIGTERM delivers what is queued within shutdown_timeout and exits 0;
 * with the collector down it exits 0 after shutdown_timeout keeping the events queued; a second
 * signal stops it at once, killed by that signal (as Filebeat and Vector do). In every case the next start delivers whatever was left: nothing
 * is lost.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { type Child, killIfRunning, runTailship, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const LINES = 300;
let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let down = true;
let child: Child | undefined;
let cfg = '';

beforeEach(async () => {
  tmp = tempDir();
  down = true;
  collector = await new Collector({ writeKey: 'test-write-key', respond: () => (down ? { status: 503, body: 'down' } : undefined) }).start();
  cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: LINES }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  writeFileSync(cfg, testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url, batchSize: 50 }).replace(/log_level: \w+/, 'log_level: info'));
});

afterEach(async () => {
  await killIfRunning(child);
  await collector.stop();
  tmp.cleanup();
});

const paths = (): Set<unknown> => new Set(collector.messages.map((m) => (m.properties as { path: string }).path));

async function startAndWaitForFailures(): Promise<Child> {
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.requests.length >= 2, 15_000, 'failed delivery attempts');
  return child;
}

it('SIGTERM delivers the queue within shutdown_timeout and exits 0', async () => {
  const c = await startAndWaitForFailures();
  down = false;
  c.proc.kill('SIGTERM');
  expect((await c.exited).code).toBe(0);
  expect(paths().size).toBe(LINES);
  expect(c.stderr()).toContain('stopped; queue empty');
});

it('with the collector down, SIGTERM exits 0 after shutdown_timeout; the events stay queued for the next start', async () => {
  const c = await startAndWaitForFailures();
  c.proc.kill('SIGTERM');
  expect((await c.exited).code).toBe(0);
  expect(c.stderr()).toContain('undelivered events stay queued for the next start');
  expect(collector.accepted).toBe(0);
  down = false;
  const again = await runTailship(['run', '--config', cfg, '--once']);
  expect(again.code).toBe(0);
  expect(paths().size).toBe(LINES);
});

it('a second signal stops it at once, dying by that signal (not exit 130), and nothing is lost', async () => {
  const c = await startAndWaitForFailures();
  c.proc.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (!c.stderr().includes('signal received') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  c.proc.kill('SIGTERM');
  expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
  expect(c.stderr()).toContain('second signal: stopping at once');
  down = false;
  const again = await runTailship(['run', '--config', cfg, '--once']);
  expect(again.code).toBe(0);
  expect(paths().size).toBe(LINES);
});
