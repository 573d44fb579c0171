/**
 * The crash test: a writer appends numbered lines while the daemon, a real child process, is
 * killed with SIGKILL at random moments and restarted. Every line must reach the collector at
 * least once, and every arrival of a line must carry the same messageId.
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { nginxLine, testConfig } from '../helpers/config.js';
import { startTailship } from '../helpers/daemon.js';
import { useTestBed } from '../helpers/test-bed.js';

const LINES = 24_000;
const KILLS = 4;

const bed = useTestBed({ writeKey: 'test-write-key' });

function lineNumber(m: Record<string, unknown>): number {
  return Number(((m.properties as { path: string }).path).split('/').pop());
}

it(`loses no line across ${KILLS} SIGKILLs while ${LINES} lines are written`, async () => {
  const log = path.join(bed.tmp.dir, 'access.log');
  const cfg = path.join(bed.tmp.dir, 'tailship.yaml');
  writeFileSync(log, '');
  writeFileSync(cfg, testConfig({ stateDir: path.join(bed.tmp.dir, 'state'), logGlob: log, url: bed.collector.url, batchSize: 250, flushInterval: '50ms' }));
  const start = () => startTailship(['run', '--config', cfg]);
  bed.child = start();

  // Writer: bounded, about 10 s of appends in small bursts, some ending mid-line.
  let written = 0;
  let pendingPart = '';
  const writer = (async () => {
    while (written < LINES) {
      const burst: string[] = [];
      for (let i = 0; i < 60 && written < LINES; i++) burst.push(nginxLine(++written));
      let text = pendingPart + burst.join('\n') + '\n';
      pendingPart = '';
      if (written < LINES && Math.random() < 0.3) {
        // Leave half a line for the next burst: the daemon must not ship or skip a partial line.
        const cut = text.length - 1 - Math.floor(Math.random() * 40);
        pendingPart = text.slice(cut);
        text = text.slice(0, cut);
      }
      appendFileSync(log, text);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (pendingPart) appendFileSync(log, pendingPart);
  })();

  const killer = (async () => {
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 1600));
      bed.child!.proc.kill('SIGKILL');
      const { signal } = await bed.child!.exited;
      expect(signal, bed.child!.stderr()).toBe('SIGKILL');
      bed.child = start();
    }
  })();

  await Promise.all([writer, killer]);
  await bed.collector.waitFor(() => new Set(bed.collector.messages.map(lineNumber)).size >= LINES, 60_000, `all ${LINES} lines`).catch((err: Error) => {
    const interesting = bed.child!.stderr().split('\n').filter((l) => !l.includes('batch delivered'));
    const size = statSync(log).size;
    throw new Error(`${err.message}; written ${written}, file ${size} bytes\n${interesting.join('\n').slice(-4000)}`);
  });

  bed.child!.proc.kill('SIGTERM');
  const { code } = await bed.child!.exited;
  expect(code, bed.child!.stderr()).toBe(0);

  const idsByLine = new Map<number, Set<string>>();
  for (const m of bed.collector.messages) {
    const n = lineNumber(m);
    if (!idsByLine.has(n)) idsByLine.set(n, new Set());
    idsByLine.get(n)!.add(m.messageId);
  }
  const missing = Array.from({ length: LINES }, (_, i) => i + 1).filter((n) => !idsByLine.has(n));
  expect(missing).toEqual([]);
  const unstable = [...idsByLine].filter(([, ids]) => ids.size !== 1).map(([n]) => n);
  expect(unstable).toEqual([]);
  expect(idsByLine.size).toBe(LINES);
  const duplicates = bed.collector.messages.length - LINES;
  console.log(`crash test: ${LINES} lines, ${KILLS} SIGKILLs, ${bed.collector.messages.length} arrivals, ${duplicates} duplicates (same messageIds)`);
}, 120_000);
