/** The tailer's resume and lifecycle decisions, on real files and a real SQLite store. */
import { appendFileSync, closeSync, openSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Discovery } from '../../src/source/discovery.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness } from './harness.js';

let tmp: ReturnType<typeof tempDir>;
let h: Harness | undefined;

beforeEach(() => {
  tmp = tempDir('tailship-tailer-');
});
afterEach(() => {
  h?.close();
  h = undefined;
  tmp.cleanup();
});

const lines = (prefix: string, from: number, to: number): string => {
  let s = '';
  for (let i = from; i <= to; i++) s += `${prefix}${i}\n`;
  return s;
};

function harness(input: Record<string, unknown> = {}): Harness {
  h = new Harness(path.join(tmp.dir, 'state'), { paths: [path.join(tmp.dir, '*.log')], ...input });
  return h;
}

/** Rewrites a file in place (same inode), as a writer that truncates and writes again would. */
function rewriteInPlace(file: string, text: string): void {
  const fd = openSync(file, 'r+');
  truncateSync(file, 0);
  writeSync(fd, text, 0);
  closeSync(fd);
}

describe('Tailer: resume decisions', () => {
  it('resumes at the stored offset after a restart, reading nothing twice, under the same file key', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, lines('a', 1, 3));
    const t = harness();
    t.start([log]);
    t.pump();
    appendFileSync(log, lines('a', 4, 5));
    t.restart([log]);
    t.pump();
    expect(t.texts()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(new Set(t.got.map((g) => g.key)).size).toBe(1);
    expect(t.events.reasons('opened')).toEqual(['new', 'resumed']);
  });

  it('reads a file whose head changed while stopped (same inode) from its start, under a new key', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, lines('old', 1, 3));
    const t = harness();
    t.start([log]);
    t.pump();
    const ino = statSync(log).ino;
    rewriteInPlace(log, lines('new', 1, 4));
    expect(statSync(log).ino).toBe(ino);
    t.restart([log]);
    t.pump();
    expect(t.texts()).toEqual(['old1', 'old2', 'old3', 'new1', 'new2', 'new3', 'new4']);
    // Same inode, same birth time, other first bytes: the same file rewritten, not a reused inode.
    expect(t.events.reasons('opened')).toEqual(['new', 'changed-while-stopped']);
    expect(t.got[0]!.key).not.toBe(t.got[3]!.key);
  });

  it('reads a reused inode (file deleted, another created) from its start even with the same first bytes', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, '#header\nx1\n');
    const t = harness();
    t.start([log]);
    t.pump();
    const oldIno = statSync(log).ino;
    t.close();
    unlinkSync(log);
    // ext4 and tmpfs hand a freed inode out again soon; try a few creations to get it back.
    let reused = false;
    const spare: string[] = [];
    for (let i = 0; i < 50 && !reused; i++) {
      writeFileSync(log, '#header\nx1\nx2\n');
      if (statSync(log).ino === oldIno) reused = true;
      else {
        const keep = path.join(tmp.dir, `spare${i}.txt`);
        renameSync(log, keep);
        spare.push(keep);
      }
    }
    h = new Harness(path.join(tmp.dir, 'state'), { paths: [log], start_at: 'beginning' });
    h.start([log]);
    h.pump();
    if (reused) {
      // Same dev+ino, same first 11 bytes: only the birth time tells it apart.
      expect(h.events.reasons('opened')).toEqual(['reused-inode']);
    }
    expect(h.texts()).toEqual(['#header', 'x1', 'x2']);
  });

  it('detects a file truncated and rewritten while stopped even when the new size is above the old offset', () => {
    const log = path.join(tmp.dir, 'a.log');
    const header = '#' + 'h'.repeat(2000) + '\n'; // beyond the head fingerprint: the heads agree
    writeFileSync(log, header + lines('old', 1, 2));
    const t = harness();
    t.start([log]);
    t.pump();
    const offset = statSync(log).size;
    rewriteInPlace(log, header + lines('new', 1, 9));
    expect(statSync(log).size).toBeGreaterThan(offset);
    t.restart([log]);
    t.pump();
    expect(t.events.reasons('opened')).toEqual(['new', 'changed-while-stopped']);
    expect(t.texts().slice(3)).toEqual([header.slice(0, -1), ...lines('new', 1, 9).trim().split('\n')]);
  });

  it('keeps small files that share a header line distinct, each resumed at its own offset', () => {
    const a = path.join(tmp.dir, 'a.log');
    const b = path.join(tmp.dir, 'b.log');
    writeFileSync(a, '#v1\n');
    writeFileSync(b, '#v1\n');
    const t = harness();
    t.start([a, b]);
    t.pump();
    appendFileSync(a, 'a1\n');
    appendFileSync(b, 'b1\nb2\n');
    t.restart([a, b]);
    t.pump();
    appendFileSync(b, 'b3\n');
    t.pump();
    expect(t.texts().sort()).toEqual(['#v1', '#v1', 'a1', 'b1', 'b2', 'b3']);
    expect(new Set(t.got.map((g) => g.key)).size).toBe(2);
    expect(t.events.reasons('opened')).toEqual(['new', 'new', 'resumed', 'resumed']);
  });

  it('applies start_at: end only to files present at the first scan', () => {
    const a = path.join(tmp.dir, 'a.log');
    writeFileSync(a, lines('skip', 1, 3));
    const t = harness({ start_at: 'end' });
    t.start([a]);
    t.pump();
    appendFileSync(a, 'a4\n');
    const b = path.join(tmp.dir, 'b.log');
    writeFileSync(b, 'b1\nb2\n');
    t.tailer.addPath(b);
    t.pump();
    expect(t.texts().sort()).toEqual(['a4', 'b1', 'b2']);
  });

  it('starts files not modified for ignore_older at their end', () => {
    const a = path.join(tmp.dir, 'a.log');
    writeFileSync(a, 'old\n');
    utimesSync(a, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const t = harness({ ignore_older: '10m' });
    t.start([a]);
    t.pump();
    appendFileSync(a, 'fresh\n');
    t.pump();
    expect(t.texts()).toEqual(['fresh']);
  });
});

