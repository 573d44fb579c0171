/**
 * Backpressure with a real child daemon: while the collector is down and 1,000,000 lines are
 * appended, the queue stops at its high-water mark, reading pauses and the daemon's memory stays
 * flat (RSS from /proc/<pid>/status); once the collector is back, every line arrives. Only a
 * generous bound is asserted here; the measured figures are printed and kept in the bench notes.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { startTailship, type Child } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ keep: false }).start();
});

afterEach(async () => {
  if (child && child.proc.exitCode === null) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  await collector.stop();
  tmp.cleanup();
});

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('stays flat in memory with the collector down for 1,000,000 lines, then delivers them all', { timeout: 300_000 }, async () => {
  const LINES = 1_000_000;
  let up = false;
  collector.respond = () => (up ? undefined : { status: 503, body: 'down' });
  const file = path.join(tmp.dir, 'access.log');
  writeFileSync(file, '');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(
    cfg,
    pipelineYaml({
      dir: tmp.dir,
      extraTop: 'queue: { max_bytes: 16MiB, resume_ratio: 0.5 }',
      outputs: `
      - type: rudderstack
        url: ${collector.url}
        write_key: wk
        batch_size: 500
        flush_interval: 200ms
        concurrency: 4
        retry: { base: 50ms, cap: 500ms }`,
    }).replace(/log_level: \w+/, 'log_level: info'),
  );
  child = startTailship(['run', '--config', cfg]);
  const pid = child.proc.pid!;
  let peakDown = 0;
  let peakUp = 0;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    try {
      const r = rssMiB(pid);
      samples.push(r);
      if (up) peakUp = Math.max(peakUp, r);
      else peakDown = Math.max(peakDown, r);
    } catch {
      // exited
    }
  }, 200);
  try {
    await sleep(500);
    const baseline = rssMiB(pid);
    // Append in slices while the collector is down.
    const SLICE = 50_000;
    for (let i = 0; i < LINES; i += SLICE) {
      let text = '';
      for (let k = 0; k < SLICE; k++) text += nginxLine(i + k + 1) + '\n';
      appendFileSync(file, text);
      await sleep(20);
    }
    const deadline = Date.now() + 60_000;
    while (!child.stderr().includes('reading paused') && Date.now() < deadline) await sleep(100);
    expect(child.stderr()).toContain('reading paused');
    // Paused for a while with ~1M lines unread on disk: memory does not follow the backlog.
    await sleep(3000);
    const whileDown = rssMiB(pid);
    expect(collector.accepted).toBe(0);

    up = true;
    await collector.waitFor(() => collector.seen.size >= LINES, 240_000, `${LINES} distinct messages`);
    console.log(
      `backpressure: baseline ${baseline.toFixed(0)} MiB, peak while down ${peakDown.toFixed(0)} MiB (after the pause ${whileDown.toFixed(0)} MiB), ` +
        `peak while catching up ${peakUp.toFixed(0)} MiB, ${samples.length} samples`,
    );
    expect(peakDown).toBeLessThan(300);
    expect(peakUp).toBeLessThan(300);
    expect(child.stderr()).toContain('reading resumed');
    expect(collector.seen.size).toBe(LINES);
  } finally {
    clearInterval(sampler);
  }
});
