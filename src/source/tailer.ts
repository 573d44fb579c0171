/**
 * Tailer: the files of one input, read from their offsets by identity (not by path). Follows
 * appends; when the path moves to a new file (rename rotation) the old file is read to its end
 * before it is closed; detects truncation (size below the read offset, or the bytes just before
 * the read offset changed: copytruncate, `> file`) and starts again at 0 under a new file key;
 * reads a bounded number of bytes per file per turn so that one busy file cannot starve the
 * others; keeps at most max_open_files handles (the least recently active are closed and
 * reopened at their offset when a stat of their path shows growth); recognises the copy of a
 * truncated file (copytruncate's `.1` inside the globs) by content and reads it from where the
 * original was, under the original's key (docs/file-lifecycle.md). Reads are synchronous
 * positional reads from the page cache: the pipeline is CPU-bound on one thread anyway, and sync
 * reads avoid a promise per chunk.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { InputConfig } from '../config/schema.js';
import type { FileStates, FileState } from '../store/files.js';
import { Copies } from './copies.js';
import { Framer } from './framer.js';
import { birthMark, fingerprintBytes, headFingerprint, headMatches, HEAD_FP_BYTES, newFileKey, tailFingerprint, TAIL_FP_BYTES } from './identity.js';
import type { Line, LineSink } from './line.js';

export type OpenReason = 'new' | 'resumed' | 'reused-inode' | 'changed-while-stopped' | 'copy-of-truncated';
export type CloseReason = 'rotated' | 'deleted' | 'inactive' | 'budget';

/** What the source reports; ops/ implements it with logs and metrics, tests with a recorder. */
export interface SourceEvents {
  fileOpened(path: string, offset: number, reason: OpenReason): void;
  /** A handle closed for the open-file budget or inactivity was opened again (the file grew). */
  fileReopened?(path: string, offset: number): void;
  fileRotated(path: string): void;
  fileTruncated(path: string): void;
  fileClosed(path: string, reason: CloseReason): void;
  /**
   * A file left its path (rotated or deleted) while its handle was closed, or while tailship was
   * stopped, before it was read to its end: `unreadBytes` were known unread (more may have been
   * written after the handle was closed). Never silent: it is a metric.
   */
  fileRotatedUnread?(path: string, unreadBytes: number): void;
  lineTruncated(path: string): void;
  /** The file was truncated while an unfinished last line of it was held: that line is dropped. */
  partialLineDropped?(path: string, fileKey: string): void;
  readError(path: string, err: unknown): void;
}

export class TrackedFile {
  fd: number | undefined;
  /** Bytes consumed into the framer. */
  readOffset: number;
  readonly framer: Framer;
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
  tailBytes: Buffer = Buffer.alloc(0);
  /** Birth-time mark, part of the head fingerprint (see identity.ts). */
  birth = '';
  /** The committed state, as last written to the store or queued to be (commits run in read order). */
  state: FileState;

  constructor(state: FileState, fd: number, maxLineBytes: number, now: number) {
    this.state = state;
    this.fd = fd;
    this.readOffset = state.offset;
    this.framer = new Framer(maxLineBytes);
    this.framer.reset(state.offset);
    this.lastGrowthMs = now;
    this.lastActiveMs = now;
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
  private readonly copies: Copies;
  /** States from the store (or of closed rotated files) not tracked now: resumed when their file is found. */
  private readonly stored = new Map<string, FileState>();
  /** Files present at start-up honour start_at; files that appear later are read from their start. */
  private initialScanDone = false;
  private openHandles = 0;
  private lastPurgeMs = 0;

  constructor(
    private readonly pipeline: string,
    private readonly input: InputConfig,
    private readonly states: FileStates,
    private readonly events: SourceEvents,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of states.forPipeline(pipeline)) this.stored.set(s.fileKey, s);
    this.copies = new Copies(now);
  }

  tracked(): TrackedFile[] {
    return [...this.files.values()];
  }

  /** File handles held now (bounded by max_open_files, except for rotated files being drained). */
  get openCount(): number {
    return this.openHandles;
  }

