/**
 * File identity: device + inode, guarded by fingerprints. The head fingerprint (hash of the
 * first bytes, up to HEAD_FP_BYTES, adaptive for small files) tells a reused inode from the old
 * file; the tail fingerprint (hash of the bytes just before the stored offset) tells, on resume,
 * a file truncated or replaced while tailship was stopped, even when it is as large as the old
 * offset.
 *
 * The file key names a file life in messageIds, so it is derived from what the file itself keeps
 * (its inode, its birth time and its first line): read again after the state directory is lost,
 * the same line at the same offset gets the same id (docs/decisions/0032-file-keys-derived-from-the-file.md).
 * Until the first line is complete the key is provisional; it is settled before any line of the
 * file leaves the tailer. Where the file system keeps no birth time the key is random.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readSync } from 'node:fs';

export const HEAD_FP_BYTES = 1024;
export const TAIL_FP_BYTES = 64;

/** The first line a derived key hashes, at most this many bytes of it (a longer line is fixed once this many are written). */
export const FIRST_LINE_BYTES = 1024;

const PROVISIONAL = 'provisional.';

/** A key for a file life that cannot be derived (no birth time, or a derived key already taken). */
export function randomFileKey(dev: number, ino: number): string {
  return `${dev.toString(36)}.${ino.toString(36)}.${randomBytes(6).toString('hex')}`;
}

/** Names a file life whose first line is not complete yet; never used for a messageId. */
export function provisionalFileKey(dev: number, ino: number): string {
  return PROVISIONAL + randomFileKey(dev, ino);
}

export function isProvisionalKey(key: string): boolean {
  return key.startsWith(PROVISIONAL);
}

/**
 * The key a file life derives from its inode, birth time and `head` (its first bytes, as many as
 * were read): undefined while the first line can still change (no newline in the head and fewer
 * than FIRST_LINE_BYTES bytes) unless `final` (the unfinished line is taken as it is), and
 * undefined where the file system keeps no birth time. Two files share a key only with the same
 * inode, the same birth time to the microsecond and the same first line; on one file system an
 * inode belongs to one file at a time and a reused one is born later. The device is left out:
 * its number can change across reboots and nodes while the file stays the same.
 */
export function derivedFileKey(ino: number, birthtimeMs: number, head: Buffer, final = false): string | undefined {
  if (!(birthtimeMs > 0)) return undefined;
  const window = head.subarray(0, FIRST_LINE_BYTES);
  const nl = window.indexOf(0x0a);
  if (nl === -1 && window.length < FIRST_LINE_BYTES && !final) return undefined;
  const firstLine = nl === -1 ? window : window.subarray(0, nl + 1);
  const digest = createHash('sha256').update(firstLine).digest('hex').slice(0, 16);
  return `${ino.toString(36)}.${Math.round(birthtimeMs * 1000).toString(36)}.${digest}`;
}

/**
 * The key of a file life opened as `fd` (or closed: undefined): derived when its first line is
 * fixed in its first `upTo` bytes (or taken unfinished: `final`), undefined while it is not;
 * random where the file system keeps no birth time, and when the derived key is `taken` by
 * another life (a file truncated in place keeps its inode and birth time, and may be written
 * again with the same first line).
 */
export function lifeKey(
  fd: number | undefined,
  file: { dev: number; ino: number; birthtimeMs: number },
  upTo: number,
  final: boolean,
  taken: (key: string) => boolean,
): string | undefined {
  const { dev, ino, birthtimeMs } = file;
  if (!(birthtimeMs > 0)) return randomFileKey(dev, ino);
  if (fd === undefined) return final ? randomFileKey(dev, ino) : undefined;
  const key = derivedFileKey(ino, birthtimeMs, readHead(fd, upTo), final);
  if (key === undefined) return undefined;
  return taken(key) ? randomFileKey(dev, ino) : key;
}

/** The first min(upTo, FIRST_LINE_BYTES) bytes of an open file (fewer if it is shorter now). */
export function readHead(fd: number, upTo: number): Buffer {
  const buf = Buffer.alloc(Math.min(upTo, FIRST_LINE_BYTES));
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
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
