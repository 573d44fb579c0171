/**
 * The state store: one SQLite file (WAL) holding file offsets, the outbound queue and dead
 * letters. The rule that gives at-least-once: the events made from a range of bytes and the
 * offset that says those bytes are done are written by `commit()` in ONE transaction, so an
 * offset never runs ahead of the queue. Rows leave the queue only through `ack()` (after a 2xx)
 * or `deadLetterRows()` (with a reason), also each in one transaction.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { DeadLetters, type DeadLetter, type DeadLetterInput } from './dead-letters.js';
import { FileStates, type FileChange, type FileState } from './files.js';
import { LineAccounts, type LineAccount } from './line-accounts.js';
import { migrate } from './migrations.js';
import { openDatabase } from './sqlite.js';
import { Queue, type QueueChunk, type QueueRow } from './queue.js';
import { DiskReserve, isNoSpace, reserveSizeFor } from './reserve.js';
import { TailshipError } from '../errors.js';

export const STORE_FILE = 'tailship.db';

export interface OpenOptions {
  /** Open without writing (for `tailship status` beside a running daemon). */
  readonly readonly?: boolean;
}

/** The WAL is moved into the database past this many pages (1 MiB), and cut back to this size. */
const WAL_PAGES = 256;
const WAL_LIMIT_BYTES = WAL_PAGES * 4096;
/**
 * SQLite's page cache, in KiB (its default is 2,000). The queue is written at its tail and read
 * and deleted at its head, so few pages are ever read twice; a commit holding large dead letters
 * kept many more pages than the default in memory (docs/decisions/0034-heaps-kept-near-their-live-set.md).
 */
const PAGE_CACHE_KIB = 512;
/** How often, at most, a store whose reserve is spent tries to take it back (each try vacuums). */
const RESTORE_EVERY_MS = 250;
/** Pages one step of the vacuum moves: 1 MiB of WAL at most, half the smallest reserve. */
const VACUUM_STEP_PAGES = 256;

/** A commit refused because the disk reserve is spent: reading waits until the queue drains. */
export class StoreFullError extends Error {
  readonly code = 'SQLITE_FULL';
  constructor() {
    super('state store full: the disk reserve is in use until delivered events free room');
  }
}

export interface CommitBatch {
  pipeline: string;
  /** What the tailer decided about files since the commit before (found, truncated, removed), in order. */
  fileChanges?: readonly FileChange[] | undefined;
  /** The state of the file read, once this read is done. */
  file?: FileState | undefined;
  chunks: QueueChunk[];
  deadLetters: DeadLetterInput[];
  /** Lines read and their outcomes, per file life (usually the one `file`). */
  accounts?: readonly LineAccount[];
}

/** Called after each commit/ack with the change in queued rows, bytes and events per output. */
export type QueueListener = (pipeline: string, output: string, rowsDelta: number, bytesDelta: number, eventsDelta: number) => void;

export class Store {
  /** Private: every query is a method of the store or of one of its tables (files, queue, ...). */
  private readonly db: Database.Database;
  readonly files: FileStates;
  readonly queue: Queue;
  readonly deadLetters: DeadLetters;
  readonly lineAccounts: LineAccounts;
  readonly path: string;
  private readonly listeners: QueueListener[] = [];
  /** Room set aside so that acknowledging works on a full disk (reserve.ts); absent read-only. */
  readonly reserve: DiskReserve | undefined;
  private readonly roomListeners: Array<() => void> = [];
  private restoreTriedAt = 0;
  /** A try at taking the reserve back, due when the rate limit allows it. */
  private restoreLater: NodeJS.Timeout | undefined;
  /** The database file's identity when opened: a file removed or replaced under us is noticed. */
  private identity: { dev: number; ino: number } | undefined;
  private readonly dataVersionStmt: Database.Statement;
  private lastDataVersion: unknown;
  private readonly commitTxn: (batch: CommitBatch, now: number) => void;
  private readonly ackTxn: (rows: readonly QueueRow[]) => void;
  private readonly replayTxn: Database.Transaction<(letters: readonly DeadLetter[], now: number) => DeadLetter[]>;
  private readonly deadLetterTxn: (pipeline: string, rows: readonly QueueRow[], letters: DeadLetterInput[], now: number) => void;