describe('Tailer: rotation, truncation, deletion', () => {
  it('reads a renamed file to its end, including lines written after the rename, then the new file from its start', () => {
    const log = path.join(tmp.dir, 'access.log');
    writeFileSync(log, lines('a', 1, 2));
    const t = harness({ paths: [log] });
    t.start([log]);
    t.pump();
    const old = openSync(log, 'a'); // the writer's handle
    writeSync(old, 'a3\n');
    renameSync(log, `${log}.1`);
    writeSync(old, 'a4\n'); // before the writer reopens
    writeFileSync(log, 'b1\n');
    t.pump();
    writeSync(old, 'a5\n');
    closeSync(old);
    appendFileSync(log, 'b2\n');
    t.pump();
    expect(t.texts().filter((x) => x.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(t.texts().filter((x) => x.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(t.events.count('rotated')).toBe(1);
    // Quiet long enough: the rotated file is closed.
    t.clock = Date.now() + 10_000;
    t.pump();
    expect(t.events.reasons('closed')).toEqual(['rotated']);
    expect(t.tailer.openCount).toBe(1);
  });

  it('does not read a rotated file twice when the glob matches its new name (access.log.1)', () => {
    const log = path.join(tmp.dir, 'access.log');
    const glob = path.join(tmp.dir, 'access.log*');
    writeFileSync(log, lines('a', 1, 3));
    const t = harness({ paths: [glob] });
    t.start([log]);
    t.pump();
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'b1\n');
    // Discovery reports both names, in either order, several times.
    t.tailer.addPath(`${log}.1`);
    t.tailer.addPath(log);
    t.pump();
    t.clock = Date.now() + 10_000;
    t.pump();
    t.clock = undefined;
    t.tailer.addPath(`${log}.1`);
    t.tailer.addPath(log);
    t.pump();
    t.restart([log, `${log}.1`]);
    t.pump();
    expect(t.texts().sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
  });

  it('restarts at 0 under a new key after copytruncate, and after a truncation refilled beyond the offset', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, lines('a', 1, 3));
    const t = harness();
    t.start([log]);
    t.pump();
    // copytruncate: copy (not matching the glob), then truncate in place; the writer appends.
    writeFileSync(`${log}.copy`, lines('a', 1, 3));
    truncateSync(log, 0);
    t.pump();
    appendFileSync(log, 'b1\n');
    t.pump();
    // Truncated and refilled past our offset before the next read: the bytes before the offset changed.
    truncateSync(log, 0);
    appendFileSync(log, lines('c', 1, 5));
    t.pump();
    expect(t.texts()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1', 'c2', 'c3', 'c4', 'c5']);
    expect(t.events.count('truncated')).toBe(2);
    expect(new Set(t.got.map((g) => g.key)).size).toBe(3);
    // One live row per inode in the store (earlier lives are marked removed): a restart resumes the latest life.
    expect(t.store.files.forPipeline('p').filter((r) => r.removedAt === null)).toHaveLength(1);
    appendFileSync(log, 'c6\n');
    t.restart([log]);
    t.pump();
    expect(t.texts().at(-1)).toBe('c6');
    expect(t.texts()).toHaveLength(10);
  });

  it('reads a deleted file to its end through the open handle, closes it, and forgets it after clean_removed_after', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'a1\n');
    const t = harness({ clean_removed_after: '1h' });
    t.start([log]);
    t.pump();
    const w = openSync(log, 'a');
    writeSync(w, 'a2\n');
    unlinkSync(log);
    writeSync(w, 'a3\n');
    closeSync(w);
    t.pump();
    expect(t.texts()).toEqual(['a1', 'a2', 'a3']);
    expect(t.events.reasons('closed')).toEqual(['deleted']);
    expect(t.store.files.forPipeline('p')).toHaveLength(1);
    t.clock = Date.now() + 2 * 3_600_000;
    t.pump();
    expect(t.store.files.forPipeline('p')).toHaveLength(0);
  });

  it('reports a file rotated away while its handle was closed, and reads the new file', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'a1\n');
    const t = harness({ close_inactive: '1s' });
    t.start([log]);
    t.pump();
    t.clock = Date.now() + 5_000;
    t.pump();
    expect(t.events.reasons('closed')).toEqual(['inactive']);
    expect(t.tailer.openCount).toBe(0);
    appendFileSync(log, 'a2\n'); // written while closed, then rotated away before we looked
    renameSync(log, `${log}.old`);
    writeFileSync(log, 'b1\n');
    t.pump();
    expect(t.events.count('rotatedUnread')).toBe(1);
    expect(t.texts()).toEqual(['a1', 'b1']);
  });

  it('reports stored files that left while tailship was stopped with bytes unread', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'a1\n' + 'partial');
    const t = harness({ partial_line_timeout: '1h' });
    t.start([log]);
    t.pump();
    // The committed state knows 10 bytes, 3 read; the file then goes away.
    renameSync(log, path.join(tmp.dir, 'gone.txt'));
    t.restart([]);
    expect(t.events.calls.filter((c) => c[0] === 'rotatedUnread')).toEqual([['rotatedUnread', log, 7]]);
  });
});

