/**
 * The state store: one SQLite file (WAL) holding file offsets, the outbound queue and dead
 * letters. The rule that gives at-least-once: the events made from a range of bytes and the
 * offset that says those bytes are done are written by `commit()` in ONE transaction, so an
 * offset never runs ahead of the queue. Rows leave the queue only through `ack()` (after a 2xx)
 * or `deadLetterRows()` (with a reason), also each in one transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { DeadLetters, type DeadLetter, type DeadLetterInput } from './dead-letters.js';
import { FileStates, type FileState } from './files.js';
import { migrate } from './migrations.js';
import { openDatabase } from './sqlite.js';
import { Queue, type QueueChunk, type QueueRow } from './queue.js';

export const STORE_FILE = 'tailship.db';

export interface OpenOptions {
  /** Open without writing (for `tailship status` beside a running daemon). */
  readonly readonly?: boolean;
}

export interface CommitBatch {
  pipeline: string;
  file?: FileState;
  chunks: QueueChunk[];
  deadLetters: DeadLetterInput[];
}

/** Called after each commit/ack with the change in queued rows, bytes and events per output. */
export type QueueListener = (pipeline: string, output: string, rowsDelta: number, bytesDelta: number, eventsDelta: number) => void;

export class Store {
  readonly db: Database.Database;
  readonly files: FileStates;
  readonly queue: Queue;
  readonly deadLetters: DeadLetters;
  readonly path: string;
  private readonly listeners: QueueListener[] = [];
  private readonly dataVersionStmt: Database.Statement;
  private lastDataVersion: unknown;
  private readonly commitTxn: (batch: CommitBatch, now: number) => void;
  private readonly ackTxn: (rows: readonly QueueRow[]) => void;
  private readonly replayTxn: Database.Transaction<(letters: readonly DeadLetter[], now: number) => DeadLetter[]>;
  private readonly deadLetterTxn: (pipeline: string, rows: readonly QueueRow[], letters: DeadLetterInput[], now: number) => void;

  constructor(stateDir: string, options: OpenOptions = {}) {
    this.path = path.join(stateDir, STORE_FILE);
    if (!options.readonly) mkdirSync(stateDir, { recursive: true });
    this.db = openDatabase(this.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only an OS crash or
      // power loss may roll back the last transactions, and then offsets roll back with them.
      this.db.pragma('synchronous = NORMAL');
      migrate(this.db);
    }
    this.dataVersionStmt = this.db.prepare('PRAGMA data_version').pluck();
    this.lastDataVersion = this.dataVersionStmt.get();
    this.files = new FileStates(this.db);
    this.queue = new Queue(this.db);
    this.deadLetters = new DeadLetters(this.db);

    this.commitTxn = this.db.transaction((batch: CommitBatch, now: number) => {
      for (const c of batch.chunks) this.queue.insert(batch.pipeline, c, now);
      for (const d of batch.deadLetters) this.deadLetters.insert(batch.pipeline, d, now);
      if (batch.file) this.files.advance(batch.file);
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

  /** Events (as per-output chunks), dead letters and the file's new offset, in one transaction. */
  commit(batch: CommitBatch, now = Date.now()): void {
    this.commitTxn(batch, now);
    for (const c of batch.chunks) this.emit(batch.pipeline, c.output, 1, c.bytes, c.eventCount);
  }

  /** Delivered: the rows leave the queue. */
  ack(pipeline: string, output: string, rows: readonly QueueRow[]): void {
    this.ackTxn(rows);
    this.emit(pipeline, output, -rows.length, -sumBytes(rows), -sumEvents(rows));
  }

  /** The rows leave the queue and the given dead letters are written, in one transaction. */
  deadLetterRows(pipeline: string, output: string, rows: readonly QueueRow[], letters: DeadLetterInput[], now = Date.now()): void {
    this.deadLetterTxn(pipeline, rows, letters, now);
    this.emit(pipeline, output, -rows.length, -sumBytes(rows), -sumEvents(rows));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private emit(pipeline: string, output: string, rows: number, bytes: number, events: number): void {
    for (const l of this.listeners) l(pipeline, output, rows, bytes, events);
  }
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
