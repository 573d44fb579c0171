/** The framer: bytes → lines with exact offsets, over arbitrary chunk boundaries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer } from '../../src/source/framer.js';
import type { Line } from '../../src/source/line.js';

/** Frames `bytes` pushed in the given chunk sizes (cycled); returns lines and the framer. */
function frameChunks(bytes: Buffer, chunks: number[], maxLineBytes = 1 << 20, start = 0): { lines: Line[]; framer: Framer } {
  const framer = new Framer(maxLineBytes);
  framer.reset(start);
  const lines: Line[] = [];
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const size = Math.max(1, chunks.length ? chunks[i++ % chunks.length]! : bytes.length);
    const part = bytes.subarray(pos, Math.min(bytes.length, pos + size));
    // The caller's read buffer is reused: copy into a scratch buffer that is scribbled over after.
    const scratch = Buffer.alloc(part.length + 8, 0x41);
    part.copy(scratch);
    framer.push(scratch, part.length, lines);
    scratch.fill(0x42);
    pos += part.length;
  }
  return { lines, framer };
}

describe('Framer', () => {
  it('cuts lines at \\n with the offset after each newline', () => {
    const { lines } = frameChunks(Buffer.from('a\nbb\n\nccc\n'), []);
    expect(lines).toEqual([
      { text: 'a', start: 0, end: 2 },
      { text: 'bb', start: 2, end: 5 },
      { text: '', start: 5, end: 6 },
      { text: 'ccc', start: 6, end: 10 },
    ]);
  });

  it('drops the \\r of \\r\\n endings, also when \\r and \\n arrive in different reads', () => {
    const { lines } = frameChunks(Buffer.from('one\r\ntwo\r\n'), [4, 1, 5]);
    expect(lines.map((l) => l.text)).toEqual(['one', 'two']);
    expect(lines.map((l) => l.end)).toEqual([5, 10]);
  });

  it('keeps a lone \\r inside a line', () => {
    const { lines } = frameChunks(Buffer.from('a\rb\n'), []);
    expect(lines[0]!.text).toBe('a\rb');
  });

  it('holds a trailing partial line until its newline, across reads', () => {
    const f = new Framer(1024);
    const out: Line[] = [];
    f.push(Buffer.from('first\nsec'), 9, out);
    expect(out).toHaveLength(1);
    expect(f.pendingStart()).toBe(6);
    f.push(Buffer.from('ond'), 3, out);
    expect(out).toHaveLength(1);
    f.push(Buffer.from('\n'), 1, out);
    expect(out[1]).toEqual({ text: 'second', start: 6, end: 13 });
    expect(f.pendingStart()).toBeUndefined();
  });

  it('emits a held partial line on takePartial (partial_line_timeout), ending at the bytes read', () => {
    const f = new Framer(1024);
    const out: Line[] = [];
    f.push(Buffer.from('x\nno newline'), 12, out);
    const taken: Line[] = [];
    expect(f.takePartial(taken)).toBe(true);
    expect(taken).toEqual([{ text: 'no newline', start: 2, end: 12 }]);
    expect(f.takePartial(taken)).toBe(false);
    // The writer finishes it later: what follows is a line of its own.
    f.push(Buffer.from(' tail\n'), 6, out);
    expect(out.at(-1)).toEqual({ text: ' tail', start: 12, end: 18 });
  });

  it('cuts an over-long line to max_line_bytes, flags it, and skips its rest (in one read)', () => {
    const { lines, framer } = frameChunks(Buffer.from('short\n' + 'y'.repeat(100) + '\nnext\n'), [], 10);
    expect(lines.map((l) => [l.text, l.truncated ?? false])).toEqual([
      ['short', false],
      ['yyyyyyyyyy', true],
      ['next', false],
    ]);
    expect(lines[1]).toMatchObject({ start: 6, end: 107 });
    expect(framer.truncatedLines).toBe(1);
  });

  it('keeps memory bounded for a 5 MiB line with no newline yet, read in 64 KiB chunks', () => {
    const f = new Framer(1000);
    const out: Line[] = [];
    const chunk = Buffer.alloc(64 * 1024, 0x7a);
    for (let i = 0; i < 80; i++) f.push(chunk, chunk.length, out);
    expect(out).toHaveLength(0);
    // The held bytes stay at max_line_bytes: the partial line it would emit is cut to 1000 bytes.
    const taken: Line[] = [];
    f.takePartial(taken);
    const p = taken[0]!;
    expect(p.text.length).toBe(1000);
    expect(p.truncated).toBe(true);
    expect(p.end).toBe(80 * chunk.length);
    f.push(Buffer.from('ok\n'), 3, out);
    expect(out).toEqual([{ text: 'ok', start: 80 * chunk.length, end: 80 * chunk.length + 3 }]);
  });

  it('replaces invalid UTF-8 with U+FFFD instead of failing', () => {
    const bytes = Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\n'), Buffer.from('é\n')]);
    const { lines } = frameChunks(bytes, [2]);
    expect(lines[0]!.text).toBe('ok \ufffd\ufffd\ufffd');
    expect(lines[1]!.text).toBe('é');
    expect(lines[1]!.end).toBe(bytes.length);
  });

  it('continues at the offset given to reset (resume after restart or truncation)', () => {
    const { lines } = frameChunks(Buffer.from('a\nb\n'), [], 1024, 500);
    expect(lines).toEqual([
      { text: 'a', start: 500, end: 502 },
      { text: 'b', start: 502, end: 504 },
    ]);
  });

  it('gives the same lines for every way of cutting the bytes into reads (property)', () => {
    const lineArb = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a).toString('latin1')),
      fc.constant('x'.repeat(40)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lineArb, fc.boolean()), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
        (spec, chunks) => {
          const text = spec.map(([t, crlf]) => t.replace(/[\r\n]/g, '') + (crlf ? '\r\n' : '\n')).join('');
          const bytes = Buffer.from(text, 'latin1');
          const whole = frameChunks(bytes, [], 32).lines;
          const cut = frameChunks(bytes, chunks, 32).lines;
          expect(cut).toEqual(whole);
          // Offsets tile the input exactly.
          let at = 0;
          for (const l of whole) {
            expect(l.start).toBe(at);
            at = l.end;
          }
          expect(at).toBe(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
