/**
 * Requests made of spliced rows without compressing: what any gzip reader (zlib's gunzip checks
 * the CRC and the length) reads is the head, every message stamped with the attempt's time, the
 * tail; rows that are not spliced for the stamp are left to the decompressing path.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isoTimeStamp, stampedRows } from '../../src/emit/send-stamp.js';
import { splicedGzip } from '../../src/emit/spliced-gzip.js';
import { packEvents, RowBytes } from '../../src/store/payload.js';

const SENT_AT = isoTimeStamp('sentAt');
const HEAD = Buffer.from('{"batch":[');
const BETWEEN = Buffer.from(',\n');
const TAIL = Buffer.from('],"sentAt":"2026-12-05T10:00:00.000Z"}');
const AT = Date.parse('2026-12-05T10:00:00.000Z');

function rows(batches: string[][], spliced = true, stamp = SENT_AT): Buffer[] {
  const row = new RowBytes(',', 1024, Infinity, { spliced, slot: stamp });
  return batches.map((b) => {
    for (const e of b) row.append(e);
    return row.pack();
  });
}

/** As stored rows carry it: event i of a row has i % 4 spaces before its stamp (store/payload.ts). */
const stamped = (e: string, at = AT, i = 0): string => `{${' '.repeat(i % 4)}"sentAt":"${new Date(at).toISOString()}",${e.slice(1)}`;
const event = (i: number): string => `{"type":"track","n":${i},"p":"/products/${i % 97}","ua":"Mozilla/5.0 (X11; Linux x86_64) é€ ${'z'.repeat(i % 13)}"}`;

describe('spliced gzip requests', () => {
  it('one gzip stream of head, every message stamped, tail; a new time at each attempt', () => {
    const batches = [[event(1), event(2)], [event(3)], Array.from({ length: 700 }, (_, i) => event(i))];
    const stored = rows(batches);
    for (const at of [AT, AT + 61_234]) {
      const body = splicedGzip(stored, SENT_AT, at, HEAD, BETWEEN, TAIL)!;
      const text = gunzipSync(body).toString();
      expect(text).toBe(HEAD.toString() + batches.map((b) => b.map((e, i) => stamped(e, at, i)).join(',\n')).join(',\n') + TAIL.toString());
      expect(JSON.parse(text).batch).toHaveLength(703);
    }
  });

  it('a row past 64 KiB: its CRC still comes out right', () => {
    const big = [Array.from({ length: 900 }, (_, i) => event(i)).map((e, i) => e.replace('}', `,"pad":"${'p'.repeat(i % 200)}"}`))];
    const stored = rows(big);
    const text = gunzipSync(splicedGzip(stored, SENT_AT, AT, HEAD, BETWEEN, TAIL)!).toString();
    expect(text.length).toBeGreaterThan(128 * 1024);
    expect(text).toBe(HEAD.toString() + big[0]!.map((e, i) => stamped(e, AT, i)).join(',\n') + TAIL.toString());
  });

  it('rows without a stamp (Segment) are sent as they are', () => {
    const row = new RowBytes(',', 1024, Infinity, { spliced: true });
    for (const e of [event(1), event(2)]) row.append(e);
    const text = gunzipSync(splicedGzip([row.pack()], undefined, AT, HEAD, BETWEEN, TAIL)!).toString();
    expect(text).toBe(HEAD.toString() + [event(1), event(2)].join(',\n') + TAIL.toString());
  });

  it('leaves gzip members and rows spliced for another stamp to the decompressing path, which stamps them alike', async () => {
    const member = packEvents([event(1)], ',');
    const spliced = rows([[event(2)]])[0]!;
    expect(splicedGzip([spliced, member], SENT_AT, AT, HEAD, BETWEEN, TAIL)).toBeUndefined();
    expect(splicedGzip([spliced], undefined, AT, HEAD, BETWEEN, TAIL)).toBeUndefined();
    const plain = await stampedRows([spliced, member], SENT_AT, AT, HEAD.toString(), TAIL.toString());
    expect(plain.toString()).toBe(HEAD.toString() + [stamped(event(2)), stamped(event(1))].join(',\n') + TAIL.toString());
    // A spliced row read for a destination without the stamp: its events as they were queued.
    const unstamped = await stampedRows([spliced], undefined, AT, HEAD.toString(), TAIL.toString());
    expect(unstamped.toString()).toBe(HEAD.toString() + event(2) + TAIL.toString());
  });

  it('a time that does not fit the slot (a year past 9999) is left to the decompressing path', async () => {
    const stored = rows([[event(1)]]);
    const far = Date.parse('+010000-01-01T00:00:00.000Z');
    expect(splicedGzip(stored, SENT_AT, far, HEAD, BETWEEN, TAIL)).toBeUndefined();
    const plain = await stampedRows(stored, SENT_AT, far, HEAD.toString(), TAIL.toString());
    expect(plain.toString()).toBe(HEAD.toString() + stamped(event(1), far) + TAIL.toString());
  });
});
