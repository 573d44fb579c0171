import { describe, expect, test } from 'vitest';
import type { LogRecord } from '../../parsers/types.js';
import { TailshipError } from '../../src/errors.js';
import { compileExpression } from '../../src/mapping/expression.js';

const rec: LogRecord = {
  status: 503,
  method: 'GET',
  path: '/api/users/42',
  ua: 'Mozilla/5.0 (iPhone) Mobile',
  bytes: '1024',
  query: { uid: 'u1', 'utm-source': 'news' },
  tags: ['a', 'b'],
  flag: false,
  nothing: null,
  constructor: 'field named constructor',
  '@timestamp': '2024-01-01T00:00:00Z',
  'a.b': 'dotted key',
};

function run(expr: string, record: LogRecord = rec): boolean {
  return compileExpression(expr, 'pipelines[0].events[0].when')({ record, file: '/var/log/x.log', offset: 7, host: 'web-1' });
}

function compileError(expr: string): TailshipError {
  try {
    compileExpression(expr, 'pipelines[2].events[1].when');
  } catch (e) {
    expect(e).toBeInstanceOf(TailshipError);
    return e as TailshipError;
  }
  throw new Error(`expected ${expr} not to compile`);
}

describe('when expressions', () => {
  test.each([
    ['status >= 500', true],
    ['status > 503', false],
    ['status < 600 and status != 500', true],
    ['status == 503', true],
    ['status == "503"', true],
    ['status === 503', true],
    ['status !== 503', false],
    ['method == "GET"', true],
    ["method == 'POST'", false],
    ['method != "POST"', true],
    ['status >= 500 && method == "GET"', true],
    ['status < 500 || method == "GET"', true],
    ['status < 500 or method == "POST"', false],
    ['!(status < 500)', true],
    ['not status < 500', true],
    ['not status == 503', false],
    ['not has(missing) and status == 503', true],
  ])('%s → %s', (expr, want) => {
    expect(run(expr)).toBe(want);
  });

  test('in: list membership, substring, map key', () => {
    expect(run('method in ["GET", "HEAD"]')).toBe(true);
    expect(run('method in ["POST", "PUT"]')).toBe(false);
    expect(run('status in [500, 502, 503]')).toBe(true);
    expect(run('"users" in path')).toBe(true);
    expect(run('"orders" in path')).toBe(false);
    expect(run('"uid" in query')).toBe(true);
    expect(run('missing in ["a"]')).toBe(false);
    expect(run('"a" in tags')).toBe(true);
    expect(run('not method in ["POST"]')).toBe(true);
  });

  test('regex match and non-match', () => {
    expect(run('path =~ /^\\/api\\/users\\/\\d+$/')).toBe(true);
    expect(run('ua =~ /iphone/i')).toBe(true);
    expect(run('ua =~ /iphone/')).toBe(false);
    expect(run('ua !~ /bot/i')).toBe(true);
    expect(run('status =~ /^5\\d\\d$/')).toBe(true);
    // a global regex must not keep state between records
    const p = compileExpression('path =~ /users/g', 'w');
    const s = { record: rec, file: '', offset: 0, host: '' };
    expect([p(s), p(s), p(s)]).toEqual([true, true, true]);
    expect(run('missing =~ /x/')).toBe(false);
    expect(run('missing !~ /x/')).toBe(true);
  });

  test('field presence and missing fields', () => {
    expect(run('has(query.uid)')).toBe(true);
    expect(run('exists(query.uid)')).toBe(true);
    expect(run('has(query.nope)')).toBe(false);
    expect(run('has(nothing)')).toBe(false);
    expect(run('has(a.b.c.d)')).toBe(false);
    expect(run('missing > 3')).toBe(false);
    expect(run('missing < 3')).toBe(false);
    expect(run('missing == "x"')).toBe(false);
    expect(run('missing != "x"')).toBe(true);
    expect(run('missing == null')).toBe(true);
    expect(run('nothing == null')).toBe(true);
    expect(run('a.b.c == 1')).toBe(false);
    expect(run('path.x == 1')).toBe(false);
  });

  test('dotted and bracketed paths, array indexes, reserved fields', () => {
    expect(run('query.uid == "u1"')).toBe(true);
    expect(run('query["utm-source"] == "news"')).toBe(true);
    expect(run("query['utm-source'] == 'news'")).toBe(true);
    expect(run('tags[1] == "b"')).toBe(true);
    expect(run('tags[5] == "b"')).toBe(false);
    expect(run('_host == "web-1" and _offset == 7 and _file =~ /x\\.log$/')).toBe(true);
    expect(run('constructor == "field named constructor"')).toBe(true);
    expect(run('has(toString)')).toBe(false);
    expect(run('has(query.constructor)')).toBe(false);
    expect(run('has(@timestamp) and @timestamp =~ /^2024/')).toBe(true);
    expect(run('$["a.b"] == "dotted key"')).toBe(true);
    expect(run('$.status == 503')).toBe(true);
  });

  test('arithmetic on numbers (numeric strings too)', () => {
    expect(run('bytes / 1024 == 1')).toBe(true);
    expect(run('bytes * 2 > 2000')).toBe(true);
    expect(run('status - 3 == 500')).toBe(true);
    expect(run('status % 100 == 3')).toBe(true);
    expect(run('status + 1 == 504')).toBe(true);
    expect(run('-status < 0')).toBe(true);
    expect(run('2 ** 3 == 8')).toBe(true);
    expect(run('status / 0 == 1')).toBe(false);
    expect(run('method + 1 > 0')).toBe(false);
    expect(run('method + "!" == "GET!"')).toBe(true);
    expect(run('missing + 1 == 1')).toBe(false);
  });

  test('functions and truthiness', () => {
    expect(run('lower(method) == "get"')).toBe(true);
    expect(run('upper("x") == "X"')).toBe(true);
    expect(run('len(tags) == 2')).toBe(true);
    expect(run('int(bytes) == 1024')).toBe(true);
    expect(run('starts_with(path, "/api")')).toBe(true);
    expect(run('ends_with(path, "42")')).toBe(true);
    expect(run('contains(ua, "iPhone")')).toBe(true);
    expect(run('flag')).toBe(false);
    expect(run('method')).toBe(true);
    expect(run('missing')).toBe(false);
    expect(run('status >= 500 ? true : false')).toBe(true);
  });

  test('compile errors carry the code, the key path and the column', () => {
    const e = compileError('status >= ');
    expect(e.code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(e.place.path).toBe('pipelines[2].events[1].when');
    expect(e.message).toMatch(/column \d+/);

    const f = compileError('status == 5 and foo(1)');
    expect(f.code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(f.message).toContain('unknown function "foo"');
    expect(f.message).toContain('column 17');

    expect(compileError('a | b').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('a = 1').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('path =~ "x"').message).toContain('/regex/');
    expect(compileError('has(1)').message).toContain('field path');
    expect(compileError('a[b] == 1').message).toContain('[key]');
    expect(compileError('"unterminated').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('x =~ /(/').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('this == 1').code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(compileError('a.b(1)').code).toBe('TAILSHIP_EXPRESSION_INVALID');
  });

  test('no JavaScript escapes: globals and prototypes are just missing fields', () => {
    expect(run('process == null')).toBe(true);
    expect(run('has(__proto__)')).toBe(false);
    expect(run('query.__proto__ == null')).toBe(true);
  });
});
