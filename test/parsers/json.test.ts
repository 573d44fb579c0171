import { describe, expect, it } from 'vitest';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('json', () => {
  const p = build({ type: 'json' });
  const lines = fixtureLines('app-json.log');

  it('keeps nested fields and types', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      ts: '2025-03-12T08:15:02.123Z',
      level: 'info',
      msg: 'order placed',
      user: { id: 'u_123', plan: 'pro' },
      order: { id: 98765, total: 42.5, items: ['sku-1', 'sku-2'] },
      latency_ms: 12,
      ok: true,
      trace: null,
    });
  });

  it('gives the column of a syntax error', () => {
    const e = fail(p.parse(lines[2] ?? '', ctx));
    expect(e.reason).toMatch(/^invalid JSON: /);
    expect(e.column).toBeGreaterThan(20);
  });

  it('refuses non-objects with what it got', () => {
    expect(fail(p.parse('[1,2]', ctx)).reason).toBe('expected a JSON object, got an array');
    expect(fail(p.parse('"x"', ctx)).reason).toBe('expected a JSON object, got a string');
    expect(fail(p.parse('null', ctx)).reason).toBe('expected a JSON object, got null');
    expect(fail(p.parse('', ctx)).reason).toBe('expected a JSON object, got an empty line');
  });

  it('ignores a UTF-8 byte order mark at the start of a file', () => {
    expect(ok(p.parse('\uFEFF{"a":1}', ctx))).toEqual({ a: 1 });
  });

  it('does not let __proto__ change the prototype', () => {
    const r = ok(p.parse('{"__proto__":{"polluted":true},"a":1}', ctx));
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('re-parses message_key with a nested parser, merging its fields', () => {
    const q = build({ type: 'json', message_key: 'msg', message_parser: { type: 'json' } });
    const r = ok(q.parse(lines[1] ?? '', ctx));
    expect(r).toMatchObject({ level: 'warn', event: 'payment_failed', code: 'card_declined', amount: 12.99 });
    expect(r).not.toHaveProperty('msg');
    // a message that is not JSON is kept by default, or fails with on_message_error: fail
    expect(ok(q.parse(lines[0] ?? '', ctx)).msg).toBe('order placed');
    const strict = build({ type: 'json', message_key: 'msg', message_parser: { type: 'json' }, on_message_error: 'fail' });
    expect(fail(strict.parse(lines[0] ?? '', ctx)).reason).toMatch(/^field "msg": invalid JSON/);
  });

  it('puts the nested record under message_target and can keep the raw message', () => {
    const q = build({ type: 'json', message_key: 'msg', message_parser: { type: 'json' }, message_target: 'inner', keep_message: true });
    const r = ok(q.parse(lines[1] ?? '', ctx));
    expect(r.inner).toEqual({ event: 'payment_failed', code: 'card_declined', amount: 12.99 });
    expect(typeof r.msg).toBe('string');
  });

  it('fails at construction on bad options, naming the key', () => {
    expect(thrown(() => build({ type: 'json', message_key: 'msg' })).place.path).toBe('pipelines[0].parser.message_parser');
    const e = thrown(() => build({ type: 'json', message_key: 'msg', message_parser: { type: 'nope' } }));
    expect(e.code).toBe('TAILSHIP_PARSER_UNKNOWN');
    expect(e.place.path).toBe('pipelines[0].parser.message_parser.type');
    expect(thrown(() => build({ type: 'json', bogus: 1 })).place.path).toBe('pipelines[0].parser.bogus');
  });
});
