/**
 * The outbound queue. A row is a *chunk*: the events one read of one file made for one output,
 * already in that output's wire form, one event per line. SQLite's cost is then per chunk, not
 * per event. Rows are deleted only when every event in them is delivered or dead-lettered.
 */
import type Database from 'better-sqlite3';

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
  event_count: number; bytes: number; created_at: number; payload: string;
}

export class Queue {
  private readonly insertStmt: Database.Statement;
  private readonly nextStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly depthStmt: Database.Statement;
  private readonly depthAllStmt: Database.Statement;
  private readonly oldestStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(`
      INSERT INTO out_queue (pipeline, output, file_key, start_offset, end_offset, event_count, bytes, created_at, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.nextStmt = db.prepare('SELECT * FROM out_queue WHERE pipeline = ? AND output = ? AND id > ? ORDER BY id LIMIT ?');
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
    this.insertStmt.run(pipeline, chunk.output, chunk.fileKey, chunk.startOffset, chunk.endOffset, chunk.eventCount, chunk.bytes, now, chunk.payload);
  }

  /** Rows of one output after `afterId`, oldest first. */
  next(pipeline: string, output: string, afterId: number, limit: number): QueueRow[] {
    return (this.nextStmt.all(pipeline, output, afterId, limit) as Row[]).map((r) => ({
      id: r.id, output: r.output, fileKey: r.file_key, startOffset: r.start_offset, endOffset: r.end_offset,
      eventCount: r.event_count, bytes: r.bytes, createdAt: r.created_at, payload: r.payload,
    }));
  }

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
