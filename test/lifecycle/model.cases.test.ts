/**
 * Fixed lifecycle histories for the model (model.ts): counterexamples the property test found,
 * kept as regular tests, and hand-written cases for the gaps other tailers have.
 */
import { expect, it } from 'vitest';
import { ModelRun, type Op } from './model.js';

const w = (log: 'a' | 'b' | 'c', lines: number, partial = false, pauseMs = 0): Op => ({ op: 'write', log, lines, partial, pauseMs });

const CASES: Record<string, Op[]> = {
  // Found by the property test: a SIGTERM before the daemon had set its handlers (the model now
  // waits for readiness); deletions and an out-of-glob rotation while stopped.
  'restart first, deletes and an out-of-glob rotation while stopped': [
    { op: 'restart', signal: 'SIGTERM', downOps: [w('c', 1, false, 1), { op: 'delete', log: 'b', pauseMs: 0 }, { op: 'rotate', log: 'b', late: 0, matchGlob: false, pauseMs: 0 }, { op: 'delete', log: 'c', pauseMs: 0 }] },
    w('b', 29, true),
    { op: 'delete', log: 'c', pauseMs: 0 },
    { op: 'rotate', log: 'c', late: 4, matchGlob: false, pauseMs: 0 },
    w('c', 26),
    { op: 'copytruncate', log: 'c', matchGlob: false, pauseMs: 0 },
    { op: 'restart', signal: 'SIGKILL', downOps: [] },
    w('b', 37, true, 24),
    { op: 'truncate', log: 'c', pauseMs: 59 },
    w('c', 25),
  ],
  // Found by the property test (same cause), with partial lines pending across a SIGKILL and a
  // rotation into the globs while stopped.
  'partial lines across SIGKILL, rotation into the globs while stopped': [
    { op: 'delete', log: 'c', pauseMs: 30 },
    { op: 'truncate', log: 'a', pauseMs: 53 },
    w('b', 15, true, 5),
    { op: 'restart', signal: 'SIGTERM', downOps: [w('b', 17, true, 54), w('c', 31, true), w('c', 29, true, 48), { op: 'rotate', log: 'c', late: 4, matchGlob: false, pauseMs: 0 }] },
    { op: 'copytruncate', log: 'a', matchGlob: false, pauseMs: 15 },
    w('b', 19, true),
    w('b', 26, true, 19),
    { op: 'restart', signal: 'SIGKILL', downOps: [{ op: 'rotate', log: 'b', late: 0, matchGlob: true, pauseMs: 26 }] },
    { op: 'truncate', log: 'b', pauseMs: 27 },
  ],
  // The Promtail gap: truncated and written past the old offset while stopped.
  'truncated while stopped and refilled beyond the old offset': [
    w('a', 10),
    { op: 'restart', signal: 'SIGKILL', downOps: [{ op: 'truncate', log: 'a', pauseMs: 0 }, w('a', 30)] },
    w('a', 5),
  ],
  // Inode reuse: the file is deleted while stopped and a new one (often the same inode) written.
  'inode reuse while stopped': [
    w('a', 5),
    w('b', 5),
    { op: 'restart', signal: 'SIGTERM', downOps: [{ op: 'delete', log: 'a', pauseMs: 0 }, w('a', 5), { op: 'delete', log: 'b', pauseMs: 0 }, w('b', 2)] },
    w('a', 3),
  ],
  // Rename rotation with late writes while running, then a restart before the new file grew.
  'rename rotations with late writes, in and out of the globs': [
    w('a', 20, true),
    { op: 'rotate', log: 'a', late: 5, matchGlob: false, pauseMs: 0 },
    w('a', 3),
    { op: 'rotate', log: 'a', late: 2, matchGlob: true, pauseMs: 10 },
    { op: 'restart', signal: 'SIGKILL', downOps: [w('a', 4, true)] },
    w('a', 4),
  ],
  // Found by the property test: the copy of a small file (< 1 KiB, no full head fingerprint),
  // seen before the truncation, was read from 0 under a new key (b/1 under two messageIds).
  'copy of a small file inside the globs, seen before the truncation': [
    { op: 'copytruncate', log: 'c', matchGlob: true, pauseMs: 0 },
    w('b', 40),
    { op: 'copytruncate', log: 'c', matchGlob: false, pauseMs: 58 },
    w('a', 36, true),
    { op: 'delete', log: 'a', pauseMs: 1 },
    { op: 'copytruncate', log: 'b', matchGlob: true, pauseMs: 0 },
    { op: 'truncate', log: 'a', pauseMs: 0 },
    w('c', 23),
    { op: 'restart', signal: 'SIGKILL', downOps: [w('b', 31, false, 1)] },
    w('b', 26, true, 10),
  ],
  // Found by the property test: the truncation was seen, then the daemon stopped before its copy
  // was found; the next daemon read the copy from 0 (c/37 under two messageIds). The truncated
  // life's row now stays (marked removed) so that its copy is still recognised after a restart.
  'copy found only after a restart that followed the truncation': [
    { op: 'copytruncate', log: 'a', matchGlob: false, pauseMs: 0 },
    w('a', 6, false, 3),
    w('c', 35, true, 2),
    { op: 'truncate', log: 'c', pauseMs: 0 },
    w('c', 2, true),
    { op: 'truncate', log: 'b', pauseMs: 56 },
    { op: 'restart', signal: 'SIGKILL', downOps: [] },
    w('c', 2, true),
    w('b', 25, true, 27),
    w('b', 39, true, 21),
    { op: 'copytruncate', log: 'c', matchGlob: true, pauseMs: 38 },
    { op: 'restart', signal: 'SIGTERM', downOps: [] },
    w('a', 16, true),
  ],
  // copytruncate with the copy inside the globs: the copy is recognised by content and read
  // from the committed offset under the original's key, while running and while stopped.
  'copytruncate into the globs, running and stopped': [
    w('a', 30),
    { op: 'copytruncate', log: 'a', matchGlob: true, pauseMs: 0 },
    w('a', 5),
    { op: 'restart', signal: 'SIGKILL', downOps: [w('a', 20), { op: 'copytruncate', log: 'a', matchGlob: true, pauseMs: 0 }, w('a', 5)] },
    w('a', 3),
  ],
};

for (const [name, ops] of Object.entries(CASES)) {
  it(`model case: ${name}`, async () => {
    const r = await new ModelRun().run(ops);
    expect(r.must).toBeGreaterThan(0);
  }, 60_000);
}
