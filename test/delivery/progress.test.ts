/**
 * The `run --once` progress bar: drawn on a terminal (a real pseudo-terminal from script(1)),
 * absent when stderr is a pipe.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, onTestFinished } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { assertBuilt, BIN, runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml } from './harness.js';

let hasScript = true;
try {
  execFileSync('script', ['--version'], { stdio: 'ignore' });
} catch {
  hasScript = false;
}

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let cfg = '';
const N = 20_000;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ keep: false }).start();
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(cfg, pipelineYaml({ dir: tmp.dir, outputs: `      - type: rudderstack\n        url: ${collector.url}\n        write_key: wk\n        batch_size: 500` }));
});

afterEach(async () => {
  await collector.stop();
  tmp.cleanup();
});

it('is silent when stderr is not a terminal', async () => {
  const r = await runTailship(['run', '--once', '--config', cfg]);
  expect(r.code).toBe(0);
  expect(collector.seen.size).toBe(N);
  expect(r.stderr).not.toContain('events sent');
  expect(r.stdout).toBe('');
});

it.skipIf(!hasScript)('shows bytes read of total, events sent, rate and ETA on a terminal', async () => {
  assertBuilt();
  const command = [process.execPath, BIN, 'run', '--once', '--config', cfg].map((a) => `'${a}'`).join(' ');
  const proc = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL');
  });
  const code = await exited;
  expect(code).toBe(0);
  expect(collector.seen.size).toBe(N);
  const size = `${(Buffer.byteLength(Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n') / 1024 ** 2).toFixed(1)} MiB`;
  expect(out).toContain(`100% | ${size} of ${size} | ${N.toLocaleString('en-US')} events sent |`);
  expect(out).toMatch(/[\d,]+ events\/s \| ETA \d/);
});
