/**
 * Tailer: the files of one input, read from their offsets by identity (not by path). Follows
 * appends; when the path moves to a new file (rename rotation) the old file is read to its end
 * before it is closed; detects truncation (size below the read offset, or the bytes just before
 * the read offset changed: copytruncate, `> file`) and starts again at 0 under a new file key;
 * reads a bounded number of bytes per file per turn so that one busy file cannot starve the
 * others; keeps at most max_open_files handles (the least recently active are closed and
 * reopened at their offset when a stat of their path shows growth); recognises the copy of a
 * truncated file (copytruncate's `.1` inside the globs) by content and reads it from where the
 * original was, under the original's key (docs/file-lifecycle.md). Each file is read by its
 * FileReader (reader.ts). The tailer never writes the store: its decisions (a file found, a new
 * life, a file removed) travel with the reads, as values the runner commits in read order.
 */
import { closeSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import type { InputConfig } from '../config/schema.js';
import type { FileChange, FileState } from '../store/files.js';
import { Copies } from './copies.js';
import { birthMark, headFingerprint, headMatches, lifeKey, provisionalFileKey, tailFingerprint } from './identity.js';
import type { LineBatch } from './line-batch.js';
import type { LineJoiner } from './line.js';
import { FileReader } from './reader.js';

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
  readError(path: string, err: unknown): void;
}

/** Lines held back (an unfinished line, open groups) and dropped because their file was truncated. */
export interface DroppedLines {
  readonly path: string;
  readonly fileKey: string;
  readonly lines: number;
}

/** What the tailer decided since it was last asked, in order: committed before anything read after. */
export interface SourceChanges {
  readonly files: FileChange[];
  readonly dropped: DroppedLines[];
}

/** One read of one file, as the runner commits it. */
export interface Read {
  readonly path: string;
  /** The file life the lines were read from (their messageIds derive from it). */
  readonly fileKey: string;
  /** Bytes consumed: 0 at the end of the file. */
  readonly bytes: number;
  readonly lines: LineBatch | undefined;
  /** The file's state once this read is committed; undefined when it did not move. */
  readonly state: FileState | undefined;
  /** The tailer's decisions up to this read (undefined: none), to be committed before `state`. */
  readonly changes: SourceChanges | undefined;
}

export class Tailer {
  private readonly files = new Map<string, FileReader>();
  private readonly copies: Copies;
  /** States from the store (or of closed rotated files) not tracked now: resumed when their file is found. */
  private readonly stored = new Map<string, FileState>();
  /** Files present at start-up honour start_at; files that appear later are read from their start. */
  private initialScanDone = false;
  private openHandles = 0;
  private lastPurgeMs = 0;
  private changes: FileChange[] = [];
  private dropped: DroppedLines[] = [];

  /** `stored`: the pipeline's file states in the store when it starts. */
  constructor(
    private readonly pipeline: string,
    private readonly input: InputConfig,
    stored: readonly FileState[],
    private readonly events: SourceEvents,
    private readonly now: () => number = Date.now,
    private readonly newJoiner?: (() => LineJoiner) | undefined,
  ) {
    for (const s of stored) this.stored.set(s.fileKey, s);
    this.copies = new Copies(now);
  }

