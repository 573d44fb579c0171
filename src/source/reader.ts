/**
 * One file being read: its handle, its framer (bytes → lines) and its joiner (multiline groups,
 * container partial lines), with the offsets and fingerprints that say where it stands. A read
 * returns what it found as a value and calls nothing back; what a truncation or a rotation means
 * for the file (a new life, a copy, closing it) is the tailer's to decide (tailer.ts). Reads are
 * synchronous positional reads from the page cache: the pipeline is CPU-bound on one thread
 * anyway, and sync reads avoid a promise per chunk.
 */
import { readSync } from 'node:fs';
import type { FileState } from '../store/files.js';
import { Framer } from './framer.js';
import { fingerprintBytes, headFingerprint, HEAD_FP_BYTES, isProvisionalKey, lifeKey, tailFingerprint, TAIL_FP_BYTES } from './identity.js';
import { LineBatchBuilder, textBatch, type LineBatch } from './line-batch.js';
import { LineList, type Line, type LineJoiner } from './line.js';

export interface ReaderLimits {
  readonly maxLineBytes: number;
  readonly maxReadBytes: number;
  /** An unfinished last line is taken as a line of its own once the file was quiet this long. */
  readonly partialLineTimeoutMs: number;
}

/** What one read of one file found. */
export interface ReaderResult {
  /** Bytes consumed (0: at the end of the file, or see `rewritten` and `error`). */
  readonly bytes: number;
  /** The bytes kept from before the read offset changed: the file was truncated and written again. */
  readonly rewritten: boolean;
  /** The lines this read completed (framed, then joined when the file has a joiner). */
  readonly lines: LineBatch | undefined;
  /** The file's state once these lines are committed; undefined when it did not move. */
  readonly state: FileState | undefined;
  /** Lines cut at max_line_bytes by this read. */
  readonly cutLines: number;
  readonly error?: unknown;
}

const NOTHING: ReaderResult = { bytes: 0, rewritten: false, lines: undefined, state: undefined, cutLines: 0 };

export class FileReader {
  fd: number | undefined;
  /** Bytes consumed into the framer. */
  readOffset: number;
  private readonly framer: Framer;
  private joiner: LineJoiner | undefined;
  /** Last time bytes were read (or the file was opened): for close_inactive and partial lines. */
  lastGrowthMs: number;
  /** Last growth or reopening: the open-file budget closes the least recent first. */
  lastActiveMs: number;
  /** The path no longer leads to this file (renamed or deleted): read to the end, then close. */
  detached = false;
  deleted = false;
  /** Last read returned no bytes. */
  atEof = false;
  /** Size seen when the handle was closed for the budget or inactivity. */
  sizeAtClose = 0;
  /** Up to TAIL_FP_BYTES bytes just before readOffset: a change there means truncate-and-rewrite. */
  private tailBytes: Buffer;
  /** Birth-time mark, part of the head fingerprint (see identity.ts). */
  birth: string;
  /** Birth time (0: the file system keeps none), part of a derived file key. */
  birthtimeMs = 0;
  /** The committed state, as the commits queued so far leave it (they run in read order). */
  state: FileState;

  constructor(
    state: FileState,
    fd: number,
    birth: string,
    private readonly limits: ReaderLimits,
    private readonly newJoiner: (() => LineJoiner) | undefined,
    now: number,
    /** Whether a derived file key already names another life the tailer knows. */
    private readonly keyTaken: (key: string) => boolean = () => false,
  ) {
    this.state = state;
    this.fd = fd;
    this.birth = birth;
    this.readOffset = state.offset;
    this.framer = new Framer(limits.maxLineBytes);
    this.framer.reset(state.offset);
    this.joiner = newJoiner?.();
    this.tailBytes = readBefore(fd, state.offset);
    this.lastGrowthMs = now;
    this.lastActiveMs = now;
  }

  get key(): string {
    return this.state.fileKey;
  }

  get path(): string {
    return this.state.path;
  }

