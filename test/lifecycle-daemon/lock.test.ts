/** A second daemon on the same state directory is refused with TAILSHIP_STORE_LOCKED and a clear message. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { type Child, killIfRunning, runTailship, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let first: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'test-write-key' }).start();
});

afterEach(async () => {
  await killIfRunning(first);
  await collector.stop();
  tmp.cleanup();
});

it('refuses a second daemon on a state directory in use, and takes over a stale lock', async () => {
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
  writeFileSync(cfg, testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url }));
  first = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.accepted >= 1, 15_000, 'the first daemon to deliver');

  const second = await runTailship(['run', '--config', cfg]);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain('[TAILSHIP_STORE_LOCKED]');
  expect(second.stderr).toContain(`in use by another tailship (pid ${first.proc.pid})`);
  expect(second.stderr).toContain(path.join(tmp.dir, 'state'));

  // SIGKILL leaves the lock file behind; its owner is gone, so the next start takes it over.
  first.proc.kill('SIGKILL');
  await first.exited;
  const again = await runTailship(['run', '--config', cfg, '--once']);
  expect(again.stderr).not.toContain('TAILSHIP_STORE_LOCKED');
  expect(again.code).toBe(0);
});
