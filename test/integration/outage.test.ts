/**
 * The outage test: the collector answers 503 for a while, then 429 with Retry-After, then 200.
 * Nothing is lost, nothing is dead-lettered, and Retry-After is honoured.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { useTestBed } from '../helpers/test-bed.js';

const bed = useTestBed({ writeKey: 'test-write-key' });

it('survives 503s, then 429 with Retry-After, losing nothing', async () => {
  const LINES = 2_000;
  const started = Date.now();
  const answers: Array<{ at: number; status: number }> = [];
  let tooMany = 0;
  bed.collector.respond = () => {
    const at = Date.now();
    let status = 200;
    // The first requests, however late a busy machine sends them.
    if (answers.length < 3 || at - started < 1500) status = 503;
    else if (tooMany < 2) {
      tooMany++;
      status = 429;
    }
    answers.push({ at, status });
    return status === 429 ? { status, headers: { 'retry-after': '1' } } : { status };
  };
  const log = path.join(bed.tmp.dir, 'access.log');
  writeFileSync(log, '');
  const text = testConfig({ stateDir: path.join(bed.tmp.dir, 'state'), logGlob: log, url: bed.collector.url, batchSize: 200, concurrency: 1 });
  const loaded = loadConfigText(text, 'test.yaml', bed.tmp.dir, {});
  bed.daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: [], pretty: false }));
  await bed.daemon.start();
  for (let i = 0; i < LINES; i += 100) {
    appendFileSync(log, Array.from({ length: 100 }, (_, k) => nginxLine(i + k + 1)).join('\n') + '\n');
    await new Promise((r) => setTimeout(r, 10));
  }
  await bed.collector.waitFor(() => bed.collector.seen.size >= LINES, 30_000, `${LINES} distinct messages`);

  expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(1);
  expect(answers.filter((a) => a.status === 429).length).toBe(2);
  // With one request in flight, the request after a 429 comes no sooner than Retry-After (1 s).
  const i429 = answers.findIndex((a) => a.status === 429);
  expect(answers[i429 + 1]!.at - answers[i429]!.at).toBeGreaterThanOrEqual(950);
  expect(bed.daemon.store.deadLetters.counts()).toEqual([]);
  await bed.collector.waitFor(() => bed.daemon!.store.queue.depthByOutput().length === 0, 10_000, 'empty queue');
  expect(bed.collector.seen.size).toBe(LINES);
});
