/**
 * The state file removed or replaced under a running daemon: it notices (an inode check each
 * second) and stops with a clear error and exit code 1, instead of writing into a file no one
 * will open again.
 */
import { copyFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { nginxLine, testConfig } from '../helpers/config.js';
import { startTailship } from '../helpers/daemon.js';
import { useTestBed } from '../helpers/test-bed.js';
import { scaled } from '../helpers/time.js';

const bed = useTestBed({ writeKey: 'test-write-key' });

async function runAndThen(change: (db: string) => void): Promise<{ code: number | null; stderr: string }> {
  const cfg = path.join(bed.tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(bed.tmp.dir, 'access.log'), nginxLine(1) + '\n');
  writeFileSync(cfg, testConfig({ stateDir: path.join(bed.tmp.dir, 'state'), logGlob: path.join(bed.tmp.dir, '*.log'), url: bed.collector.url }).replace('log_level: silent', 'log_level: info'));
  bed.child = startTailship(['run', '--config', cfg]);
  await bed.collector.waitFor(() => bed.collector.accepted >= 1, scaled(15_000), 'the daemon to deliver');
  change(path.join(bed.tmp.dir, 'state', 'tailship.db'));
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), scaled(15_000)).unref());
  const exit = await Promise.race([bed.child.exited, timeout]);
  expect(exit, 'the daemon should stop by itself').not.toBe('timeout');
  return { code: (exit as { code: number | null }).code, stderr: bed.child.stderr() };
}

it('stops with a clear error when its state file is removed', async () => {
  const r = await runAndThen((db) => unlinkSync(db));
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/state store .*tailship\.db was removed while tailship was running \(ENOENT\)/);
  expect(r.stderr).toContain('TAILSHIP_STORE_GONE');
});

it('stops with a clear error when its state file is replaced', async () => {
  const r = await runAndThen((db) => {
    copyFileSync(db, `${db}.restored`);
    renameSync(`${db}.restored`, db);
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/state store .*tailship\.db was replaced by another file while tailship was running/);
});
