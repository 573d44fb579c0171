/** The store's transactions and the queue's id order, on a real SQLite file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store, type FileState, type QueueChunk } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

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
