/**
 * Tailer: the files of one input, read from their offsets by identity (not by path). Follows
 * appends; when the path moves to a new file (rename rotation) the old file is read to its end
 * before it is closed; detects truncation (size below the read offset: copytruncate) and starts
 * again at 0 under a new file key; reads a bounded number of bytes per file per turn so that one
 * busy file cannot starve the others. Reads are synchronous positional reads from the page cache:
 * the pipeline is CPU-bound on one thread anyway, and sync reads avoid a promise per chunk.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { InputConfig } from '../config/schema.js';
import type { FileStates, FileState } from '../store/files.js';
import { Framer } from './framer.js';
import { headFingerprint, HEAD_FP_BYTES, newFileKey, tailFingerprint } from './identity.js';
import type { Line } from './line.js';

/** What the source reports; ops/ implements it with logs and metrics, tests with a recorder. */
export interface SourceEvents {
  fileOpened(path: string, offset: number, reason: 'new' | 'resumed' | 'reused-inode' | 'changed-while-stopped'): void;
  fileRotated(path: string): void;
  fileTruncated(path: string): void;
  fileClosed(path: string, reason: 'rotated' | 'deleted' | 'inactive'): void;
  lineTruncated(path: string): void;
  readError(path: string, err: unknown): void;
}

export class TrackedFile {
  fd: number | undefined;
  /** Bytes consumed into the framer. */
  readOffset: number;
  readonly framer: Framer;
  lastGrowthMs: number;
  /** The path no longer leads to this file (renamed or deleted): read to the end, then close. */
  detached = false;
  deleted = false;
  /** Last read returned no bytes. */
  atEof = false;
  /** The committed state, as last written to the store. */
  state: FileState;

  constructor(state: FileState, fd: number, maxLineBytes: number, now: number) {
    this.state = state;
    this.fd = fd;
    this.readOffset = state.offset;
    this.framer = new Framer(maxLineBytes);
    this.framer.reset(state.offset);
    this.lastGrowthMs = now;
  }

  get key(): string {
    return this.state.fileKey;
  }

  get path(): string {
    return this.state.path;
  }
}

export class Tailer {
  private readonly files = new Map<string, TrackedFile>();
  private readonly stored = new Map<string, FileState>();
  /** Files present at start-up honour start_at; files that appear later are read from their start. */
  private initialScanDone = false;

