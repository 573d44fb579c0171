/**
 * Opens better-sqlite3 databases: every database tailship opens goes through `openDatabase`, so
 * that process tuning can see each one (src/tuning/sqlite-node24-retain.ts keeps them alive on
 * Node 24).
 */
import Database from 'better-sqlite3';

let opened: ((db: Database.Database) => void) | undefined;

/** Calls `hook` with every database opened from now on (one hook per process). */
export function onDatabaseOpened(hook: (db: Database.Database) => void): void {
  opened = hook;
}

export function openDatabase(file: string, options: Database.Options): Database.Database {
  const db = new Database(file, options);
  opened?.(db);
  return db;
}
