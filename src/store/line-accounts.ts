/**
 * The stored accounting of lines per file life: lines read and what became of them
 * (line-outcomes.ts). Added to in the commit that queues the lines' events and moves
 * the file's offset, so that after any crash the stored totals still close:
 * lines read = sum of outcomes, for every file.
 */
import type Database from 'better-sqlite3';
import { LINE_OUTCOMES, OUTCOME_LABELS, emptyOutcomes, type LineOutcome, type LineOutcomes } from './line-outcomes.js';

/** What one commit adds to one file life's accounting. */
export interface LineAccount {
  readonly fileKey: string;
  readonly path: string;
  readonly read: number;
  readonly outcomes: Readonly<LineOutcomes>;
}

export interface FileAccount {
  pipeline: string;
  fileKey: string;
  path: string;
  read: number;
  outcomes: LineOutcomes;
}

const READ = 'read';
const byLabel = new Map<string, LineOutcome>(LINE_OUTCOMES.map((k) => [OUTCOME_LABELS[k], k]));

export class LineAccounts {
  private readonly addStmt: Database.Statement | undefined;
  private readonly allStmt: Database.Statement | undefined;
  private readonly purgeStmt: Database.Statement | undefined;

  constructor(db: Database.Database) {
    // A store opened read-only (`tailship status`) may predate the table: it then has no accounts.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'line_accounts'").get()) return;
    this.addStmt = db.prepare(`
      INSERT INTO line_accounts (pipeline, file_key, outcome, path, lines) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (pipeline, file_key, outcome) DO UPDATE SET lines = lines + excluded.lines, path = excluded.path`);
    this.allStmt = db.prepare('SELECT pipeline, file_key, outcome, path, lines FROM line_accounts ORDER BY pipeline, path, file_key');
    this.purgeStmt = db.prepare('DELETE FROM line_accounts WHERE pipeline = ? AND file_key NOT IN (SELECT file_key FROM source_files WHERE pipeline = ?)');
  }

  /** Inside the caller's transaction. Zero terms write nothing. */
  add(pipeline: string, a: LineAccount): void {
    if (!this.addStmt) throw new Error('line_accounts table missing: the store was not migrated');
    if (a.read) this.addStmt.run(pipeline, a.fileKey, READ, a.path, a.read);
    for (const k of LINE_OUTCOMES) if (a.outcomes[k]) this.addStmt.run(pipeline, a.fileKey, OUTCOME_LABELS[k], a.path, a.outcomes[k]);
  }

  all(): FileAccount[] {
    const out = new Map<string, FileAccount>();
    for (const r of (this.allStmt?.all() ?? []) as Array<{ pipeline: string; file_key: string; outcome: string; path: string; lines: number }>) {
      const id = `${r.pipeline}\0${r.file_key}`;
      let a = out.get(id);
      if (!a) out.set(id, (a = { pipeline: r.pipeline, fileKey: r.file_key, path: r.path, read: 0, outcomes: emptyOutcomes() }));
      if (r.outcome === READ) a.read += r.lines;
      else {
        const k = byLabel.get(r.outcome);
        if (k) a.outcomes[k] += r.lines;
      }
    }
    return [...out.values()];
  }

  /** Forgets the accounts of file lives the store no longer knows (purged with their state). */
  purgeForgotten(pipeline: string): number {
    return this.purgeStmt?.run(pipeline, pipeline).changes ?? 0;
  }
}
