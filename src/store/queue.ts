/**
 * The outbound queue. A row is a *chunk*: the events one read of one file made for one output,
 * already in that output's wire form, one event per line. SQLite's cost is then per chunk, not
 * per event. Rows are deleted only when every event in them is delivered or dead-lettered.
 */
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type Database from 'better-sqlite3';

/**
 * Payloads at least this long are stored deflated (raw deflate, level 1, as a BLOB; shorter
 * ones as TEXT, and old TEXT rows still read). A 250-event chunk is ~120 KB of JSON and ~8 KB
 * deflated: SQLite then writes (WAL + checkpoint) a fifteenth of the bytes, which cost the
 * main thread more than the compression does (bench/RESULTS.md, attempt 2).
 */
const DEFLATE_FROM_BYTES = 1024;
const DEFLATE_OPTIONS = { level: 1, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

function encodePayload(payload: string): string | Buffer {
  return payload.length >= DEFLATE_FROM_BYTES ? deflateRawSync(payload, DEFLATE_OPTIONS) : payload;
}

function decodePayload(stored: string | Buffer): string {
  return typeof stored === 'string' ? stored : inflateRawSync(stored).toString('utf8');
}

export interface QueueChunk {
  output: string;
  fileKey: string;
  startOffset: number;
  endOffset: number;
  eventCount: number;
  bytes: number;
  /** Events in wire form joined by "\n" (JSON never holds a raw newline). */
  payload: string;
}

/**
 * A queued row. `payload` is read from SQLite on first access (then kept): the emitter looks at
 * many rows' sizes to fill a batch but sends only some, and a row's payload is ~100 KB, so
 * loading it with the metadata cost most of the main thread (bench/RESULTS.md, attempt 1).
 * A row's payload must be read before the row is acked or dead-lettered.
 */
export interface QueueRow extends QueueChunk {
  id: number;
  createdAt: number;
}

export interface QueueDepth {
  rows: number;
  events: number;
  bytes: number;
}

interface Row {
  id: number; output: string; file_key: string; start_offset: number; end_offset: number;
  event_count: number; bytes: number; created_at: number;
}

/** A row whose payload is loaded on first access. */
class LazyRow implements QueueRow {
  readonly id: number;
  readonly output: string;
  readonly fileKey: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly eventCount: number;
  readonly bytes: number;
  readonly createdAt: number;
  private loaded: string | undefined;

  constructor(r: Row, private readonly load: (id: number) => string) {
    this.id = r.id;
    this.output = r.output;
    this.fileKey = r.file_key;
    this.startOffset = r.start_offset;
    this.endOffset = r.end_offset;
    this.eventCount = r.event_count;
    this.bytes = r.bytes;
    this.createdAt = r.created_at;
  }

  get payload(): string {
    this.loaded ??= this.load(this.id);
    return this.loaded;
  }
}

export class Queue {
  private readonly insertStmt: Database.Statement;
  private readonly nextStmt: Database.Statement;
  private readonly payloadStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly depthStmt: Database.Statement;
  private readonly depthAllStmt: Database.Statement;
  private readonly oldestStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(`
      INSERT INTO out_queue (pipeline, output, file_key, start_offset, end_offset, event_count, bytes, created_at, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.nextStmt = db.prepare(
      'SELECT id, output, file_key, start_offset, end_offset, event_count, bytes, created_at FROM out_queue WHERE pipeline = ? AND output = ? AND id > ? ORDER BY id LIMIT ?',
    );
    this.payloadStmt = db.prepare('SELECT payload FROM out_queue WHERE id = ?').pluck();
    this.deleteStmt = db.prepare('DELETE FROM out_queue WHERE id = ?');
    this.depthStmt = db.prepare(
      'SELECT COUNT(*) AS rows, COALESCE(SUM(event_count), 0) AS events, COALESCE(SUM(bytes), 0) AS bytes FROM out_queue WHERE pipeline = ? AND output = ?',
    );
    this.depthAllStmt = db.prepare(
      'SELECT pipeline, output, COUNT(*) AS rows, COALESCE(SUM(event_count), 0) AS events, COALESCE(SUM(bytes), 0) AS bytes, MIN(created_at) AS oldest FROM out_queue GROUP BY pipeline, output',
    );
    this.oldestStmt = db.prepare('SELECT MIN(created_at) AS oldest FROM out_queue WHERE pipeline = ? AND output = ?');
  }

  insert(pipeline: string, chunk: QueueChunk, now: number): void {
    this.insertStmt.run(pipeline, chunk.output, chunk.fileKey, chunk.startOffset, chunk.endOffset, chunk.eventCount, chunk.bytes, now, encodePayload(chunk.payload));
  }

  /** Rows of one output after `afterId`, oldest first; payloads load on first access. */
  next(pipeline: string, output: string, afterId: number, limit: number): QueueRow[] {
    return (this.nextStmt.all(pipeline, output, afterId, limit) as Row[]).map((r) => new LazyRow(r, this.loadPayload));
  }

  private readonly loadPayload = (id: number): string => {
    const p = this.payloadStmt.get(id) as string | Buffer | undefined;
    if (p === undefined) throw new Error(`queue row ${id} is gone (its payload was read after it was acked)`);
    return decodePayload(p);
  };

  delete(id: number): void {
    this.deleteStmt.run(id);
  }

  depth(pipeline: string, output: string): QueueDepth {
    return this.depthStmt.get(pipeline, output) as QueueDepth;
  }

  depthByOutput(): Array<QueueDepth & { pipeline: string; output: string; oldest: number | null }> {
    return this.depthAllStmt.all() as Array<QueueDepth & { pipeline: string; output: string; oldest: number | null }>;
  }

  oldest(pipeline: string, output: string): number | null {
    return (this.oldestStmt.get(pipeline, output) as { oldest: number | null }).oldest;
  }
}