  constructor(stateDir: string, options: OpenOptions = {}) {
    this.path = path.join(stateDir, STORE_FILE);
    if (!options.readonly) makePrivateDir(stateDir);
    let db: Database.Database | undefined;
    // Created owner-only whatever the umask (the WAL and shared-memory files SQLite makes later
    // take the database file's mode): the queue holds the events, the dead letters the lines.
    const umask = options.readonly ? undefined : process.umask(0o077);
    try {
      db = this.db = openDatabase(this.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      db.pragma('busy_timeout = 5000');
      if (!options.readonly) {
        this.reserve = new DiskReserve(stateDir, reserveSizeFor(stateDir));
        this.setUpForWriting();
        const st = statSync(this.path);
        this.identity = { dev: st.dev, ino: st.ino };
      }
      if (!options.readonly) for (const f of [this.path, `${this.path}-wal`, `${this.path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    } catch (err) {
      if (db?.open) db.close();
      if (isNoSpace(err)) throw diskFullError(stateDir, err);
      throw err;
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
    this.dataVersionStmt = this.db.prepare('PRAGMA data_version').pluck();
    this.lastDataVersion = this.dataVersionStmt.get();
    this.files = new FileStates(this.db);
    this.queue = new Queue(this.db);
    this.deadLetters = new DeadLetters(this.db);
    this.lineAccounts = new LineAccounts(this.db);

    this.commitTxn = this.db.transaction((batch: CommitBatch, now: number) => {
      for (const c of batch.fileChanges ?? []) this.files.apply(batch.pipeline, c);
      for (const c of batch.chunks) this.queue.insert(batch.pipeline, c, now);
      for (const d of batch.deadLetters) this.deadLetters.insert(batch.pipeline, d, now);
      if (batch.file) this.files.advance(batch.file);
      for (const a of batch.accounts ?? []) this.lineAccounts.add(batch.pipeline, a);
    });
    this.ackTxn = this.db.transaction((rows: readonly QueueRow[]) => {
      for (const r of rows) this.queue.delete(r.id);
    });
    this.replayTxn = this.db.transaction((letters: readonly DeadLetter[], now: number) => {
      const replayed: DeadLetter[] = [];
      for (const d of letters) {
        if (d.kind !== 'delivery' || d.output === null) throw new Error(`dead letter ${d.id} is not a delivery dead letter`);
        // Gone already (a replay or purge beside this one): not queued twice.
        if (!this.deadLetters.delete(d.id)) continue;
        const bytes = Buffer.byteLength(d.payload) + 1;
        this.queue.insert(d.pipeline, { output: d.output, fileKey: d.file ?? '', startOffset: d.offset ?? 0, endOffset: d.offset ?? 0, eventCount: 1, bytes, payload: d.payload }, now);
        replayed.push(d);
      }
      return replayed;
    });
    this.deadLetterTxn = this.db.transaction((pipeline: string, rows: readonly QueueRow[], letters: DeadLetterInput[], now: number) => {
      for (const d of letters) this.deadLetters.insert(pipeline, d, now);
      for (const r of rows) this.queue.delete(r.id);
    });
  }

  /**
   * Journal and vacuum settings, the schema, and the disk reserve. Deleted rows must give their
   * room back to the file system (auto_vacuum = INCREMENTAL) and the WAL must stay small
   * (checkpointed past WAL_PAGES and cut back to WAL_LIMIT_BYTES): the reserve only has to
   * cover moving one small WAL into the database and the deletes after it.
   */
  private setUpForWriting(): void {
    const db = this.db;
    const fresh = (db.pragma('user_version', { simple: true }) as number) === 0;
    // auto_vacuum takes effect on a database without tables, or after a VACUUM (an older store: once).
    if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
      db.pragma('auto_vacuum = INCREMENTAL');
      if (!fresh) db.exec('VACUUM');
    }
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only an OS crash or
    // power loss may roll back the last transactions, and then offsets roll back with them.
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    db.pragma(`wal_autocheckpoint = ${WAL_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    migrate(db);
    this.reserve!.take();
  }

  /**
   * Whether the database file is still the one this store opened. Removed (the state directory
   * cleaned up) or replaced (restored from a backup), every write would go into a file no one
   * will ever open again: the offsets and the queue would be lost at the next start.
   */
  fileProblem(): string | undefined {
    if (!this.identity) return undefined;
    let st;
    try {
      st = statSync(this.path);
    } catch (err) {
      return `state store ${this.path} was removed while tailship was running (${(err as { code?: string }).code})`;
    }
    if (st.dev !== this.identity.dev || st.ino !== this.identity.ino) return `state store ${this.path} was replaced by another file while tailship was running`;
    return undefined;
  }

  /** Called when a spent disk reserve is taken back: held commits can go through now. */
  onRoomRestored(listener: () => void): void {
    this.roomListeners.push(listener);
  }

  /** False while the disk reserve is spent (a full disk): commits are refused until it is back. */
  get hasRoom(): boolean {
    return this.reserve === undefined || this.reserve.held;
  }

  /**
   * Takes a spent reserve back once deliveries have freed room: cuts the WAL, gives the queue's
   * free pages back to the file system until the disk has room for the reserve and half as much
   * again (so that reading does not at once fill the disk again), and writes the reserve.
   */
  private tryRestore(force = false): boolean {
    const reserve = this.reserve;
    if (!reserve || reserve.held) return true;
    const now = Date.now();
    if (!force && now - this.restoreTriedAt < RESTORE_EVERY_MS) {
      // The write that freed the last room may come just after a try, and nothing may follow it:
      // one more try is due when the window ends, or reading would wait for the held commit's
      // retry, up to half a minute later.
      this.restoreLater ??= setTimeout(() => this.restoreWhenDue(), RESTORE_EVERY_MS - (now - this.restoreTriedAt)).unref();
      return false;
    }
    this.restoreTriedAt = now;
    const headroom = reserve.size / 2;
    try {
      // The WAL first: on a full disk it may hold the room the vacuum needs to write. Then the
      // vacuum in steps, each cut from the WAL before the next: it writes every page it moves
      // into the WAL before the file shrinks, and all at once they may not fit where it is full.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      let freePages = this.freelistCount();
      while (freePages > 0 && !reserve.fits(headroom)) {
        this.db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        const left = this.freelistCount();
        if (left >= freePages) break; // nothing more to give back
        freePages = left;
      }
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      return false;
    }
    if (!reserve.take(headroom)) return false;
    for (const l of this.roomListeners) l();
    return true;
  }

  private freelistCount(): number {
    return this.db.pragma('freelist_count', { simple: true }) as number;
  }

  private restoreWhenDue(): void {
    this.restoreLater = undefined;
    if (!this.db.open) return;
    try {
      this.tryRestore();
    } catch {
      // The held commit's own retry tries again, and reports what fails then.
    }
  }

  /**
   * Runs a write that frees room (ack, dead-lettering). On a full disk it spends the reserve,
   * moves the WAL into the database and cuts it, and tries once more; what still fails is
   * the caller's to retry.
   */
  private freeingWrite(write: () => void): void {
    try {
      write();
    } catch (err) {
      if (!isNoSpace(err) || !this.reserve) throw err;
      this.reserve.release();
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // the write below says whether there is room now
      }
      write();
    }
    this.tryRestore();
  }

  /**
   * Puts delivery dead letters back in their output's queue and deletes them, in one write
   * transaction (safe beside a running daemon, which picks the rows up: `changedElsewhere`).
   * Each comes back as a one-event row in its output's wire form. Returns those replayed.
   */
  replayDeadLetters(letters: readonly DeadLetter[], now = Date.now()): DeadLetter[] {
    const replayed = this.replayTxn.immediate(letters, now);
    for (const d of replayed) this.emit(d.pipeline, d.output!, 1, Buffer.byteLength(d.payload) + 1, 1);
    return replayed;
  }

  /**
   * True when another connection (`tailship dead-letter replay|purge`) committed since the last
   * call: SQLite's data_version changes only for other connections' commits.
   */
  changedElsewhere(): boolean {
    const v = this.dataVersionStmt.get();
    const changed = v !== this.lastDataVersion;
    this.lastDataVersion = v;
    return changed;
  }

  onQueueChange(listener: QueueListener): void {
    this.listeners.push(listener);
  }

  /**
   * The tailer's file decisions, events (as per-output chunks), dead letters and the file's new
   * offset, in one transaction: the one way file states are written while tailship runs.
   */
  commit(batch: CommitBatch, now = Date.now()): void {
    if (!this.hasRoom && !this.tryRestore(true)) throw new StoreFullError();
    this.commitTxn(batch, now);
    for (const c of batch.chunks) this.emit(batch.pipeline, c.output, 1, c.bytes, c.eventCount);
  }

  /** Delivered: the rows leave the queue. */
  ack(pipeline: string, output: string, rows: readonly QueueRow[]): void {
    this.freeingWrite(() => this.ackTxn(rows));
    this.emit(pipeline, output, -rows.length, -sumBytes(rows), -sumEvents(rows));
  }

  /** The rows leave the queue and the given dead letters are written, in one transaction. */
  deadLetterRows(pipeline: string, output: string, rows: readonly QueueRow[], letters: DeadLetterInput[], now = Date.now()): void {
    this.freeingWrite(() => this.deadLetterTxn(pipeline, rows, letters, now));
    this.emit(pipeline, output, -rows.length, -sumBytes(rows), -sumEvents(rows));
  }

  /** False once the connection is closed (close(), or a failure at open). */
  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    clearTimeout(this.restoreLater);
    if (this.db.open) this.db.close();
  }

  private emit(pipeline: string, output: string, rows: number, bytes: number, events: number): void {
    for (const l of this.listeners) l(pipeline, output, rows, bytes, events);
  }
}

/** The state directory, owner-only (0700) whatever the umask, when this user owns it. */
function makePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (statSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o700);
  } catch (err) {
    if (isNoSpace(err)) throw diskFullError(dir, err);
    throw err;
  }
}

/** A store that cannot even be opened for lack of room: a clear message, not a stack trace. */
export function diskFullError(stateDir: string, cause: unknown): TailshipError {
  return new TailshipError('TAILSHIP_STORE_FULL', `state directory ${stateDir}: no room left on its file system (${(cause as { code?: string }).code}); free some space and start tailship again`, {}, { cause });
}

function sumBytes(rows: readonly QueueRow[]): number {
  let n = 0;
  for (const r of rows) n += r.bytes;
  return n;
}

function sumEvents(rows: readonly QueueRow[]): number {
  let n = 0;
  for (const r of rows) n += r.eventCount;
  return n;
}

export type { FileState, QueueChunk, QueueRow, DeadLetter, DeadLetterInput };