describe('Tailer: copytruncate copies that match the globs', () => {
  const header = '#' + 'h'.repeat(1100) + '\n'; // a full-length head fingerprint

  function setup(): { t: Harness; log: string; copy: string } {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, header + lines('a', 1, 3));
    const t = harness({ paths: [path.join(tmp.dir, 'a.log*')] });
    t.start([log]);
    t.pump();
    appendFileSync(log, lines('a', 4, 5)); // not read before the copy is made
    return { t, log, copy: `${log}.1` };
  }

  function expectOnce(t: Harness): void {
    const a = t.got.filter((g) => g.text.startsWith('a'));
    expect(a.map((g) => g.text)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    // The copy's lines carry the original's key: the messageIds the original would have given.
    expect(new Set(a.map((g) => g.key)).size).toBe(1);
    expect(t.texts().filter((x) => x === header.slice(0, -1))).toHaveLength(1);
  }

  it('reads a copy found after the truncation from where the original was, under its key', () => {
    const { t, log, copy } = setup();
    writeFileSync(copy, readFileSync(log));
    truncateSync(log, 0);
    t.pump();
    appendFileSync(log, 'b1\n');
    t.tailer.addPath(copy);
    t.pump();
    expectOnce(t);
    expect(t.texts()).toContain('b1');
    expect(t.events.reasons('opened')).toContain('copy-of-truncated');
  });

  it('holds a copy found before the truncation until the truncation shows', () => {
    const { t, log, copy } = setup();
    writeFileSync(copy, readFileSync(log));
    t.tailer.addPath(copy); // discovery is faster than the truncation
    expect(t.tailer.tracked()).toHaveLength(1);
    truncateSync(log, 0);
    appendFileSync(log, 'b1\n');
    t.pump();
    t.pump();
    expectOnce(t);
  });

  it('waits for a copy that is found while it is being written (empty, then a prefix of the head)', () => {
    const { t, log, copy } = setup();
    const content = readFileSync(log);
    writeFileSync(copy, '');
    t.tailer.addPath(copy);
    appendFileSync(copy, content.subarray(0, 100));
    t.pump();
    appendFileSync(copy, content.subarray(100));
    truncateSync(log, 0);
    appendFileSync(log, 'b1\n');
    t.pump();
    t.pump();
    expectOnce(t);
  });

  it('takes an empty or header-only new file as new after a short wait, reading it from 0', () => {
    const { t, log } = setup();
    const other = path.join(tmp.dir, 'a.log.other');
    writeFileSync(other, '');
    t.tailer.addPath(other);
    writeFileSync(other, header.slice(0, 200)); // starts like the live file's head
    t.pump();
    expect(t.tailer.tracked()).toHaveLength(1);
    appendFileSync(other, '\nown1\n'); // diverges: a file of its own
    t.pump();
    expect(t.texts().slice(-1)).toEqual(['own1']);
    expect(t.texts().filter((x) => x.startsWith('#'))).toHaveLength(2);
    void log;
  });

  it('treats a copy of a live file that is never truncated as read (a backup)', () => {
    const { t, log, copy } = setup();
    t.pump();
    writeFileSync(copy, readFileSync(log));
    t.tailer.addPath(copy);
    t.pump();
    t.clock = Date.now() + 15_000;
    t.pump();
    appendFileSync(copy, 'later\n');
    t.pump();
    expect(t.texts()).toEqual([header.slice(0, -1), 'a1', 'a2', 'a3', 'a4', 'a5', 'later']);
  });

  it('adopts a copy made while tailship was stopped', () => {
    const { t, log, copy } = setup();
    t.close();
    writeFileSync(copy, readFileSync(log));
    truncateSync(log, 0);
    appendFileSync(log, 'b1\n');
    h = new Harness(path.join(tmp.dir, 'state'), { paths: [path.join(tmp.dir, 'a.log*')], start_at: 'beginning' });
    const before = t.got;
    h.start([log, copy]);
    h.pump();
    h.got.unshift(...before);
    expectOnce(h);
    expect(h.events.reasons('opened')).toEqual(['changed-while-stopped', 'copy-of-truncated']);
  });
});

