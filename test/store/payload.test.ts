/** The stored form of queue rows: gzip members with separators, and the legacy forms still read. */
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isGzipPayload, packEvents, RowBytes, unpackEvents } from '../../src/store/payload.js';

const events = ['{"a":1}', '{"b":"x,\\ny"}', '{"c":[1,2]}'];

describe('queue payloads', () => {
  it('packs events into one gzip member, separators after all but the last, and unpacks them', () => {
    const packed = packEvents(events, ',');
    expect(isGzipPayload(packed)).toBe(true);
    expect(gunzipSync(packed).toString()).toBe('{"a":1},\n{"b":"x,\\ny"},\n{"c":[1,2]}');
    expect(unpackEvents(packed)).toEqual(events);
    expect(unpackEvents(packEvents(events, ''))).toEqual(events);
    expect(unpackEvents(packEvents(['{"only":1}'], ','))).toEqual(['{"only":1}']);
  });

  it('one RowBytes packs row after row, each with only its own events, across growth and a reset', () => {
    const row = new RowBytes(',', 16, 1024);
    const big = `{"big":"${'x'.repeat(2000)}"}`;
    const rows = [events, ['{"next":"é€"}'], [big, '{"after":1}'], events.slice(1), ['{"last":2}']];
    for (const r of rows) {
      for (const e of r) expect(row.append(e)).toBe(Buffer.byteLength(e));
      expect(row.events).toBe(r.length);
      expect(unpackEvents(row.pack())).toEqual(r);
      expect(row.events).toBe(0);
    }
  });

  it('keeps its grown buffer for the next row, unless a row grew it past keepBytes', () => {
    const row = new RowBytes(',', 16, 1024);
    row.append('{"a":"' + 'x'.repeat(100) + '"}');
    row.pack();
    expect(row.capacity).toBeGreaterThan(16);
    expect(row.capacity).toBeLessThanOrEqual(1024);
    row.append('{"big":"' + 'x'.repeat(2000) + '"}');
    row.pack();
    expect(row.capacity).toBe(16);
  });

  it('clear() drops the events appended since the last pack', () => {
    const row = new RowBytes(',');
    row.append('{"from":"a failed batch"}');
    row.clear();
    expect(row.events).toBe(0);
    row.append('{"next":1}');
    expect(unpackEvents(row.pack())).toEqual(['{"next":1}']);
  });

  it('reads rows written before: TEXT and raw deflate, one event per line', () => {
    expect(unpackEvents(events.join('\n'))).toEqual(events);
    const legacy = deflateRawSync(events.join('\n'));
    expect(isGzipPayload(legacy)).toBe(false);
    expect(unpackEvents(legacy)).toEqual(events);
  });
});
