/**
 * 1,000 files appended to at once with max_open_files: 100, through the real daemon (a child
 * process) to the loopback collector: every line arrives, and the daemon never holds more than
 * 100 handles on the log files (counted in /proc/<pid>/fd while it runs).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTailship, type Child } from '../helpers/daemon.js';
import { useTestBed } from '../helpers/test-bed.js';
import { jsonLine, lifecycleConfig, lineId, openHandlesUnder } from './setup.js';

const FILES = 1000;
const ROUNDS = 8;
const PER_ROUND = 3;
const MAX_OPEN = 100;

const bed = useTestBed({ writeKey: 'test-write-key' });

it(`delivers every line of ${FILES} files appended at once, with at most ${MAX_OPEN} open handles`, async () => {
  const logs = path.join(bed.tmp.dir, 'logs');
  mkdirSync(logs);
  const names = Array.from({ length: FILES }, (_, i) => `f${String(i).padStart(4, '0')}`);
  for (const f of names.slice(0, FILES / 2)) writeFileSync(path.join(logs, `${f}.log`), jsonLine(f, 0));
  const cfg = path.join(bed.tmp.dir, 'tailship.yaml');
  writeFileSync(
    cfg,
    lifecycleConfig({ stateDir: path.join(bed.tmp.dir, 'state'), paths: [path.join(logs, '*.log')], url: bed.collector.url, input: { max_open_files: MAX_OPEN, close_inactive: '2s' } }),
  );
  bed.child = start(cfg);
  let maxHandles = 0;
  const sampler = setInterval(() => (maxHandles = Math.max(maxHandles, openHandlesUnder(bed.child!.proc.pid!, logs))), 20);
  try {
    // The other half appears while running; then every file gets lines in rounds.
    for (const f of names.slice(FILES / 2)) writeFileSync(path.join(logs, `${f}.log`), jsonLine(f, 0));
    for (let r = 1; r <= ROUNDS; r++) {
      for (const f of names) {
        let text = '';
        for (let k = 0; k < PER_ROUND; k++) text += jsonLine(f, (r - 1) * PER_ROUND + k + 1);
        appendFileSync(path.join(logs, `${f}.log`), text);
      }
      await new Promise((res) => setTimeout(res, 150));
    }
    const expected = FILES * (ROUNDS * PER_ROUND + 1);
    const ids = () => new Set(bed.collector.messages.map(lineId));
    await bed.collector.waitFor(() => ids().size >= expected, 90_000, `${expected} lines`).catch((err: Error) => {
      throw new Error(`${err.message}; got ${ids().size}\n${bed.child!.stderr().slice(-3000)}`);
    });
    expect(ids().size).toBe(expected);
  } finally {
    clearInterval(sampler);
  }
  expect(maxHandles).toBeGreaterThan(0);
  expect(maxHandles).toBeLessThanOrEqual(MAX_OPEN);
  console.log(`many files: ${FILES} files, ${bed.collector.messages.length} arrivals, at most ${maxHandles} handles open`);
});

function start(cfg: string): Child {
  return startTailship(['run', '--config', cfg]);
}