describe('Tailer: handles and lines', () => {
  it('keeps at most max_open_files handles and still reads every line of 30 busy files', () => {
    const files = Array.from({ length: 30 }, (_, i) => path.join(tmp.dir, `f${i}.log`));
    for (const f of files) writeFileSync(f, '');
    const t = harness({ max_open_files: 5 });
    t.start(files);
    let maxOpen = t.tailer.openCount;
    for (let round = 0; round < 6; round++) {
      for (const [i, f] of files.entries()) appendFileSync(f, `f${i}-${round}\n`);
      for (let k = 0; k < 20; k++) {
        t.pump(3);
        maxOpen = Math.max(maxOpen, t.tailer.openCount);
      }
    }
    for (let k = 0; k < 40 && t.got.length < 180; k++) t.pump(3);
    expect(maxOpen).toBeLessThanOrEqual(5);
    expect(t.got).toHaveLength(180);
    expect(new Set(t.texts()).size).toBe(180);
    expect(t.events.count('reopened')).toBeGreaterThan(0);
  });

  it('closes a quiet file after close_inactive and reopens it at its offset when it grows', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'a1\n');
    const t = harness({ close_inactive: '1m' });
    t.start([log]);
    t.pump();
    t.clock = Date.now() + 120_000;
    t.pump();
    expect(t.tailer.openCount).toBe(0);
    appendFileSync(log, 'a2\n');
    t.pump();
    expect(t.texts()).toEqual(['a1', 'a2']);
    expect(t.events.calls.filter((c) => c[0] === 'reopened')).toEqual([['reopened', log, 3]]);
  });

  it('cuts over-long lines with a flag and an event, and emits a partial line after partial_line_timeout', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'ok\n' + 'z'.repeat(5000) + '\nafter\npart');
    const t = harness({ max_line_bytes: '1KiB', partial_line_timeout: '2s', max_read_bytes: '1KiB' });
    t.start([log]);
    t.pump();
    expect(t.got.map((g) => [g.text.length, g.truncated])).toEqual([
      [2, false],
      [1024, true],
      [5, false],
    ]);
    expect(t.events.count('lineTruncated')).toBe(1);
    t.clock = Date.now() + 3_000;
    t.pump();
    expect(t.texts().at(-1)).toBe('part');
  });

  it('handles CRLF files', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'one\r\ntwo\r\n');
    const t = harness();
    t.start([log]);
    t.pump();
    expect(t.texts()).toEqual(['one', 'two']);
  });
});