  tracked(): FileReader[] {
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
      this.changes.push({ kind: 'removed', fileKey: s.fileKey, at: now });
      s.removedAt = now;
    }
    this.purge(now);
  }

  /** The decisions taken since the last call (or the last read), to be committed next; undefined: none. */
  takeChanges(): SourceChanges | undefined {
    if (this.changes.length === 0 && this.dropped.length === 0) return undefined;
    const taken = { files: this.changes, dropped: this.dropped };
    this.changes = [];
    this.dropped = [];
    return taken;
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
    this.changes.push({ kind: 'tracked', state });
    this.stored.delete(state.fileKey);
    const limits = { maxLineBytes: this.input.max_line_bytes, maxReadBytes: this.input.max_read_bytes, partialLineTimeoutMs: this.input.partial_line_timeout };
    const f = new FileReader(state, fd, birthMark(st), limits, this.newJoiner, this.now(), this.keyTaken);
    f.birthtimeMs = st.birthtimeMs;
    this.files.set(state.fileKey, f);
    this.events.fileOpened(path, state.offset, reason);
  }

  /**
   * Reads the next bytes of a file into `buf` (reused for every file): its completed lines, its
   * state after them, and the decisions taken since the last read. A file found rewritten is
   * started again at 0 under a new key (nothing is read from it this turn).
   */
  read(f: FileReader, buf: Buffer): Read {
    const path = f.path;
    const before = f.key;
    const r = f.read(buf, this.now());
    // A provisional key settled by this read is the key of its lines.
    const fileKey = f.key;
    if (fileKey !== before) this.rekeyed(f, before);
    if (r.error !== undefined) this.events.readError(path, r.error);
    if (r.rewritten) this.restartAtZero(f);
    for (let i = 0; i < r.cutLines; i++) this.events.lineTruncated(path);
    return { path, fileKey, bytes: r.bytes, lines: r.lines, state: r.state, changes: this.takeChanges() };
  }

  /** At the end of a --once run: everything held back (partial lines, open groups) as lines. */
  flush(f: FileReader): Read {
    const before = f.key;
    const r = f.flush(this.now());
    if (f.key !== before) this.rekeyed(f, before);
    return { path: f.path, fileKey: f.key, bytes: 0, lines: r.lines, state: r.state, changes: this.takeChanges() };
  }

  /**
   * At end of file: notices truncation, rotation and deletion. Returns paths that now need a
   * fresh look (the path of a rotated file may already hold its successor).
   */
  check(f: FileReader): string[] {
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
      if (quietMs >= waitMs && !f.holdsPartialLine) {
        this.close(f, f.deleted ? 'deleted' : 'rotated');
      }
    } else if (!f.detached && f.atEof && this.now() - f.lastGrowthMs >= this.input.close_inactive && !f.holdsPartialLine) {
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
    const waiting: FileReader[] = [];
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
      if (here.size !== f.readOffset || here.size !== f.sizeAtClose || f.partialDue(now)) waiting.push(f);
    }
    // Longest waiting first; only idle (at end of file) handles make room, so that files being
    // read are not swapped out before they catch up (no thrashing when all files are busy).
    waiting.sort((a, b) => a.lastActiveMs - b.lastActiveMs);
    for (const f of waiting) {
      if (!this.makeRoom(true)) break;
      this.reopen(f);
    }
    revisit.push(...this.copies.waitingPaths());
    if (now - this.lastPurgeMs >= Math.min(this.input.clean_removed_after, 60_000)) this.purge(now);
    return revisit;
  }

  /** Whether a derived key already names a life this tailer knows (tracked, stored or remembered for its copy). */
  private readonly keyTaken = (key: string): boolean => this.files.has(key) || this.stored.has(key) || this.copies.knows(key);

  /** The key of a new life of the file open as `fd`: provisional until its first line is fixed. */
  private newLifeKey(fd: number, st: { dev: number; ino: number; birthtimeMs: number; size: number }): string {
    return lifeKey(fd, st, st.size, false, this.keyTaken) ?? provisionalFileKey(st.dev, st.ino);
  }

  /** A read settled the file's provisional key: its stored row is renamed with the read's commit. */
  private rekeyed(f: FileReader, from: string): void {
    this.files.delete(from);
    this.files.set(f.key, f);
    this.changes.push({ kind: 'rekeyed', from, to: f.key });
  }

  /** Forgets files removed longer than clean_removed_after ago. */
  private purge(now: number): void {
    this.lastPurgeMs = now;
    const before = now - this.input.clean_removed_after;
    this.changes.push({ kind: 'purged', before });
    for (const [k, s] of this.stored) if (s.removedAt !== null && s.removedAt < before) this.stored.delete(k);
  }

  /** Stops tracking a file (rotated away and drained, or deleted). */
  close(f: FileReader, reason: 'rotated' | 'deleted'): void {
    this.release(f);
    this.files.delete(f.key);
    if (reason === 'deleted') this.changes.push({ kind: 'removed', fileKey: f.key, at: this.now() });
    // A rotated file may match the globs under its new name: found again, it resumes here.
    else this.stored.set(f.key, f.state);
    this.events.fileClosed(f.path, reason);
  }

  closeAll(): void {
    for (const f of this.files.values()) this.release(f);
    this.files.clear();
  }

  /** Closes the handle but keeps the file tracked; maintain() reopens it when it changes. */
  private closeHandle(f: FileReader, reason: 'inactive' | 'budget', size: number): void {
    this.release(f);
    f.sizeAtClose = size;
    this.events.fileClosed(f.path, reason);
  }

  private release(f: FileReader): void {
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
      let victim: FileReader | undefined;
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
  private reopen(f: FileReader): void {
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
      f.birthtimeMs = st.birthtimeMs;
      this.restartAtZero(f);
      return;
    }
    this.events.fileReopened?.(f.path, f.readOffset);
  }

  /** Truncated in place (copytruncate, `> file`) or rewritten: new content from 0 under a new key. */
  private restartAtZero(f: FileReader): void {
    const fd = f.fd!;
    this.events.fileTruncated(f.path);
    let size = 0;
    try {
      size = fstatSync(fd).size;
    } catch {
      // treated as empty
    }
    this.copies.remember({ key: f.key, headFp: f.state.headFp, headLen: f.state.headLen, offset: f.state.offset, tailFp: f.state.tailFp });
    const { fp, len } = headFingerprint(fd, size);
    const old = f.key;
    const path = f.path;
    const fileKey = this.newLifeKey(fd, { dev: f.state.dev, ino: f.state.ino, birthtimeMs: f.birthtimeMs, size });
    const dropped = f.restart({ ...f.state, fileKey, offset: 0, headFp: fp + f.birth, headLen: len, tailFp: tailFingerprint(fd, 0)!, size, updatedAt: this.now() });
    if (dropped > 0) this.dropped.push({ path, fileKey: old, lines: dropped });
    this.files.delete(old);
    this.files.set(f.key, f);
    // The old life's row stays, marked removed (purged after clean_removed_after): after a
    // restart it is still known, so that its copy can be recognised (resolveState prefers the
    // live row of an inode).
    this.changes.push({ kind: 'removed', fileKey: old, at: this.now() }, { kind: 'tracked', state: f.state });
  }

  private pathHeldByLiveFile(path: string, except: FileReader): boolean {
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
      if (o.removedAt === null) this.changes.push({ kind: 'forgotten', fileKey: o.fileKey });
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
        if (s.removedAt === null) this.changes.push({ kind: 'removed', fileKey: s.fileKey, at: now });
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
            pipeline: this.pipeline, fileKey: verdict.kind === 'copy' ? verdict.life.key : this.newLifeKey(fd, st), dev: st.dev, ino: st.ino, path,
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
        pipeline: this.pipeline, fileKey: this.newLifeKey(fd, st), dev: st.dev, ino: st.ino, path, headFp: fp + birthMark(st), headLen: len,
        offset, tailFp: tailFingerprint(fd, offset)!, size: st.size, updatedAt: now, removedAt: null,
      },
      reason,
    };
  }
}
