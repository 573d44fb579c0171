/**
 * A full state store: SQLite's own max_page_count makes every growing write fail with a real
 * SQLITE_FULL (no mock; a small tmpfs would need root). Reading pauses with a clear log line,
 * the daemon keeps running, and once there is room again every line arrives, once.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { nginxLine } from '../helpers/config.js';
import { useTestBed } from '../helpers/test-bed.js';
import { pipelineYaml, until } from './harness.js';
import { storeConnection } from '../helpers/store-connection.js';

const bed = useTestBed();

it('pauses reading on SQLITE_FULL, says so, and loses nothing once there is room', async () => {
  const logs: Array<{ msg: string; code?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const yaml = pipelineYaml({
    dir: bed.tmp.dir,
    outputs: `
      - type: rudderstack
        url: ${bed.collector.url}
        write_key: wk
        batch_size: 100
        flush_interval: 50ms
        retry: { base: 20ms, cap: 200ms }`,
  });
  const file = path.join(bed.tmp.dir, 'access.log');
  writeFileSync(file, Array.from({ length: 100 }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  bed.daemon = await Daemon.create(loadConfigText(yaml, 'test.yaml', bed.tmp.dir, {}), log);
  await bed.daemon.start();
  await bed.collector.waitFor(() => bed.collector.seen.size >= 100, 10_000);

  // No more room: the database may not grow past its current size.
  const db = storeConnection(bed.daemon.store);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const N = 5000;
  appendFileSync(file, Array.from({ length: N }, (_, i) => nginxLine(101 + i)).join('\n') + '\n');
  await until(() => logs.some((l) => l.msg.includes('state store full')), 10_000, 'the store-full log line');
  const line = logs.find((l) => l.msg.includes('state store full'))!;
  expect(line).toMatchObject({ code: 'SQLITE_FULL', level: 50 });
  const stuckAt = bed.collector.seen.size;
  expect(stuckAt).toBeLessThan(100 + N);
  await new Promise((r) => setTimeout(r, 1500));
  // Still paused, still alive: nothing past the failed commit was queued meanwhile.
  expect(bed.collector.seen.size).toBeLessThan(100 + N);

  db.pragma('max_page_count = 1073741823');
  await bed.collector.waitFor(() => bed.collector.seen.size >= 100 + N, 30_000, 'every line after the disk frees up');
  expect([...bed.collector.seen.values()].every((n) => n === 1)).toBe(true);
  expect(bed.daemon.store.deadLetters.counts()).toEqual([]);
  expect(logs.some((l) => l.msg.includes('reading resumed'))).toBe(true);
});
