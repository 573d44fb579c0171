/** File keys derived from the file itself (inode, birth time, first line): what makes two keys equal or different. */
import { describe, expect, it } from 'vitest';
import { derivedFileKey, FIRST_LINE_BYTES, isProvisionalKey, provisionalFileKey, randomFileKey } from '../../src/source/identity.js';

const born = 1_796_475_469_406.6497;
const head = (s: string): Buffer => Buffer.from(s);

describe('derivedFileKey', () => {
  it('is the same for the same inode, birth time and first line, whatever follows the first line', () => {
    const a = derivedFileKey(42, born, head('#v1 header\nline 1\n'));
    expect(a).toBeDefined();
    expect(derivedFileKey(42, born, head('#v1 header\nline 1\nline 2\nline 3\n'))).toBe(a);
    expect(derivedFileKey(42, born, head('#v1 header\n'))).toBe(a);
  });

  it('differs for files with the same first line (a CSV header) but another inode or birth time', () => {
    const csv = head('id,name,amount\n1,a,2\n');
    const a = derivedFileKey(42, born, csv);
    expect(derivedFileKey(43, born, csv)).not.toBe(a);
    // A microsecond apart: a reused inode is born later.
    expect(derivedFileKey(42, born + 0.001, csv)).not.toBe(a);
    expect(derivedFileKey(42, born, head('id,name,amounts\n'))).not.toBe(a);
  });

  it('is undefined while the first line can still change, unless it is taken unfinished', () => {
    expect(derivedFileKey(42, born, head(''))).toBeUndefined();
    expect(derivedFileKey(42, born, head('no newline yet'))).toBeUndefined();
    const taken = derivedFileKey(42, born, head('no newline yet'), true);
    expect(taken).toBeDefined();
    // Taken unfinished, the line's bytes are all there is: not the key of the line completed later.
    expect(derivedFileKey(42, born, head('no newline yet, now complete\n'))).not.toBe(taken);
  });

  it('hashes at most FIRST_LINE_BYTES of a long first line, fixed once that many bytes are written', () => {
    const long = 'x'.repeat(FIRST_LINE_BYTES);
    const a = derivedFileKey(42, born, head(long));
    expect(a).toBeDefined();
    expect(derivedFileKey(42, born, head(long + 'more of the same line\nnext\n'))).toBe(a);
    expect(derivedFileKey(42, born, head('x'.repeat(FIRST_LINE_BYTES - 1)))).toBeUndefined();
  });

  it('is undefined where the file system keeps no birth time (the caller falls back to a random key)', () => {
    expect(derivedFileKey(42, 0, head('line\n'))).toBeUndefined();
  });

  it('never equals a random or a provisional key', () => {
    const derived = derivedFileKey(42, born, head('line\n'))!;
    const random = randomFileKey(2049, 42);
    expect(derived.split('.')[2]).toHaveLength(16);
    expect(random.split('.')[2]).toHaveLength(12);
    expect(isProvisionalKey(provisionalFileKey(2049, 42))).toBe(true);
    expect(isProvisionalKey(derived)).toBe(false);
    expect(isProvisionalKey(random)).toBe(false);
  });
});