  /** Where reading resumes after a crash: before anything still held back (undefined: nothing held). */
  heldFrom(): number | undefined {
    const a = this.framer.pendingStart();
    const b = this.joiner?.pendingStart();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** An unfinished last line is held: the handle must stay open until it is done. */
  get holdsPartialLine(): boolean {
    return this.framer.pendingStart() !== undefined;
  }

  /** The held unfinished line is due to be taken as a line of its own. */
  partialDue(now: number): boolean {
    return this.holdsPartialLine && now - this.lastGrowthMs >= this.limits.partialLineTimeoutMs;
  }

  /** Reads the next bytes into `buf` (reused by every file) and frames and joins them. */
  read(buf: Buffer, now: number): ReaderResult {
    // A closed file holding a due partial line is reopened by the tailer first, so that its
    // state (tail fingerprint) can be computed when that line is committed.
    if (this.fd === undefined) return NOTHING;
    // Read the kept bytes before the offset again with the new ones: if they changed, the file was
    // truncated and written again (copytruncate) even though it is not smaller than our offset.
    const k = this.tailBytes.length;
    let got: number;
    try {
      got = readSync(this.fd, buf, 0, Math.min(buf.length, this.limits.maxReadBytes + k), this.readOffset - k);
    } catch (err) {
      return { ...NOTHING, error: err };
    }
    if (got < k || (k > 0 && buf.compare(this.tailBytes, 0, k, 0, k) !== 0)) return { ...NOTHING, rewritten: true };
    const n = got - k;
    const cutBefore = this.framer.truncatedLines;
    const framed = this.joiner ? new LineList() : new LineBatchBuilder(buf.length);
    if (n > 0) {
      this.framer.push(k > 0 ? buf.subarray(k) : buf, n, framed);
      this.readOffset += n;
      this.tailBytes = got >= TAIL_FP_BYTES ? Buffer.from(buf.subarray(got - TAIL_FP_BYTES, got)) : Buffer.from(buf.subarray(0, got));
      this.lastGrowthMs = now;
      this.lastActiveMs = now;
      this.atEof = false;
    } else {
      this.atEof = true;
      if (this.partialDue(now) && this.framer.takePartial(framed)) this.settleKey(true);
    }
    // Before the lines are named with the file's key: a provisional key is settled as soon as
    // the first line is fixed.
    if (n > 0) this.settleKey(false);
    const lines = this.finish(framed, now, false);
    const moved = lines !== undefined || (n > 0 && this.resumeOffset() !== this.state.offset);
    return { bytes: n, rewritten: false, lines, state: moved ? this.settle(now) : undefined, cutLines: this.framer.truncatedLines - cutBefore };
  }

  /** At the end of a --once run: everything held back (a partial line, open groups) as lines. */
  flush(now: number): ReaderResult {
    const framed = this.joiner ? new LineList() : new LineBatchBuilder(0);
    if (this.framer.takePartial(framed)) this.settleKey(true);
    const lines = this.finish(framed, now, true);
    return lines ? { ...NOTHING, lines, state: this.settle(now) } : NOTHING;
  }

  /**
   * Starts a new life of the file at offset 0 (truncated in place, or rewritten) with `state`.
   * Returns the lines held back from the old life (an unfinished line, open groups): they must
   * not join the new life's lines, and are dropped (a copy of the file, if one is in the globs,
   * still holds them: the committed offset stayed before them).
   */
  restart(state: FileState): number {
    let dropped = this.framer.pendingStart() !== undefined ? 1 : 0;
    if (this.joiner) dropped += this.joiner.flush().reduce((n, l) => n + (l.lines ?? 1), 0);
    this.joiner = this.newJoiner?.();
    this.state = state;
    this.readOffset = 0;
    this.tailBytes = Buffer.alloc(0);
    this.framer.reset(0);
    this.atEof = false;
    return dropped;
  }

  /** A provisional key becomes the life's key once its first line is fixed (or taken unfinished: `final`). */
  private settleKey(final: boolean): void {
    if (!isProvisionalKey(this.key)) return;
    const key = lifeKey(this.fd, { ...this.state, birthtimeMs: this.birthtimeMs }, this.readOffset, final, this.keyTaken);
    if (key !== undefined) this.state = { ...this.state, fileKey: key };
  }

  private finish(framed: LineList | LineBatchBuilder, now: number, flush: boolean): LineBatch | undefined {
    if (framed instanceof LineBatchBuilder) return framed.lines > 0 ? framed.finish(this.path, this.key, now) : undefined;
    const joiner = this.joiner!;
    const ready: Line[] = [];
    for (const l of framed.lines) ready.push(...joiner.push(l, now));
    ready.push(...(flush ? joiner.flush() : joiner.tick(now)));
    return ready.length > 0 ? textBatch(ready, this.path, this.key, now) : undefined;
  }

  private resumeOffset(): number {
    return this.heldFrom() ?? this.readOffset;
  }

  /**
   * The state once the bytes read so far are done (up to what is held back), taken now while the
   * bytes it fingerprints are at hand. It becomes the file's state at once: commits run in read
   * order, so later reads and the tailer's decisions build on it.
   */
  private settle(now: number): FileState {
    const offset = this.resumeOffset();
    const fd = this.fd;
    if (fd === undefined) return (this.state = { ...this.state, offset });
    let { headFp, headLen } = this.state;
    if (headLen < HEAD_FP_BYTES && this.readOffset > headLen) {
      const head = headFingerprint(fd, Math.min(this.readOffset, HEAD_FP_BYTES));
      headFp = head.fp + this.birth;
      headLen = head.len;
    }
    const tailFp = offset === this.state.offset ? this.state.tailFp : this.tailFpAt(fd, offset);
    return (this.state = { ...this.state, offset, headFp, headLen, tailFp, size: Math.max(this.readOffset, this.state.size), updatedAt: now });
  }

  /**
   * The tail fingerprint at `offset`, from the bytes read when they are still in memory: the file
   * may have been truncated since (copytruncate), and a hash of what is there now would not match
   * the bytes the offset stands for.
   */
  private tailFpAt(fd: number, offset: number): string {
    const len = Math.min(offset, TAIL_FP_BYTES);
    const heldFrom = this.readOffset - this.tailBytes.length;
    if (offset - len >= heldFrom && offset <= this.readOffset) return fingerprintBytes(this.tailBytes.subarray(offset - len - heldFrom, offset - heldFrom));
    return tailFingerprint(fd, offset) ?? this.state.tailFp;
  }
}

/** The (up to) TAIL_FP_BYTES bytes before `offset`. */
function readBefore(fd: number, offset: number): Buffer {
  const len = Math.min(offset, TAIL_FP_BYTES);
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, offset - len + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}
