/** Per-file read state: identity, fingerprints and the committed offset. */
import type Database from 'better-sqlite3';
import { isTransientStoreError } from './transient.js';

export interface FileState {
  pipeline: string;
  fileKey: string;
  dev: number;
  ino: number;
  path: string;
  headFp: string;
  headLen: number;
  offset: number;
  tailFp: string;
  size: number;
  updatedAt: number;
  removedAt: number | null;
}

interface Row {
  pipeline: string; file_key: string; dev: number; ino: number; path: string; head_fp: string; head_len: number;
  offset: number; tail_fp: string; size: number; updated_at: number; removed_at: number | null;
}

const fromRow = (r: Row): FileState => ({
  pipeline: r.pipeline, fileKey: r.file_key, dev: r.dev, ino: r.ino, path: r.path, headFp: r.head_fp, headLen: r.head_len,
  offset: r.offset, tailFp: r.tail_fp, size: r.size, updatedAt: r.updated_at, removedAt: r.removed_at,
});

export class FileStates {
  private readonly upsertStmt: Database.Statement;
  private readonly advanceStmt: Database.Statement;
  private readonly byPipelineStmt: Database.Statement;
  private readonly allStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly markRemovedStmt: Database.Statement;
  private readonly purgeRemovedStmt: Database.Statement;
  /**
   * Writes made outside a commit (a file found, truncated, deleted) that the store refused for
   * now (disk full): kept in order and written first by the next commit (Store.commit), so a
   * full disk never stops the tailer and the commit that depends on them carries them.
   */
  private deferred: Array<() => void> = [];

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO source_files (pipeline, file_key, dev, ino, path, head_fp, head_len, offset, tail_fp, size, updated_at, removed_at)
      VALUES (@pipeline, @fileKey, @dev, @ino, @path, @headFp, @headLen, @offset, @tailFp, @size, @updatedAt, @removedAt)
      ON CONFLICT (pipeline, file_key) DO UPDATE SET
        dev = excluded.dev, ino = excluded.ino, path = excluded.path, head_fp = excluded.head_fp, head_len = excluded.head_len,
        offset = excluded.offset, tail_fp = excluded.tail_fp, size = excluded.size, updated_at = excluded.updated_at,
        removed_at = excluded.removed_at`);
    // A commit's file state: it may land after the file was marked removed (truncated or
    // deleted while its last reads were being processed), and must not bring the row back.
    this.advanceStmt = db.prepare(`
      INSERT INTO source_files (pipeline, file_key, dev, ino, path, head_fp, head_len, offset, tail_fp, size, updated_at, removed_at)
      VALUES (@pipeline, @fileKey, @dev, @ino, @path, @headFp, @headLen, @offset, @tailFp, @size, @updatedAt, @removedAt)
      ON CONFLICT (pipeline, file_key) DO UPDATE SET
        path = excluded.path, head_fp = excluded.head_fp, head_len = excluded.head_len, offset = excluded.offset, tail_fp = excluded.tail_fp,
        size = excluded.size, updated_at = excluded.updated_at`);
    this.byPipelineStmt = db.prepare('SELECT * FROM source_files WHERE pipeline = ?');
    this.allStmt = db.prepare('SELECT * FROM source_files ORDER BY pipeline, path');
    this.deleteStmt = db.prepare('DELETE FROM source_files WHERE pipeline = ? AND file_key = ?');
    this.markRemovedStmt = db.prepare('UPDATE source_files SET removed_at = ? WHERE pipeline = ? AND file_key = ? AND removed_at IS NULL');
    this.purgeRemovedStmt = db.prepare('DELETE FROM source_files WHERE pipeline = ? AND removed_at IS NOT NULL AND removed_at < ?');
  }

  upsert(state: FileState): void {
    this.write(() => this.upsertStmt.run(state));
  }

  /** Records a committed offset, fingerprints and path, without touching identity or removal. */
  advance(state: FileState): void {
    this.advanceStmt.run(state);
  }

  forPipeline(pipeline: string): FileState[] {
    return (this.byPipelineStmt.all(pipeline) as Row[]).map(fromRow);
  }

  all(): FileState[] {
    return (this.allStmt.all() as Row[]).map(fromRow);
  }

  delete(pipeline: string, fileKey: string): void {
    this.write(() => this.deleteStmt.run(pipeline, fileKey));
  }

  markRemoved(pipeline: string, fileKey: string, at: number): void {
    this.write(() => this.markRemovedStmt.run(at, pipeline, fileKey));
  }

  /** Forgets files deleted from disk before `before` (ms); returns how many (0 when deferred). */
  purgeRemoved(pipeline: string, before: number): number {
    let n = 0;
    this.write(() => (n = this.purgeRemovedStmt.run(pipeline, before).changes));
    return n;
  }

  /** How many refused writes wait for the next commit. */
  get deferredCount(): number {
    return this.deferred.length;
  }

  /** Inside the commit's transaction: the first `count` refused writes, in order. */
  replayDeferred(count: number): void {
    for (let i = 0; i < count; i++) this.deferred[i]!();
  }

  /** After the commit went through: those writes are in the store. */
  dropDeferred(count: number): void {
    this.deferred.splice(0, count);
  }

  private write(run: () => void): void {
    if (this.deferred.length > 0) {
      this.deferred.push(run); // after the ones waiting: order matters (delete, then upsert)
      return;
    }
    try {
      run();
    } catch (err) {
      if (!isTransientStoreError(err)) throw err;
      this.deferred.push(run);
    }
  }
}
