/**
 * Secrets (write key, its Basic token, the hash salt) never leave the process: not in the logs
 * at debug level, not in /metrics or /readyz, not in `status`, even when the collector echoes
 * them back in its error bodies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { freePort } from '../helpers/port.js';
import { type Child, killIfRunning, runTailship, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const KEY = 'wk_2hV9xQpL7mZ4rT1s';
const BASIC = Buffer.from(`${KEY}:`).toString('base64');
const SALT = 'salt_Yb8nC3vK0eWq';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  // 1st request: 503 echoing the credentials; 2nd: 401 echoing them (→ dead letter); then 200.
  collector = await new Collector({
    writeKey: KEY,
    respond: (req) => {
      const echo = `bad credentials: authorization=${String(req.headers.authorization)} key=${KEY}`;
      if (req.n === 1) return { status: 503, body: echo };
      if (req.n === 2) return { status: 401, body: echo };
      return undefined;
    },
  }).start();
});

afterEach(async () => {
  await killIfRunning(child);
  await collector.stop();
  tmp.cleanup();
});

function expectClean(text: string, where: string): void {
  for (const secret of [KEY, BASIC, SALT]) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
}

it('keeps write keys, Basic tokens and salts out of logs, metrics, health and status', async () => {
  const port = await freePort();
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(tmp.dir, 'access.log'), [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\n');
  const text = testConfig({
    stateDir: path.join(tmp.dir, 'state'),
    logGlob: path.join(tmp.dir, '*.log'),
    url: collector.url,
    writeKey: KEY,
    batchSize: 1,
    concurrency: 1,
    extraPipelineYaml: `    hash: [anonymousId]\n    hash_salt: ${SALT}`,
  })
    .replace(/log_level: \w+/, 'log_level: debug')
    .replace('pipelines:', `server: { listen: "127.0.0.1:${port}" }\npipelines:`);
  writeFileSync(cfg, text);
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.accepted >= 2, 15_000, '2 messages');

  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).text();
  const status = await runTailship(['status', '--config', cfg]);
  const statusJson = await runTailship(['status', '--config', cfg, '--json']);
  child.proc.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);

  const logs = child.stderr();
  // The echoed credentials did reach the logs, scrubbed: the test would see them otherwise.
  expect(logs).toContain('authorization=Basic [REDACTED]');
  expect(metrics).toContain('tailship_dead_letters_total');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('LAST ERROR PER OUTPUT');
  expect(status.stdout).toContain('[REDACTED]');
  expectClean(logs, 'the log');
  expectClean(metrics, '/metrics');
  expectClean(ready, '/readyz');
  expectClean(status.stdout + status.stderr, 'status');
  expectClean(statusJson.stdout, 'status --json');
  for (const m of collector.messages) expect(String(m.anonymousId)).toMatch(/^[0-9a-f]{64}$/);

  // The 401's answer became a dead letter: stored scrubbed, and every way of showing it is clean.
  const stored = ['tailship.db', 'tailship.db-wal'].map((f) => {
    try {
      return readFileSync(path.join(tmp.dir, 'state', f)).toString('latin1');
    } catch {
      return '';
    }
  });
  expect(stored.join('')).toContain('bad credentials: authorization=Basic [REDACTED]');
  expectClean(stored.join(''), 'the stored dead letter');
  for (const args of [['list'], ['list', '--json'], ['show', '1'], ['show', '1', '--json']]) {
    const r = await runTailship(['dead-letter', ...args, '--config', cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[REDACTED]');
    expectClean(r.stdout + r.stderr, `dead-letter ${args.join(' ')}`);
  }
});
