/**
 * The store's own SQLite connection, for tests that simulate failures with per-connection
 * settings (`query_only`, `max_page_count`) or checkpoint the daemon's WAL. Production code has
 * no access to it: `Store.db` is private, and every query is a store method.
 */
import type Database from 'better-sqlite3';
import type { Store } from '../../src/store/store.js';

export function storeConnection(store: Store): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}
