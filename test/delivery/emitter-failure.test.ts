/**
 * The emitter's failures take the pipeline's path: an acknowledgement that fails on a store
 * error that cannot be waited out (here SQLITE_READONLY, as SQLITE_CORRUPT would) is logged
 * with its code and stack, counted, and stops the daemon cleanly, never as an unhandled
 * rejection. The process-wide last resort logs what nothing else caught and exits 1.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { nginxLine } from '../helpers/config.js';
import { assertBuilt, ROOT } from '../helpers/daemon.js';
import { useTestBed } from '../helpers/test-bed.js';
import { waitUntil } from '../helpers/time.js';
import { pipelineYaml } from './harness.js';
import { storeConnection } from '../helpers/store-connection.js';

const bed = useTestBed();

it('stops cleanly with the reason code when an acknowledgement fails for good', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  // The collector answers late: the store refuses writes before the acknowledgement.
  bed.collector.respond = () => ({ status: 200, delayMs: 300 });
  const yaml = pipelineYaml({ dir: bed.tmp.dir, outputs: `
      - type: rudderstack
        url: ${bed.collector.url}
        write_key: secret-write-key-1234
        flush_interval: 50ms` });
  writeFileSync(path.join(bed.tmp.dir, 'access.log'), Array.from({ length: 10 }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  const loaded = loadConfigText(yaml, 'test.yaml', bed.tmp.dir, {});
  const failures: unknown[] = [];
  bed.daemon = await Daemon.create(loaded, pino({ level: 'info' }, sink), { onFatal: (err) => failures.push(err) });
  await bed.daemon.start();
  await waitUntil(() => bed.collector.inflight > 0, 10_000, 'a request in flight');
  storeConnection(bed.daemon.store).pragma('query_only = ON');
  await waitUntil(() => failures.length > 0, 10_000, 'the emitter to report its failure');
  expect((failures[0] as { code?: string }).code).toBe('SQLITE_READONLY');
  const fatal = lines.find((l) => l.level === 60)!;
  expect(fatal).toMatchObject({ component: 'emitter', code: 'SQLITE_READONLY' });
  expect(String(fatal.msg)).toMatch(/^output rudderstack of pipeline web failed: stopping tailship/);
  const metrics = await bed.daemon.observer.metrics.text();
  expect(metrics).toMatch(/tailship_errors_total\{component="emitter",code="SQLITE_READONLY"\} 1/);
  // The rows stay queued for the next start.
  storeConnection(bed.daemon.store).pragma('query_only = OFF');
  expect(bed.daemon.store.queue.depthByOutput()[0]?.events).toBe(10);
});

it('logs an error nothing caught, with its stack and without secrets, and exits 1', async () => {
  assertBuilt();
  const script = `
    const { createLogger } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/ops/logger.js'))});
    const { installLastResort } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/ops/last-resort.js'))});
    installLastResort(createLogger({ level: 'info', secrets: ['secret-write-key-1234'], pretty: false }));
    function deepInside() { return Promise.reject(new Error('collector said: bad key secret-write-key-1234')); }
    void deepInside();
    setTimeout(() => {}, 10_000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    const line = JSON.parse(err.trim().split('\n').pop()!) as { level: number; msg: string; err: { stack: string } };
    expect(line.level).toBe(60);
    expect(line.msg).toMatch(/^unhandled rejection: exiting/);
    expect(line.err.stack).toMatch(/deepInside/);
    expect(line.err.stack).toContain('bad key [REDACTED]');
    expect(err).not.toContain('secret-write-key-1234');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