  constructor(
    private readonly pipeline: string,
    private readonly input: InputConfig,
    private readonly states: FileStates,
    private readonly events: SourceEvents,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of states.forPipeline(pipeline)) this.stored.set(s.fileKey, s);
  }

  tracked(): TrackedFile[] {
    return [...this.files.values()];
  }

  markInitialScanDone(): void {
    this.initialScanDone = true;
  }

  /** A path matched the input's globs: track the file there unless it is tracked already. */
  addPath(path: string): void {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (!st.isFile()) return;
    for (const f of this.files.values()) {
      if (f.state.dev === st.dev && f.state.ino === st.ino && !f.deleted) {
        if (f.state.path !== path && !this.pathHeldByLiveFile(path, f)) f.state = { ...f.state, path };
        return;
      }
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.events.readError(path, err);
      return;
    }
    const { state, reason } = this.resolveState(path, fd, st);
    this.states.upsert(state);
    this.stored.delete(state.fileKey);
    const f = new TrackedFile(state, fd, this.input.max_line_bytes, this.now());
    this.files.set(state.fileKey, f);
    this.events.fileOpened(path, state.offset, reason);
  }

  /** Reads the next bytes of a file into `buf` and frames them; returns the complete lines. */
  read(f: TrackedFile, buf: Buffer, out: Line[]): number {
    if (f.fd === undefined) return 0;
    let n: number;
    try {
      n = readSync(f.fd, buf, 0, Math.min(buf.length, this.input.max_read_bytes), f.readOffset);
    } catch (err) {
      this.events.readError(f.path, err);
      return 0;
    }
    if (n > 0) {
      const before = f.framer.truncatedLines;
      f.framer.push(buf, n, out);
      for (let i = before; i < f.framer.truncatedLines; i++) this.events.lineTruncated(f.path);
      f.readOffset += n;
      f.lastGrowthMs = this.now();
      f.atEof = false;
    } else {
      f.atEof = true;
      const partial = this.now() - f.lastGrowthMs >= this.input.partial_line_timeout ? f.framer.takePartial() : undefined;
      if (partial) out.push(partial);
    }
    return n;
  }

  /**
   * At end of file: notices truncation, rotation and deletion. Returns paths that now need a
   * fresh look (the path of a rotated file may already hold its successor).
   */
  check(f: TrackedFile): string[] {
    if (f.fd === undefined) return [];
    const revisit: string[] = [];
    let st: Stats;
    try {
      st = fstatSync(f.fd);
    } catch (err) {
      this.events.readError(f.path, err);
      return [];
    }
    if (st.size < f.readOffset) {
      // Truncated in place (copytruncate or `> file`): same inode, new content from 0. A new
      // file key keeps the new lines' messageIds apart from the old lines' ones.
      this.events.fileTruncated(f.path);
      const { fp, len } = headFingerprint(f.fd, st.size);
      f.state = { ...f.state, fileKey: newFileKey(st.dev, st.ino), offset: 0, headFp: fp, headLen: len, tailFp: tailFingerprint(f.fd, 0)!, size: st.size };
      this.files.forEach((v, k) => v === f && this.files.delete(k));
      this.files.set(f.key, f);
      f.readOffset = 0;
      f.framer.reset(0);
      f.atEof = false;
      this.states.upsert(f.state);
      return [];
    }
    if (!f.detached) {
      let here: Stats | undefined;
      try {
        here = statSync(f.path);
      } catch {
        here = undefined;
      }
      if (!here || here.ino !== st.ino || here.dev !== st.dev) {
        f.detached = true;
        f.deleted = st.nlink === 0;
        if (!f.deleted) this.events.fileRotated(f.path);
        if (here) revisit.push(f.path);
      }
    }
    if (f.detached && f.atEof) {
      const quietMs = this.now() - f.lastGrowthMs;
      // A renamed file may still get the lines its writer wrote before reopening: wait a while.
      const waitMs = f.deleted ? 0 : Math.min(this.input.close_inactive, 5_000);
      if (quietMs >= waitMs && f.framer.pendingStart() === undefined) {
        this.close(f, f.deleted ? 'deleted' : 'rotated');
      }
    }
    return revisit;
  }

  /** The committed state after the bytes up to `offset` are done; refreshes fingerprints. */
  stateAt(f: TrackedFile, offset: number): FileState {
    const fd = f.fd!;
    let { headFp, headLen } = f.state;
    if (headLen < HEAD_FP_BYTES && f.readOffset > headLen) {
      const head = headFingerprint(fd, Math.min(f.readOffset, HEAD_FP_BYTES));
      headFp = head.fp;
      headLen = head.len;
    }
    const tailFp = offset === f.state.offset ? f.state.tailFp : (tailFingerprint(fd, offset) ?? f.state.tailFp);
    return { ...f.state, offset, headFp, headLen, tailFp, size: Math.max(f.readOffset, f.state.size), updatedAt: this.now() };
  }

  /** Records that the state was committed. */
  committed(f: TrackedFile, state: FileState): void {
    f.state = state;
  }

  close(f: TrackedFile, reason: 'rotated' | 'deleted' | 'inactive'): void {
    if (f.fd !== undefined) closeSync(f.fd);
    f.fd = undefined;
    this.files.delete(f.key);
    if (reason === 'deleted') this.states.markRemoved(this.pipeline, f.key, this.now());
    this.events.fileClosed(f.path, reason);
  }

  closeAll(): void {
    for (const f of this.files.values()) if (f.fd !== undefined) closeSync(f.fd);
    this.files.clear();
  }

  private pathHeldByLiveFile(path: string, except: TrackedFile): boolean {
    for (const f of this.files.values()) if (f !== except && f.state.path === path && !f.detached) return true;
    return false;
  }

  /** Resume from a stored state when identity and fingerprints agree; otherwise a new file life. */
  private resolveState(path: string, fd: number, st: Stats): { state: FileState; reason: 'new' | 'resumed' | 'reused-inode' | 'changed-while-stopped' } {
    const now = this.now();
    let reason: 'new' | 'reused-inode' | 'changed-while-stopped' = 'new';
    for (const s of this.stored.values()) {
      if (s.dev !== st.dev || s.ino !== st.ino) continue;
      this.stored.delete(s.fileKey);
      this.states.delete(this.pipeline, s.fileKey);
      const headNow = st.size >= s.headLen ? headFingerprint(fd, s.headLen).fp : undefined;
      if (headNow !== s.headFp) {
        reason = 'reused-inode';
        break;
      }
      if (st.size < s.offset || tailFingerprint(fd, s.offset) !== s.tailFp) {
        reason = 'changed-while-stopped';
        break;
      }
      return { state: { ...s, path, removedAt: null, updatedAt: now }, reason: 'resumed' };
    }
    const fromEnd =
      reason === 'new' &&
      ((!this.initialScanDone && this.input.start_at === 'end') ||
        (this.input.ignore_older > 0 && now - st.mtimeMs > this.input.ignore_older));
    const offset = fromEnd ? st.size : 0;
    const { fp, len } = headFingerprint(fd, st.size);
    return {
      state: {
        pipeline: this.pipeline, fileKey: newFileKey(st.dev, st.ino), dev: st.dev, ino: st.ino, path, headFp: fp, headLen: len,
        offset, tailFp: tailFingerprint(fd, offset)!, size: st.size, updatedAt: now, removedAt: null,
      },
      reason,
    };
  }
}
