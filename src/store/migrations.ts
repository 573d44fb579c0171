/**
 * Versioned on-disk schema. Each entry moves `PRAGMA user_version` up by one; a store written
 * by a newer tailship is refused rather than misread. Table names say owner and purpose.
 */
import type Database from 'better-sqlite3';
import { TailshipError } from '../errors.js';

const MIGRATIONS: readonly string[] = [
  // 1: file offsets, the outbound queue (one row per read chunk per output), dead letters.
  `
  CREATE TABLE source_files (
    pipeline    TEXT    NOT NULL,
    file_key    TEXT    NOT NULL,              -- stable identity of one file's life (see source/identity.ts)
    dev         INTEGER NOT NULL,
    ino         INTEGER NOT NULL,
    path        TEXT    NOT NULL,              -- last path the file was seen at
    head_fp     TEXT    NOT NULL,              -- hash of the first head_len bytes
    head_len    INTEGER NOT NULL,
    offset      INTEGER NOT NULL,              -- every byte before it is queued (or dead-lettered)
    tail_fp     TEXT    NOT NULL,              -- hash of the bytes just before offset
    size        INTEGER NOT NULL,              -- size when last read, for lag
    updated_at  INTEGER NOT NULL,
    removed_at  INTEGER,                       -- set when the file is gone from disk
    PRIMARY KEY (pipeline, file_key)
  );
  CREATE INDEX source_files_by_inode ON source_files (pipeline, dev, ino);

  -- AUTOINCREMENT: ids are never reused, even when the queue empties; the emitter's cursor
  -- ("rows after id N are not in flight") depends on it.
  CREATE TABLE out_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline     TEXT    NOT NULL,
    output       TEXT    NOT NULL,
    file_key     TEXT    NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    payload      TEXT    NOT NULL              -- events in the output's wire form, one per line
  );
  CREATE INDEX out_queue_by_output ON out_queue (pipeline, output, id);

  CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline    TEXT    NOT NULL,
    output      TEXT,                          -- NULL for parse and mapping failures
    kind        TEXT    NOT NULL,              -- parse | mapping | delivery
    reason      TEXT    NOT NULL,
    status      INTEGER,                       -- HTTP status for delivery failures
    response    TEXT,                          -- excerpt of the collector's answer
    file        TEXT,
    offset      INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    payload     TEXT    NOT NULL               -- the event (wire form) or the raw line
  );
  CREATE INDEX dead_letters_by_pipeline ON dead_letters (pipeline, output, id);
  `,
  // 2: the largest event of a row, so that rows whose events all fit max_message_bytes can be
  // sent as stored (store/payload.ts). NULL on older rows: those are decoded and checked.
  `ALTER TABLE out_queue ADD COLUMN max_event_bytes INTEGER;`,
  // 3: per file life, lines read and what became of them, added to in each commit (store/line-accounts.ts).
  `
  CREATE TABLE line_accounts (
    pipeline  TEXT    NOT NULL,
    file_key  TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,                -- read | queued | dead_letter_parse | ... (store/line-outcomes.ts)
    path      TEXT    NOT NULL,                -- last path the file was read at
    lines     INTEGER NOT NULL,
    PRIMARY KEY (pipeline, file_key, outcome)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new TailshipError(
      'TAILSHIP_STORE_CORRUPT',
      `state store has schema version ${current}, newer than this tailship understands (${SCHEMA_VERSION}); upgrade tailship or use another state_dir`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