  /**
   * Ends the first scan: later files are read from their start. A stored file not found by then
   * left while tailship was stopped: reported if it had unread bytes, and forgotten after
   * clean_removed_after unless it shows up again.
   */
  markInitialScanDone(): void {
    if (this.initialScanDone) return;
    this.initialScanDone = true;
    const now = this.now();
    for (const s of this.stored.values()) {
      if (s.removedAt !== null) continue;
      if (s.size > s.offset) this.events.fileRotatedUnread?.(s.path, s.size - s.offset);
      this.states.markRemoved(this.pipeline, s.fileKey, now);
      s.removedAt = now;
    }
  }

  /** A path matched the input's globs: track the file there unless it is tracked already. */
  addPath(path: string): void {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      this.copies.settled(path);
      return;
    }
    if (!st.isFile()) return;
    for (const f of this.files.values()) {
      if (f.state.dev === st.dev && f.state.ino === st.ino && !f.deleted) {
        if (f.state.path !== path && !this.pathHeldByLiveFile(path, f)) f.state = { ...f.state, path };
        return;
      }
    }
    this.makeRoom(false);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.events.readError(path, err);
      return;
    }
    this.openHandles++;
    const resolved = this.resolveState(path, fd, st);
    if (!resolved) {
      // Maybe a copy not complete yet, or of a live file not truncated yet: judged again next poll.
      closeSync(fd);
      this.openHandles--;
      return;
    }
    const { state, reason } = resolved;
    this.states.upsert(state);
    this.stored.delete(state.fileKey);
    const f = new TrackedFile(state, fd, this.input.max_line_bytes, this.now());
    f.birth = birthMark(st);
    f.tailBytes = readBefore(fd, state.offset);
    this.files.set(state.fileKey, f);
    this.events.fileOpened(path, state.offset, reason);
  }

  /** Reads the next bytes of a file into `buf` and frames them into `out`; returns the bytes consumed. */
  read(f: TrackedFile, buf: Buffer, out: LineSink | Line[]): number {
    // A closed file holding a due partial line is reopened by maintain() first, so that its
    // state (tail fingerprint) can be computed when that line is committed.
    if (f.fd === undefined) return 0;
    // Read the kept bytes before the offset again with the new ones: if they changed, the file was
    // truncated and written again (copytruncate) even though it is not smaller than our offset.
    const k = f.tailBytes.length;
    let got: number;
    try {
      got = readSync(f.fd, buf, 0, Math.min(buf.length, this.input.max_read_bytes + k), f.readOffset - k);
    } catch (err) {
      this.events.readError(f.path, err);
      return 0;
    }
    if (got < k || (k > 0 && buf.compare(f.tailBytes, 0, k, 0, k) !== 0)) {
      this.restartAtZero(f);
      return 0;
    }
    const n = got - k;
    if (n > 0) {
      const before = f.framer.truncatedLines;
      f.framer.push(k > 0 ? buf.subarray(k) : buf, n, out);
      for (let i = before; i < f.framer.truncatedLines; i++) this.events.lineTruncated(f.path);
      f.readOffset += n;
      f.tailBytes = got >= TAIL_FP_BYTES ? Buffer.from(buf.subarray(got - TAIL_FP_BYTES, got)) : Buffer.from(buf.subarray(0, got));
      f.lastGrowthMs = this.now();
      f.lastActiveMs = f.lastGrowthMs;
      f.atEof = false;
    } else {
      f.atEof = true;
      this.takePartialIfDue(f, out);
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
      this.restartAtZero(f);
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
    } else if (!f.detached && f.atEof && this.now() - f.lastGrowthMs >= this.input.close_inactive && f.framer.pendingStart() === undefined) {
      this.closeHandle(f, 'inactive', st.size);
    }
    return revisit;
  }

  /**
   * Once per poll: reopens closed files whose path shows growth (or truncation), notices closed
   * files that left their path, and forgets deleted files after clean_removed_after. Returns
   * paths that need a fresh look.
   */
  maintain(): string[] {
    const revisit: string[] = [];
    const now = this.now();
    const waiting: TrackedFile[] = [];
    for (const f of this.files.values()) {
      if (f.fd !== undefined) continue;
      let here: Stats | undefined;
      try {
        here = statSync(f.path);
      } catch {
        here = undefined;
      }
      if (!here || here.ino !== f.state.ino || here.dev !== f.state.dev) {
        // It left its path while closed: nothing can follow it now except a glob that matches
        // its new name (its state waits in `stored` for that).
        const unread = Math.max(f.sizeAtClose - f.readOffset, 0);
        this.events.fileRotatedUnread?.(f.path, unread);
        this.files.delete(f.key);
        this.stored.set(f.key, f.state);
        if (here) revisit.push(f.path);
        continue;
      }
      if (here.size !== f.readOffset || here.size !== f.sizeAtClose || this.partialDue(f)) waiting.push(f);
    }
    // Longest waiting first; only idle (at end of file) handles make room, so that files being
    // read are not swapped out before they catch up (no thrashing when all files are busy).
    waiting.sort((a, b) => a.lastActiveMs - b.lastActiveMs);
    for (const f of waiting) {
      if (!this.makeRoom(true)) break;
      this.reopen(f);
    }
    revisit.push(...this.copies.waitingPaths());
    if (now - this.lastPurgeMs >= Math.min(this.input.clean_removed_after, 60_000)) {
      this.lastPurgeMs = now;
      this.states.purgeRemoved(this.pipeline, now - this.input.clean_removed_after);
      for (const [k, s] of this.stored) if (s.removedAt !== null && s.removedAt < now - this.input.clean_removed_after) this.stored.delete(k);
    }
    return revisit;
  }

  /** The committed state after the bytes up to `offset` are done; refreshes fingerprints. */
  stateAt(f: TrackedFile, offset: number): FileState {
    const fd = f.fd!;
    let { headFp, headLen } = f.state;
    if (headLen < HEAD_FP_BYTES && f.readOffset > headLen) {
      const head = headFingerprint(fd, Math.min(f.readOffset, HEAD_FP_BYTES));
      headFp = head.fp + f.birth;
      headLen = head.len;
    }
    const tailFp = offset === f.state.offset ? f.state.tailFp : this.tailFpAt(f, offset);
    return { ...f.state, offset, headFp, headLen, tailFp, size: Math.max(f.readOffset, f.state.size), updatedAt: this.now() };
  }

  /**
   * The tail fingerprint at `offset`, from the bytes read when they are still in memory: the file
   * may have been truncated since (copytruncate), and a hash of what is there now would not match
   * the bytes the offset stands for.
   */
  private tailFpAt(f: TrackedFile, offset: number): string {
    const len = Math.min(offset, TAIL_FP_BYTES);
    const heldFrom = f.readOffset - f.tailBytes.length;
    if (offset - len >= heldFrom && offset <= f.readOffset) return fingerprintBytes(f.tailBytes.subarray(offset - len - heldFrom, offset - heldFrom));
    return tailFingerprint(f.fd!, offset) ?? f.state.tailFp;
  }

  /** Records the state the file will have in the store once the commits queued so far are done. */
  committed(f: TrackedFile, state: FileState): void {
    f.state = state;
  }

  /** Stops tracking a file (rotated away and drained, or deleted). */
  close(f: TrackedFile, reason: 'rotated' | 'deleted'): void {
    this.release(f);
    this.files.delete(f.key);
    if (reason === 'deleted') this.states.markRemoved(this.pipeline, f.key, this.now());
    // A rotated file may match the globs under its new name: found again, it resumes here.
    else this.stored.set(f.key, f.state);
    this.events.fileClosed(f.path, reason);
  }

  closeAll(): void {
    for (const f of this.files.values()) this.release(f);
    this.files.clear();
  }

  /** Closes the handle but keeps the file tracked; maintain() reopens it when it changes. */
  private closeHandle(f: TrackedFile, reason: 'inactive' | 'budget', size: number): void {
    this.release(f);
    f.sizeAtClose = size;
    this.events.fileClosed(f.path, reason);
  }

  private release(f: TrackedFile): void {
    if (f.fd === undefined) return;
    closeSync(f.fd);
    f.fd = undefined;
    this.openHandles--;
  }

  /**
   * Before opening one more handle: closes the least recently active one if at the bound (only
   * one at end of file when `idleOnly`, preferring those otherwise). Returns whether there is room.
   */
  private makeRoom(idleOnly: boolean): boolean {
    while (this.openHandles >= this.input.max_open_files) {
      let victim: TrackedFile | undefined;
      for (const f of this.files.values()) {
        // Rotated files keep their handle: closing it would lose their unread rest.
        if (f.fd === undefined || f.detached) continue;
        if (idleOnly && !f.atEof) continue;
        if (!victim || (f.atEof && !victim.atEof) || (f.atEof === victim.atEof && f.lastActiveMs < victim.lastActiveMs)) victim = f;
      }
      if (!victim) return false;
      let size = victim.readOffset;
      try {
        size = fstatSync(victim.fd!).size;
      } catch {
        // keep the read offset as the last known size
      }
      this.closeHandle(victim, 'budget', size);
    }
    return true;
  }

  /** Opens a closed file again at its read offset, if it is still the same file. */
  private reopen(f: TrackedFile): void {
    let fd: number;
    try {
      fd = openSync(f.path, 'r');
    } catch (err) {
      this.events.readError(f.path, err);
      return;
    }
    this.openHandles++;
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (err) {
      this.events.readError(f.path, err);
      closeSync(fd);
      this.openHandles--;
      return;
    }
    f.fd = fd;
    f.lastActiveMs = this.now();
    f.atEof = false;
    if (st.dev !== f.state.dev || st.ino !== f.state.ino) {
      // Replaced between the stat and the open: leave it to the next maintain().
      this.release(f);
      return;
    }
    // A reused inode or a rewritten head: a new file life (read() checks the tail bytes).
    if (!headMatches(fd, st.size, birthMark(st), f.state.headFp, f.state.headLen)) {
      f.birth = birthMark(st);
      this.restartAtZero(f);
      return;
    }
    this.events.fileReopened?.(f.path, f.readOffset);
  }

  /** Truncated in place (copytruncate, `> file`) or rewritten: new content from 0 under a new key. */
  private restartAtZero(f: TrackedFile): void {
    const fd = f.fd!;
    this.events.fileTruncated(f.path);
    let size = 0;
    try {
      size = fstatSync(fd).size;
    } catch {
      // treated as empty
    }
    this.copies.remember({ key: f.key, headFp: f.state.headFp, headLen: f.state.headLen, offset: f.state.offset, tailFp: f.state.tailFp });
    if (f.framer.pendingStart() !== undefined) this.events.partialLineDropped?.(f.path, f.key);
    const { fp, len } = headFingerprint(fd, size);
    const old = f.key;
    f.state = { ...f.state, fileKey: newFileKey(f.state.dev, f.state.ino), offset: 0, headFp: fp + f.birth, headLen: len, tailFp: tailFingerprint(fd, 0)!, size, updatedAt: this.now() };
    this.files.delete(old);
    this.files.set(f.key, f);
    f.readOffset = 0;
    f.tailBytes = Buffer.alloc(0);
    f.framer.reset(0);
    f.atEof = false;
    // The old life's row stays, marked removed (purged after clean_removed_after): after a
    // restart it is still known, so that its copy can be recognised (resolveState prefers the
    // live row of an inode).
    this.states.markRemoved(this.pipeline, old, this.now());
    this.states.upsert(f.state);
  }

  private partialDue(f: TrackedFile): boolean {
    return f.framer.pendingStart() !== undefined && this.now() - f.lastGrowthMs >= this.input.partial_line_timeout;
  }

  private takePartialIfDue(f: TrackedFile, out: LineSink | Line[]): void {
    if (this.partialDue(f)) f.framer.takePartial(out);
  }

  private pathHeldByLiveFile(path: string, except: TrackedFile): boolean {
    for (const f of this.files.values()) if (f !== except && f.state.path === path && !f.detached) return true;
    return false;
  }

  /**
   * Resume from a stored state when identity and fingerprints agree; the key and offset of a
   * truncated life when this is its copy; otherwise a new file life. Undefined: a copy of a live
   * file, to be decided later.
   */
  private resolveState(path: string, fd: number, st: Stats): { state: FileState; reason: OpenReason } | undefined {
    const now = this.now();
    let reason: 'new' | 'reused-inode' | 'changed-while-stopped' = 'new';
    // The live state of this inode decides (the latest, if several); earlier lives ended by
    // truncation are remembered in case their copy shows up.
    const same = [...this.stored.values()]
      .filter((s) => s.dev === st.dev && s.ino === st.ino)
      .sort((a, b) => Number(a.removedAt !== null) - Number(b.removedAt !== null) || b.updatedAt - a.updatedAt);
    for (const s of same) this.stored.delete(s.fileKey);
    const s = same[0];
    for (const o of same.slice(1)) {
      if (o.removedAt === null) this.states.delete(this.pipeline, o.fileKey);
      else this.copies.remember({ key: o.fileKey, headFp: o.headFp, headLen: o.headLen, offset: o.offset, tailFp: o.tailFp });
    }
    if (s) {
      const birth = birthMark(st);
      // The same birth time with other first bytes: the same file, truncated and written again.
      if (!headMatches(fd, st.size, birth, s.headFp, s.headLen)) reason = birth !== '' && s.headFp.endsWith(birth) ? 'changed-while-stopped' : 'reused-inode';
      else if (st.size < s.offset || tailFingerprint(fd, s.offset) !== s.tailFp) reason = 'changed-while-stopped';
      if (reason !== 'new') {
        // Its old content may be found next as a copy (copytruncate while we were stopped); the
        // row stays, marked removed, until then or until clean_removed_after.
        this.copies.remember({ key: s.fileKey, headFp: s.headFp, headLen: s.headLen, offset: s.offset, tailFp: s.tailFp });
        if (s.removedAt === null) this.states.markRemoved(this.pipeline, s.fileKey, now);
      } else return { state: { ...s, path, removedAt: null, updatedAt: now }, reason: 'resumed' };
    }
    if (reason === 'new' || reason === 'reused-inode') {
      // A new file (on a fresh or a reused inode) may be the copy of a truncated one.
      const live = [...this.files.values()].filter((f) => !f.detached).map((f) => ({ headFp: f.state.headFp, headLen: f.state.headLen, fd: f.fd }));
      const verdict = this.copies.judge(path, fd, st.size, live, this.initialScanDone);
      if (verdict?.kind === 'wait') return undefined;
      if (verdict) {
        // A copy continues its life's key from the committed offset; a backup counts as read.
        const offset = verdict.kind === 'copy' ? verdict.offset : st.size;
        const { fp, len } = headFingerprint(fd, st.size);
        return {
          state: {
            pipeline: this.pipeline, fileKey: verdict.kind === 'copy' ? verdict.life.key : newFileKey(st.dev, st.ino), dev: st.dev, ino: st.ino, path,
            headFp: fp + birthMark(st), headLen: len, offset, tailFp: tailFingerprint(fd, offset)!, size: st.size, updatedAt: now, removedAt: null,
          },
          reason: verdict.kind === 'copy' ? 'copy-of-truncated' : 'new',
        };
      }
    }
    const fromEnd =
      reason === 'new' &&
      ((!this.initialScanDone && this.input.start_at === 'end') ||
        (this.input.ignore_older > 0 && now - st.mtimeMs > this.input.ignore_older));
    const offset = fromEnd ? st.size : 0;
    const { fp, len } = headFingerprint(fd, st.size);
    return {
      state: {
        pipeline: this.pipeline, fileKey: newFileKey(st.dev, st.ino), dev: st.dev, ino: st.ino, path, headFp: fp + birthMark(st), headLen: len,
        offset, tailFp: tailFingerprint(fd, offset)!, size: st.size, updatedAt: now, removedAt: null,
      },
      reason,
    };
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