describe('Tailer: file keys from the file itself', () => {
  /** The keys a fresh daemon (a new, empty state directory) gives the lines of these files. */
  function keysWithFreshState(files: string[], input: Record<string, unknown> = {}): Map<string, string> {
    const fresh = new Harness(path.join(tmp.dir, `fresh-state-${Math.random().toString(36).slice(2)}`), { paths: files, ...input });
    try {
      fresh.start(files);
      fresh.pump();
      return new Map(fresh.got.map((g) => [`${g.start}:${g.text}`, g.key]));
    } finally {
      fresh.close();
    }
  }

  it('gives every line the key it had when the state directory is lost', () => {
    const a = path.join(tmp.dir, 'a.log');
    const b = path.join(tmp.dir, 'b.log');
    writeFileSync(a, lines('a', 1, 3));
    writeFileSync(b, lines('b', 1, 2));
    const t = harness();
    t.start([a, b]);
    t.pump();
    appendFileSync(a, lines('a', 4, 5));
    t.pump();
    const before = new Map(t.got.map((g) => [`${g.start}:${g.text}`, g.key]));
    expect(before.size).toBe(7);
    expect(keysWithFreshState([a, b])).toEqual(before);
  });

  it('keeps the key across a rename rotation, where the file keeps its inode and birth time', () => {
    const log = path.join(tmp.dir, 'app.log');
    writeFileSync(log, lines('x', 1, 2));
    const t = harness();
    t.start([log]);
    t.pump();
    const key = t.got[0]!.key;
    renameSync(log, path.join(tmp.dir, 'app.1'));
    expect([...keysWithFreshState([path.join(tmp.dir, 'app.1')]).values()]).toEqual([key, key]);
  });

  it('gives files with the same first line (a CSV header) different keys', () => {
    const files = ['a', 'b', 'c'].map((n) => path.join(tmp.dir, `${n}.log`));
    for (const f of files) writeFileSync(f, 'id,name,amount\n1,x,2\n');
    const t = harness();
    t.start(files);
    t.pump();
    expect(new Set(t.got.map((g) => g.key)).size).toBe(3);
  });

  it('settles the key of a file with no complete line yet when its first line is done, as a fresh read would', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'first li');
    const t = harness();
    t.start([log]);
    t.pump();
    expect(t.got).toEqual([]);
    expect(t.store.files.forPipeline('p').map((s) => s.fileKey)).toEqual([expect.stringMatching(/^provisional\./)]);
    appendFileSync(log, 'ne\nsecond\n');
    t.pump();
    expect(t.texts()).toEqual(['first line', 'second']);
    expect(t.store.files.forPipeline('p').map((s) => s.fileKey)).toEqual([t.got[0]!.key]);
    expect(new Map(t.got.map((g) => [`${g.start}:${g.text}`, g.key]))).toEqual(keysWithFreshState([log]));
  });

  it('settles the key of an unfinished first line taken after partial_line_timeout before the line leaves', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, 'no newline');
    const t = harness({ partial_line_timeout: '2s' });
    t.start([log]);
    t.pump();
    t.clock = Date.now() + 3_000;
    t.pump();
    expect(t.texts()).toEqual(['no newline']);
    expect(t.got[0]!.key).not.toMatch(/^provisional\./);
    expect(t.store.files.forPipeline('p').map((s) => s.fileKey)).toEqual([t.got[0]!.key]);
  });

  it('gives a file truncated and written again with the same first line a key of its own', () => {
    const log = path.join(tmp.dir, 'a.log');
    writeFileSync(log, '#header\nold1\nold2\n');
    const t = harness();
    t.start([log]);
    t.pump();
    rewriteInPlace(log, '#header\nnew1\n');
    t.pump();
    expect(t.texts()).toEqual(['#header', 'old1', 'old2', '#header', 'new1']);
    expect(t.got[3]!.key).not.toBe(t.got[0]!.key);
  });
});

