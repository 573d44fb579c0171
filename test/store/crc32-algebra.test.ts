/** CRC-32 arithmetic against zlib's own crc32 over the real bytes. */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine, crc32Linear, mulMod, sumXPow8 } from '../../src/store/crc32-algebra.js';

describe('CRC-32 algebra', () => {
  it('combines the CRCs of two parts into the CRC of both, short and past 64 KiB', () => {
    for (const [a, b] of [[0, 0], [1, 0], [0, 7], [300, 1], [70_000, 5], [12, 200_000], [65_536, 65_536]] as const) {
      const x = randomBytes(a);
      const y = randomBytes(b);
      expect(crc32Combine(crc32(x), crc32(y), b)).toBe(crc32(Buffer.concat([x, y])));
    }
  });

  it('predicts the CRC after the same bytes change at many places (slots), slots near and past 64 KiB from the end', () => {
    const text = randomBytes(200_000);
    const width = 24;
    const slots = [3, 400, 1_000, 65_000, 66_000, 131_100, 199_000];
    const was = randomBytes(width);
    for (const s of slots) was.copy(text, s);
    const before = crc32(text);
    const factor = sumXPow8(slots.map((s) => text.length - s - width));
    const now = randomBytes(width);
    for (const s of slots) now.copy(text, s);
    const change = crc32Linear(Buffer.from(now.map((v, i) => v ^ was[i]!)));
    expect((before ^ mulMod(change, factor)) >>> 0).toBe(crc32(text));
  });
});
