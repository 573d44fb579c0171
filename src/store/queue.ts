/**
 * The outbound queue. A row is a *chunk*: the events one read of one file made for one output,
 * already in that output's wire form, one event per line. SQLite's cost is then per chunk, not
 * per event. Rows are deleted only when every event in them is delivered or dead-lettered.
 */
import type Database from 'better-sqlite3';
import { unpackEvents } from './payload.js';

export interface QueueChunk {
  output: string;
  fileKey: string;
  startOffset: number;
  endOffset: number;
  eventCount: number;
  /** UTF-8 bytes of the events, each with its separator and newline: what they add to a request. */
  bytes: number;
  /** Size of the largest event; undefined on rows written before it was recorded. */
  maxEventBytes?: number | undefined;
  /** The stored form (store/payload.ts): a gzip member, or the text of one event (replays). */
  payload: Uint8Array | string;
}

/**
 * A queued row. `payload` is read from SQLite on first access (then kept): the emitter looks at
 * many rows' sizes to fill a batch but sends only some, and reading every payload with the
 * metadata would cost most of the main thread. `events()` decodes it.
 * A row's payload must be read before the row is acked or dead-lettered.
 */
export interface QueueRow extends QueueChunk {
  id: number;
  createdAt: number;
  /** The events, decoded from the stored form. */
  events(): string[];
}

export interface QueueDepth {
  rows: number;
  events: number;
  bytes: number;
}

interface Row {
  id: number; output: string; file_key: string; start_offset: number; end_offset: number;
  event_count: number; bytes: number; max_event_bytes: number | null; created_at: number;
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
  readonly maxEventBytes: number | undefined;
  readonly createdAt: number;
  private loaded: Uint8Array | string | undefined;

  constructor(r: Row, private readonly load: (id: number) => Uint8Array | string) {
    this.id = r.id;
    this.output = r.output;
    this.fileKey = r.file_key;
    this.startOffset = r.start_offset;
    this.endOffset = r.end_offset;
    this.eventCount = r.event_count;
    this.bytes = r.bytes;
    this.maxEventBytes = r.max_event_bytes ?? undefined;
    this.createdAt = r.created_at;
  }

  get payload(): Uint8Array | string {
    this.loaded ??= this.load(this.id);
    return this.loaded;
  }

  events(): string[] {
    return unpackEvents(this.payload);
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
      INSERT INTO out_queue (pipeline, output, file_key, start_offset, end_offset, event_count, bytes, max_event_bytes, created_at, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.nextStmt = db.prepare(
      'SELECT id, output, file_key, start_offset, end_offset, event_count, bytes, max_event_bytes, created_at FROM out_queue WHERE pipeline = ? AND output = ? AND id > ? ORDER BY id LIMIT ?',
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
    this.insertStmt.run(pipeline, chunk.output, chunk.fileKey, chunk.startOffset, chunk.endOffset, chunk.eventCount, chunk.bytes, chunk.maxEventBytes ?? null, now, chunk.payload);
  }

  /** Rows of one output after `afterId`, oldest first; payloads load on first access. */
  next(pipeline: string, output: string, afterId: number, limit: number): QueueRow[] {
    return (this.nextStmt.all(pipeline, output, afterId, limit) as Row[]).map((r) => new LazyRow(r, this.loadPayload));
  }

  private readonly loadPayload = (id: number): Uint8Array | string => {
    const p = this.payloadStmt.get(id) as string | Buffer | undefined;
    if (p === undefined) throw new Error(`queue row ${id} is gone (its payload was read after it was acked)`);
    return p;
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
