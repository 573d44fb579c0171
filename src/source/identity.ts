/**
 * File identity: device + inode, guarded by fingerprints. The head fingerprint (hash of the
 * first bytes, up to HEAD_FP_BYTES, adaptive for small files) tells a reused inode from the old
 * file; the tail fingerprint (hash of the bytes just before the stored offset) tells, on resume,
 * a file truncated or replaced while tailship was stopped, even when it is as large as the old
 * offset. The file key is random, made once per file life, and stored with its first commit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readSync } from 'node:fs';

export const HEAD_FP_BYTES = 1024;
export const TAIL_FP_BYTES = 64;

export function newFileKey(dev: number, ino: number): string {
  return `${dev.toString(36)}.${ino.toString(36)}.${randomBytes(6).toString('hex')}`;
}

function hash(buf: Buffer, len: number): string {
  return createHash('sha256').update(buf.subarray(0, len)).digest('hex').slice(0, 32);
}

/** The fingerprint of bytes held in memory (the same hash as fingerprintAt over a file). */
export function fingerprintBytes(buf: Buffer): string {
  return hash(buf, buf.length);
}

/** Hash of bytes [start, start+len) of an open file; undefined if fewer bytes are there. */
export function fingerprintAt(fd: number, start: number, len: number): string | undefined {
  if (len === 0) return hash(Buffer.alloc(0), 0);
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, start + got);
    if (n === 0) return undefined;
    got += n;
  }
  return hash(buf, len);
}

/** Head fingerprint over min(size, HEAD_FP_BYTES) bytes. */
export function headFingerprint(fd: number, size: number): { fp: string; len: number } {
  const len = Math.min(size, HEAD_FP_BYTES);
  return { fp: fingerprintAt(fd, 0, len) ?? hash(Buffer.alloc(0), 0), len };
}

/** Tail fingerprint over the (up to) TAIL_FP_BYTES bytes before `offset`. */
export function tailFingerprint(fd: number, offset: number): string | undefined {
  const len = Math.min(offset, TAIL_FP_BYTES);
  return fingerprintAt(fd, offset - len, len);
}

/**
 * The file's birth time (statx btime, where the file system keeps one) as a suffix of the head
 * fingerprint: a reused inode whose new file starts with the same bytes is still a new file.
 */
export function birthMark(st: { birthtimeMs: number }): string {
  return st.birthtimeMs > 0 ? `@${Math.round(st.birthtimeMs * 1000).toString(36)}` : '';
}

/** Whether an open file (of `size` bytes, born `birth`) still has the head a stored state saw. */
export function headMatches(fd: number, size: number, birth: string, storedFp: string, storedLen: number): boolean {
  if (size < storedLen) return false;
  const at = storedFp.indexOf('@');
  const hashPart = at === -1 ? storedFp : storedFp.slice(0, at);
  if (fingerprintAt(fd, 0, storedLen) !== hashPart) return false;
  // States written without a birth mark (older versions, file systems without btime) match on bytes.
  return at === -1 || birth === '' || storedFp.slice(at) === birth;
}
