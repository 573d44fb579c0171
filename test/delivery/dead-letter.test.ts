/**
 * `tailship dead-letter` through the real CLI: a wrong write key makes the collector answer 401,
 * the events become dead letters; after fixing the key, `replay` puts them back in the queue and
 * `run --once` delivers them. Parse dead letters are listed but refused by replay, with the why.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'right-key' }).start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

function config(writeKey: string): string {
  return pipelineYaml({
    dir: tmp.dir,
    outputs: `
      - type: rudderstack
        url: ${collector.url}
        write_key: ${writeKey}
        batch_size: 50
        flush_interval: 50ms
        retry: { base: 20ms, cap: 200ms }`,
  });
}

async function deadLettersWithWrongKey(): Promise<string> {
  writeFileSync(path.join(tmp.dir, 'access.log'), [1, 2, 3, 4, 5].map((n) => nginxLine(n)).join('\n') + '\nnot an nginx line\n');
  daemon = await startDaemon(config('wrong-key'), tmp.dir);
  await until(() => daemon!.store.deadLetters.counts().reduce((n, c) => n + c.count, 0) >= 6, 10_000, '6 dead letters');
  await daemon.stop();
  daemon = undefined;
  expect(collector.accepted).toBe(0);
  const file = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(file, config('right-key'));
  return file;
}

it('wrong key → 401 → dead letters; fix the key, replay, run → delivered', async () => {
  const cfg = await deadLettersWithWrongKey();

  const listed = await runTailship(['dead-letter', 'list', '--config', cfg]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/ID\s+PIPELINE\s+OUTPUT\s+KIND\s+STATUS/);
  expect(listed.stdout.match(/rudderstack\s+delivery\s+401/g)).toHaveLength(5);
  expect(listed.stdout).toMatch(/web\s+-\s+parse/);
  // The write key never shows, not even the wrong one in the answer.
  expect(listed.stdout + listed.stderr).not.toContain('right-key');

  const json = JSON.parse((await runTailship(['dead-letter', 'list', '--config', cfg, '--kind', 'delivery', '--json'])).stdout) as Array<{ id: number; reason: string }>;
  expect(json).toHaveLength(5);
  expect(json[0]!.reason).toContain('401');

  const shown = await runTailship(['dead-letter', 'show', String(json[0]!.id), '--config', cfg]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('status:    401');
  expect(shown.stdout).toContain('"event": "Page Requested"');

  const replayed = await runTailship(['dead-letter', 'replay', '--all', '--config', cfg]);
  expect(replayed.code).toBe(0);
  expect(replayed.stdout).toContain('replayed 5 dead letters into the queue (web/rudderstack: 5)');
  expect(replayed.stdout).toContain('1 parse/mapping dead letter cannot be replayed');

  const run = await runTailship(['run', '--once', '--config', cfg]);
  expect(run.code).toBe(0);
  expect(collector.seen.size).toBe(5);
  expect(collector.messages.map((m) => (m.properties as { path: string }).path).sort()).toEqual(['/items/1', '/items/2', '/items/3', '/items/4', '/items/5']);

  // Only the parse dead letter is left; purge removes it.
  const after = JSON.parse((await runTailship(['dead-letter', 'list', '--config', cfg, '--json'])).stdout) as Array<{ kind: string }>;
  expect(after.map((d) => d.kind)).toEqual(['parse']);
  expect((await runTailship(['dead-letter', 'purge', '--all', '--kind', 'parse', '--config', cfg])).stdout).toContain('purged 1 dead letter');
  expect((await runTailship(['dead-letter', 'list', '--config', cfg])).stdout).toContain('no dead letters');
});

it('refuses to replay a parse dead letter by id, saying why, and exits 1', async () => {
  const cfg = await deadLettersWithWrongKey();
  const parse = JSON.parse((await runTailship(['dead-letter', 'list', '--config', cfg, '--kind', 'parse', '--json'])).stdout) as Array<{ id: number }>;
  const r = await runTailship(['dead-letter', 'replay', String(parse[0]!.id), '--config', cfg]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('nothing replayed');
  expect(r.stdout).toContain('cannot be replayed');
  expect(r.stdout).toContain('never became events');
});

it('replays and purges beside a running daemon, without the write key in the environment; the daemon sends the replayed events', async () => {
  await deadLettersWithWrongKey();
  daemon = await startDaemon(config('right-key'), tmp.dir);
  // The commands' config names the key by variable, and the variable is not set: they send nothing, so they need none.
  const cfg = path.join(tmp.dir, 'ops.yaml');
  writeFileSync(cfg, config('"${RS_WRITE_KEY:?set the write key}"'));
  const env = { RS_WRITE_KEY: '' };
  expect((await runTailship(['validate', '--config', cfg], env)).stderr).toContain('environment variable $RS_WRITE_KEY is not set: set the write key');
  const status = await runTailship(['status', '--config', cfg], env);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('rudderstack');

  const ids = (JSON.parse((await runTailship(['dead-letter', 'list', '--kind', 'delivery', '--json', '--config', cfg], env)).stdout) as Array<{ id: number }>).map((d) => d.id);
  expect(ids).toHaveLength(5);
  const replayed = await runTailship(['dead-letter', 'replay', ...ids.slice(0, 3).map(String), '--config', cfg], env);
  expect(replayed.stderr).toBe('');
  expect(replayed.code).toBe(0);
  expect(replayed.stdout).toContain('replayed 3 dead letters into the queue (web/rudderstack: 3)');
  // The running daemon notices the rows another process queued and sends them.
  await collector.waitFor(() => collector.seen.size === 3, 15_000, 'the 3 replayed events');
  expect(collector.messages.map((m) => (m.properties as { path: string }).path).sort()).toEqual(['/items/1', '/items/2', '/items/3']);
  await until(() => daemon!.observer.output('web', 'rudderstack').queueEvents === 0, 10_000, 'the queue gauge back at 0');

  // Replaying the same ids again queues nothing twice.
  const again = await runTailship(['dead-letter', 'replay', ...ids.slice(0, 3).map(String), '--config', cfg], env);
  expect(again.stdout).toContain('nothing replayed');
  expect((await runTailship(['dead-letter', 'purge', '--all', '--config', cfg], env)).stdout).toContain('purged 3 dead letters');
  expect(daemon.store.deadLetters.counts().reduce((n, c) => n + c.count, 0)).toBe(0);
  expect(collector.seen.size).toBe(3);
});
