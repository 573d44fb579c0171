import { describe, expect, it } from 'vitest';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

const columns = ['time', 'user_id', 'event', 'order_id', 'total', 'company', 'note'];

describe('csv', () => {
  const p = build({ type: 'csv', columns, types: { order_id: 'int', total: 'float' } });
  const lines = fixtureLines('orders.csv');

  it('parses quoted fields with doubled quotes and delimiters inside', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      time: '2025-03-12T08:15:02Z',
      user_id: 'u_42',
      event: 'order_completed',
      order_id: 98765,
      total: 42.5,
      company: 'Acme, Inc.',
      note: 'said "thanks"',
    });
  });

  it('leaves empty fields absent', () => {
    const r = ok(p.parse(lines[1] ?? '', ctx));
    expect(r).toEqual({ time: '2025-03-12T08:15:03Z', user_id: 'u_43', event: 'order_refunded', order_id: 98766, company: 'Globex' });
  });

  it('reports an unterminated quote and a wrong field count', () => {
    expect(fail(p.parse(lines[2] ?? '', ctx))).toMatchObject({ column: 55 });
    expect(fail(p.parse('a,b', ctx)).reason).toBe('expected 7 fields (time, user_id, event, order_id, total, company, note), got 2');
    expect(fail(p.parse('"a"x,b', ctx)).reason).toContain('expected "," after a quoted field at column 4');
    expect(fail(p.parse('t,u,e,notanumber,1,c,n', ctx)).reason).toBe('field "order_id": expected an integer, got "notanumber"');
  });

  it('relax_column_count accepts short lines', () => {
    const r = build({ type: 'csv', columns: ['a', 'b', 'c'], relax_column_count: true });
    expect(ok(r.parse('1,2', ctx))).toEqual({ a: '1', b: '2' });
    expect(ok(r.parse('1,2,3,4', ctx))).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('validates options', () => {
    expect(thrown(() => build({ type: 'csv' })).place.path).toBe('pipelines[0].parser.columns');
    expect(thrown(() => build({ type: 'csv', columns: ['a', 'a'] })).message).toContain('appears twice');
    expect(thrown(() => build({ type: 'csv', columns: ['a'], types: { b: 'int' } })).place.path).toBe('pipelines[0].parser.types.b');
  });
});

describe('tsv', () => {
  it('splits on tabs and undoes backslash escapes', () => {
    const p = build({ type: 'tsv', columns: ['time', 'user_id', 'event', 'detail'] });
    const [a, b] = fixtureLines('events.tsv');
    expect(ok(p.parse(a ?? '', ctx))).toEqual({ time: '2025-03-12T08:15:02Z', user_id: 'u_42', event: 'signup', detail: 'line one\nline two' });
    expect(ok(p.parse(b ?? '', ctx))).toEqual({ time: '2025-03-12T08:15:03Z', user_id: 'u_43', event: 'login' });
  });
});
