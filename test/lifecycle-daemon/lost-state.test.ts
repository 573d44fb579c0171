/**
 * The state directory lost (a wiped volume, a pod rescheduled without its state): a daemon
 * started again with `start_at: beginning` reads every file again, and every line arrives with
 * the messageId it had, so a deduplicating collector counts it once. File keys come from the
 * files themselves (src/source/identity.ts).
 */
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { nginxLine, testConfig } from '../helpers/config.js';
import { startTailship } from '../helpers/daemon.js';
import { useTestBed } from '../helpers/test-bed.js';

const bed = useTestBed({ writeKey: 'test-write-key' });

const block = (from: number, to: number): string => {
  let s = '';
  for (let n = from; n <= to; n++) s += nginxLine(n) + '\n';
  return s;
};

it('gives every line the messageId it had after the state directory is deleted', async () => {
  const stateDir = path.join(bed.tmp.dir, 'state');
  const cfg = path.join(bed.tmp.dir, 'tailship.yaml');
  writeFileSync(cfg, testConfig({ stateDir, logGlob: path.join(bed.tmp.dir, '*.log'), url: bed.collector.url }));
  const a = path.join(bed.tmp.dir, 'a.log');
  const b = path.join(bed.tmp.dir, 'b.log');
  const c = path.join(bed.tmp.dir, 'c.log');
  // b.log starts with the very line a.log starts with: its ids must still be its own.
  writeFileSync(a, block(1, 40));
  writeFileSync(b, nginxLine(1) + '\n' + block(101, 139));
  // c.log's first line is not complete when the daemon first sees it.
  const first = nginxLine(201);
  writeFileSync(c, first.slice(0, 30));

  bed.child = startTailship(['run', '--config', cfg]);
  await bed.collector.waitFor(() => bed.collector.accepted >= 80, 20_000, 'a.log and b.log delivered');
  appendFileSync(c, first.slice(30) + '\n' + block(202, 220));
  await bed.collector.waitFor(() => bed.collector.accepted >= 100, 20_000, 'c.log delivered');
  bed.child.proc.kill('SIGTERM');
  await bed.child.exited;
  expect(bed.collector.accepted).toBe(100);
  const firstRun = new Set(bed.collector.seen.keys());
  expect(firstRun.size).toBe(100);

  rmSync(stateDir, { recursive: true, force: true });
  bed.child = startTailship(['run', '--config', cfg]);
  await bed.collector.waitFor(() => bed.collector.accepted >= 200, 20_000, 'every line delivered again');
  bed.child.proc.kill('SIGTERM');
  await bed.child.exited;
  expect(bed.collector.accepted).toBe(200);
  // Each line once per run, with one id: no id is new in the second run.
  expect(bed.collector.seen.size).toBe(100);
  expect([...bed.collector.seen.values()].every((n) => n === 2)).toBe(true);
});
