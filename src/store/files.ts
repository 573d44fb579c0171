/** Per-file read state: identity, fingerprints and the committed offset. */
import type Database from 'better-sqlite3';

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

/**
 * What the tailer decided about a file, written by the commit that carries it (Store.commit),
 * before that commit's read, in the order decided.
 */
export type FileChange =
  /** Found, resumed, or a new life after a truncation: the whole state. */
  | { readonly kind: 'tracked'; readonly state: FileState }
  /** Deleted, or a life ended by a truncation: kept (for its copy) until clean_removed_after. */
  | { readonly kind: 'removed'; readonly fileKey: string; readonly at: number }
  /** A stale row of an inode that has a newer live one. */
  | { readonly kind: 'forgotten'; readonly fileKey: string }
  /** A provisional key settled once the life's first line was fixed (source/identity.ts). */
  | { readonly kind: 'rekeyed'; readonly from: string; readonly to: string }
  /** Files removed before `before` (ms) are forgotten. */
  | { readonly kind: 'purged'; readonly before: number };

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
  private readonly rekeyStmt: Database.Statement;
  private readonly purgeRemovedStmt: Database.Statement;
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
    this.rekeyStmt = db.prepare('UPDATE source_files SET file_key = ? WHERE pipeline = ? AND file_key = ?');
    this.purgeRemovedStmt = db.prepare('DELETE FROM source_files WHERE pipeline = ? AND removed_at IS NOT NULL AND removed_at < ?');
  }

  upsert(state: FileState): void {
    this.upsertStmt.run(state);
  }

  /** Inside a commit's transaction (Store.commit). */
  apply(pipeline: string, change: FileChange): void {
    switch (change.kind) {
      case 'tracked':
        return this.upsert(change.state);
      case 'removed':
        return this.markRemoved(pipeline, change.fileKey, change.at);
      case 'forgotten':
        return this.delete(pipeline, change.fileKey);
      case 'rekeyed':
        this.rekeyStmt.run(change.to, pipeline, change.from);
        return;
      case 'purged':
        this.purgeRemoved(pipeline, change.before);
    }
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
    this.deleteStmt.run(pipeline, fileKey);
  }

  markRemoved(pipeline: string, fileKey: string, at: number): void {
    this.markRemovedStmt.run(at, pipeline, fileKey);
  }

  /** Forgets files deleted from disk before `before` (ms); returns how many. */
  purgeRemoved(pipeline: string, before: number): number {
    return this.purgeRemovedStmt.run(pipeline, before).changes;
  }
}