describe('Discovery', () => {
  it('ignores compressed rotations by default and honours exclude and **', async () => {
    const sub = path.join(tmp.dir, 'x', 'y');
    await import('node:fs').then((fs) => fs.mkdirSync(sub, { recursive: true }));
    for (const f of ['a.log', 'a.log.1', 'a.log.2.gz', 'debug.log', 'x/y/deep.log', 'x/y/deep.log.3.zst']) writeFileSync(path.join(tmp.dir, f), '');
    const d = new Discovery({ include: [path.join(tmp.dir, '**/*.log*')], exclude: [path.join(tmp.dir, 'debug.log')], includeCompressed: false, rescanMs: 1000 }, () => {});
    expect((await d.scan()).map((p) => path.relative(tmp.dir, p))).toEqual(['a.log', 'a.log.1', 'x/y/deep.log']);
    const all = new Discovery({ include: [path.join(tmp.dir, '*.log*')], exclude: [], includeCompressed: true, rescanMs: 1000 }, () => {});
    expect((await all.scan()).map((p) => path.relative(tmp.dir, p))).toEqual(['a.log', 'a.log.1', 'a.log.2.gz', 'debug.log']);
  });

  it('picks up files created while running (watch events or rescan)', async () => {
    const found = new Set<string>();
    const d = new Discovery({ include: [path.join(tmp.dir, '*.log')], exclude: [], includeCompressed: false, rescanMs: 200 }, (f) => found.add(f));
    await d.start();
    try {
      writeFileSync(path.join(tmp.dir, 'later.log'), 'x\n');
      const deadline = Date.now() + 10_000;
      while (!found.has(path.join(tmp.dir, 'later.log')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(found.has(path.join(tmp.dir, 'later.log'))).toBe(true);
    } finally {
      await d.close();
    }
  });
});
