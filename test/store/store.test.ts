/** The store's transactions and the queue's id order, on a real SQLite file. */
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { Store, STORE_FILE, type FileState, type QueueChunk } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';
import { storeConnection } from '../helpers/store-connection.js';

let tmp: ReturnType<typeof tempDir>;
let store: Store;

beforeEach(() => {
  tmp = tempDir();
  store = new Store(tmp.dir);
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

const chunk = (n: number): QueueChunk => ({ output: 'out', fileKey: 'k', startOffset: n, endOffset: n + 1, eventCount: 1, bytes: 10, payload: `{"n":${n}}` });
const file = (offset: number): FileState => ({
  pipeline: 'p', fileKey: 'k', dev: 1, ino: 2, path: '/x.log', headFp: 'h', headLen: 0, offset, tailFp: 't', size: offset, updatedAt: 0, removedAt: null,
});

describe('Store', () => {
  it('opens a store written by schema 1 and reads its queued rows (max_event_bytes unknown)', () => {
    store.close();
    const dir = tempDir();
    try {
      // Schema 1 as the first release wrote it, with one queued row.
      const v1 = new Database(path.join(dir.dir, STORE_FILE));
      v1.exec(`CREATE TABLE out_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, output TEXT NOT NULL, file_key TEXT NOT NULL,
        start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL, event_count INTEGER NOT NULL, bytes INTEGER NOT NULL, created_at INTEGER NOT NULL, payload TEXT NOT NULL);
        CREATE TABLE source_files (pipeline TEXT NOT NULL, file_key TEXT NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL, head_fp TEXT NOT NULL,
        head_len INTEGER NOT NULL, offset INTEGER NOT NULL, tail_fp TEXT NOT NULL, size INTEGER NOT NULL, updated_at INTEGER NOT NULL, removed_at INTEGER, PRIMARY KEY (pipeline, file_key));
        CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, output TEXT, kind TEXT NOT NULL, reason TEXT NOT NULL, status INTEGER,
        response TEXT, file TEXT, offset INTEGER, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, payload TEXT NOT NULL);
        PRAGMA user_version = 1;`);
      v1.prepare('INSERT INTO out_queue (pipeline, output, file_key, start_offset, end_offset, event_count, bytes, created_at, payload) VALUES (?,?,?,?,?,?,?,?,?)')
        .run('p', 'out', 'k', 0, 20, 2, 20, 1, deflateRawSync('{"a":1}\n{"b":2}'));
      v1.close();
      const upgraded = new Store(dir.dir);
      const [row] = upgraded.queue.next('p', 'out', 0, 10);
      expect(row!.maxEventBytes).toBeUndefined();
      expect(row!.events()).toEqual(['{"a":1}', '{"b":2}']);
      expect(storeConnection(upgraded).pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      upgraded.close();
    } finally {
      dir.cleanup();
    }
  });

  it("a commit that lands after its file was marked removed leaves it removed (a late read of a truncated life)", () => {
    store.files.upsert(file(0));
    store.files.markRemoved('p', 'k', 123);
    store.commit({ pipeline: 'p', file: { ...file(500), path: '/x.log.1' }, chunks: [chunk(1)], deadLetters: [] });
    expect(store.files.forPipeline('p')[0]).toMatchObject({ offset: 500, path: '/x.log.1', removedAt: 123 });
  });

  it('never reuses queue ids, even after the queue was emptied', () => {
    store.commit({ pipeline: 'p', chunks: [chunk(1), chunk(2)], deadLetters: [] });
    const first = store.queue.next('p', 'out', 0, 10);
    store.ack('p', 'out', first);
    expect(store.queue.next('p', 'out', 0, 10)).toEqual([]);
    store.commit({ pipeline: 'p', chunks: [chunk(3)], deadLetters: [] });
    const [row] = store.queue.next('p', 'out', 0, 10);
    // The emitter hands out rows after the last id it sent; a reused id would be skipped forever.
    expect(row!.id).toBeGreaterThan(first[first.length - 1]!.id);
  });

  it('commits events, dead letters and the offset together, or nothing', () => {
    store.commit({ pipeline: 'p', file: file(100), chunks: [chunk(1)], deadLetters: [{ kind: 'parse', reason: 'bad', payload: 'x' }] });
    expect(() =>
      store.commit({
        pipeline: 'p',
        file: file(200),
        chunks: [chunk(2)],
        // A NOT NULL violation inside the transaction: everything must roll back.
        deadLetters: [{ kind: 'parse', reason: null as unknown as string, payload: 'y' }],
      }),
    ).toThrow();
    expect(store.files.forPipeline('p')[0]!.offset).toBe(100);
    expect(store.queue.depth('p', 'out')).toEqual({ rows: 1, events: 1, bytes: 10 });
    expect(store.deadLetters.counts()).toEqual([{ pipeline: 'p', output: null, kind: 'parse', count: 1 }]);
  });

  it('moves rows to dead letters in one transaction', () => {
    store.commit({ pipeline: 'p', chunks: [chunk(1)], deadLetters: [] });
    const rows = store.queue.next('p', 'out', 0, 10);
    store.deadLetterRows('p', 'out', rows, [{ output: 'out', kind: 'delivery', reason: 'HTTP 400', status: 400, payload: rows[0]!.events()[0]! }]);
    expect(store.queue.depth('p', 'out').rows).toBe(0);
    expect(store.deadLetters.list({})[0]).toMatchObject({ kind: 'delivery', status: 400, payload: '{"n":1}' });
  });
});
