/** The stored form of queue rows: gzip members with separators, and the legacy forms still read. */
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isGzipPayload, isSendableAsStored, packEvents, placeholder, readSplicedRow, RowBytes, splicedText, unpackEvents } from '../../src/store/payload.js';

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

  it('spliced rows: each event with its stamp slot, read back without it; the text with a time in every slot', () => {
    const slot = { before: '"sentAt":"', valueBytes: 24, after: '",' };
    const row = new RowBytes(',', 16, 1024, { spliced: true, slot });
    const many = Array.from({ length: 300 }, (_, i) => `{"i":${i},"name":"é€ ${'x'.repeat(i % 50)}","ua":"Mozilla/5.0 (X11; Linux x86_64)"}`);
    for (const r of [events, ['{"next":"é€"}'], many]) {
      for (const e of r) expect(row.append(e)).toBe(Buffer.byteLength(e));
      const packed = row.pack();
      expect(isGzipPayload(packed)).toBe(false);
      expect(isSendableAsStored(packed)).toBe(true);
      expect(unpackEvents(packed)).toEqual(r);
      const time = '2026-12-05T13:14:15.678Z';
      // Event i has i % 4 spaces before its stamp.
      expect(splicedText(readSplicedRow(packed)!, Buffer.from(time)).toString()).toBe(r.map((e, i) => `{${' '.repeat(i % 4)}"sentAt":"${time}",${e.slice(1)}`).join(',\n'));
      expect(JSON.parse(`[${splicedText(readSplicedRow(packed)!, Buffer.from(time)).toString()}]`).map((m: { sentAt: string }) => m.sentAt)).toEqual(r.map(() => time));
    }
    expect(() => row.append('[1]')).toThrow(/JSON object/);
  });

  it('spliced rows without a slot are the events as they are', () => {
    const row = new RowBytes(',', 16, 1024, { spliced: true });
    for (const e of events) row.append(e);
    const packed = row.pack();
    expect(readSplicedRow(packed)!.memberBytes).toBe(0);
    expect(unpackEvents(packed)).toEqual(events);
    expect(splicedText(readSplicedRow(packed)!, Buffer.alloc(0)).toString()).toBe(events.join(',\n'));
  });

  it('a row whose later slots the compressor did not copy from the first is stored as a gzip member without slots', () => {
    const slot = { before: '"sentAt":"', valueBytes: 24, after: '",' };
    const row = new RowBytes(',', 16, 1024, { spliced: true, slot });
    // An event holding the placeholder's bytes raw (no encoder writes that): the compressor copies
    // them from the first slot, so a time written there would change this event too.
    const odd = ['{"a":1}', `{"b":"${placeholder(24).toString('latin1')}"}`];
    for (const e of odd) row.append(e);
    const packed = row.pack();
    expect(isGzipPayload(packed)).toBe(true);
    expect(unpackEvents(packed)).toEqual(odd);
  });

  it('reads spliced rows of the first version (no pads, a header a byte shorter)', () => {
    const slot = { before: '"sentAt":"', valueBytes: 24, after: '",' };
    const row = new RowBytes(',', 16, 1024, { spliced: true, slot });
    row.append('{"only":1}');
    const v2 = row.pack();
    const v1 = Buffer.concat([v2.subarray(0, 19), v2.subarray(20)]);
    v1[1] = 1;
    expect(unpackEvents(v1)).toEqual(['{"only":1}']);
  });
});
