import { describe, expect, it } from 'vitest';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('logfmt', () => {
  const p = build({ type: 'logfmt' });
  const lines = fixtureLines('go-logfmt.log');

  it('parses Go service lines with inferred types', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      time: '2025-03-12T08:15:02.123Z',
      level: 'info',
      msg: 'request handled',
      method: 'GET',
      path: '/api/v1/users',
      status: 200,
      duration: '1.532ms',
      bytes: 5123,
      user_id: 'u_42',
      cached: true,
    });
  });

  it('undoes Go escapes in quoted values, which stay strings', () => {
    const r = ok(p.parse(lines[1] ?? '', ctx));
    expect(r.query).toBe('SELECT * FROM "orders" WHERE id = $1');
    expect(r.elapsed_ms).toBe(812.5);
    expect(ok(p.parse('a="200" b=200', ctx))).toEqual({ a: '200', b: 200 });
    expect(ok(p.parse('m="tab\\there \\u00e9"', ctx))).toEqual({ m: 'tab\there é' });
  });

  it('treats a bare key as true and key= as empty', () => {
    expect(ok(p.parse(lines[3] ?? '', ctx))).toMatchObject({ debug: true, tenant: '', caller: 'main.go:54' });
  });

  it('can keep everything as strings, or force types', () => {
    const s = build({ type: 'logfmt', infer_types: false, types: { retry: 'int' } });
    expect(ok(s.parse(lines[2] ?? '', ctx))).toMatchObject({ retry: 3, component: 'pg', err: 'dial tcp 10.0.0.7:5432: connect: connection refused' });
    expect(ok(s.parse('status=200 retry=1', ctx)).status).toBe('200');
    expect(fail(s.parse('retry=x', ctx)).reason).toBe('field "retry": expected an integer, got "x"');
  });

  it('gives specific errors with columns', () => {
    expect(fail(p.parse('a=1 =2', ctx))).toMatchObject({ column: 5 });
    expect(fail(p.parse('a=1 =2', ctx)).reason).toContain('expected a key before "="');
    expect(fail(p.parse('msg="never closed', ctx))).toMatchObject({ column: 5 });
    expect(fail(p.parse('a="x"b', ctx)).reason).toContain('expected a space after the quoted value');
    expect(fail(p.parse('just some words', ctx)).reason).toBe('expected key=value pairs, found no "="');
    expect(fail(p.parse('   ', ctx)).reason).toBe('expected key=value pairs, got an empty line');
  });

  it('rejects a bad type name', () => {
    expect(thrown(() => build({ type: 'logfmt', types: { a: 'decimal' } })).place.path).toBe('pipelines[0].parser.types.a');
  });
});
