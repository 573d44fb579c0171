import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { LogRecord } from '../../parsers/types.js';
import { TailshipError } from '../../src/errors.js';
import { compileTemplate, plainFieldPath } from '../../src/mapping/template.js';

const rec: LogRecord = {
  status: 404,
  s_status: '404',
  s_float: ' 3.25 ',
  name: '  Ada Lovelace ',
  empty: '',
  nothing: null,
  yes: 'yes',
  off: 'off',
  email: 'ada@example.com',
  url: 'https://shop.example.com:8443/cart/checkout?item=1&item=2&ref=mail#pay',
  rel: '/search?q=log+shipper&page=2',
  csv: 'a,b,,c',
  piped: 'x|y',
  doc: '{"plan":"pro","seats":3}',
  query: { uid: 'u-1', 'utm-source': 'news', n: 7 },
  list: [{ id: 'first' }, { id: 'second' }],
  constructor: 'own',
  '@timestamp': '2024-01-01T00:00:00Z',
  'a.b': 'dotted',
};

const scope = { record: rec, file: '/var/log/app.log', offset: 1234, host: 'web-1' };
const render = (t: unknown, record: LogRecord = rec) => compileTemplate(t, 'pipelines[0].events[0].properties.x')({ ...scope, record });

function compileError(t: string): TailshipError {
  try {
    compileTemplate(t, 'pipelines[1].events[3].properties.total');
  } catch (e) {
    expect(e).toBeInstanceOf(TailshipError);
    return e as TailshipError;
  }
  throw new Error(`expected ${t} not to compile`);
}

describe('templates', () => {
  test('whole-value templates keep the type', () => {
    expect(render('{{ status }}')).toBe(404);
    expect(render('{{status}}')).toBe(404);
    expect(render('  {{ status }}  ')).toBe(404);
    expect(render('{{ query }}')).toEqual({ uid: 'u-1', 'utm-source': 'news', n: 7 });
    expect(render('{{ nothing }}')).toBeNull();
    expect(render('{{ list[1].id }}')).toBe('second');
    expect(render('{{ query["utm-source"] }}')).toBe('news');
    expect(render("{{ query['utm-source'] }}")).toBe('news');
    expect(render('{{ query.utm-source }}')).toBe('news');
    expect(render('{{ @timestamp }}')).toBe('2024-01-01T00:00:00Z');
    expect(render('{{ $["a.b"] }}')).toBe('dotted');
    expect(render('{{ $.status }}')).toBe(404);
  });

  test('text around expressions renders a string', () => {
    expect(render('status={{ status }}')).toBe('status=404');
    expect(render('{{ status }}!')).toBe('404!');
    expect(render('{{ query.uid }}:{{ status }} on {{ _host }}')).toBe('u-1:404 on web-1');
    expect(render('q={{ query }}')).toBe('q={"uid":"u-1","utm-source":"news","n":7}');
    expect(render('plain text')).toBe('plain text');
    expect(render('{{ "{{" }} literal')).toBe('{{ literal');
  });

  test('a missing field leaves the key out, nested objects too', () => {
    expect(render('{{ missing }}')).toBeUndefined();
    expect(render('id-{{ missing }}')).toBeUndefined();
    expect(render('{{ query.missing.deeper }}')).toBeUndefined();
    expect(render({ a: '{{ status }}', b: '{{ missing }}', c: { d: '{{ missing }}' }, e: { f: '{{ query.n }}', g: '{{ nope }}' } })).toEqual({
      a: 404,
      e: { f: 7 },
    });
    expect(render({ a: '{{ missing }}' })).toBeUndefined();
    expect(render({})).toEqual({});
    expect(render(['{{ status }}', '{{ missing }}', 'x'])).toEqual([404, 'x']);
  });

  test('constants keep their type and renders return fresh objects', () => {
    expect(render(5)).toBe(5);
    expect(render(true)).toBe(true);
    expect(render(null)).toBeNull();
    const t = compileTemplate({ fixed: { k: [1, 2] }, s: '{{ status }}' }, 'p');
    const a = t(scope) as { fixed: { k: number[] } };
    a.fixed.k.push(3);
    expect(t(scope)).toEqual({ fixed: { k: [1, 2] }, s: 404 });
  });

  test('reserved fields _file, _offset, _host', () => {
    expect(render('{{ _file }}')).toBe('/var/log/app.log');
    expect(render('{{ _offset }}')).toBe(1234);
    expect(render('{{ _host }}')).toBe('web-1');
  });

  test('own properties only', () => {
    expect(render('{{ constructor }}')).toBe('own');
    expect(render('{{ toString }}')).toBeUndefined();
    expect(render('{{ query.constructor }}')).toBeUndefined();
    expect(render('{{ query.__proto__ }}')).toBeUndefined();
    expect(render('{{ list.length }}')).toBeUndefined();
  });
});

describe('filters', () => {
  test('int', () => {
    expect(render('{{ s_status | int }}')).toBe(404);
    expect(render('{{ s_float | int }}')).toBe(3);
    expect(render('{{ name | int }}')).toBeUndefined();
    expect(render('{{ status | int }}')).toBe(404);
  });
  test('float', () => {
    expect(render('{{ s_float | float }}')).toBe(3.25);
    expect(render('{{ name | float }}')).toBeUndefined();
    expect(render('{{ empty | float }}')).toBeUndefined();
  });
  test('bool', () => {
    expect(render('{{ yes | bool }}')).toBe(true);
    expect(render('{{ off | bool }}')).toBe(false);
    expect(render('{{ status | bool }}')).toBe(true);
    expect(render('{{ name | bool }}')).toBeUndefined();
  });
  test('lower, upper, trim', () => {
    expect(render('{{ name | trim | lower }}')).toBe('ada lovelace');
    expect(render('{{ name | trim | upper }}')).toBe('ADA LOVELACE');
    expect(render('{{ status | lower }}')).toBe(404);
  });
  test('default', () => {
    expect(render('{{ missing | default: "anon" }}')).toBe('anon');
    expect(render('{{ empty | default: "anon" }}')).toBe('anon');
    expect(render('{{ nothing | default: 0 }}')).toBe(0);
    expect(render('{{ status | default: 1 }}')).toBe(404);
    expect(render('{{ missing | default: "A" | lower }}')).toBe('a');
    expect(render('{{ missing | lower | default: false }}')).toBe(false);
    expect(render('user-{{ missing | default: "none" }}')).toBe('user-none');
  });
  test('sha256, with an optional salt', () => {
    const plain = createHash('sha256').update('ada@example.com').digest('hex');
    const salted = createHash('sha256').update('pepper').update('ada@example.com').digest('hex');
    expect(render('{{ email | sha256 }}')).toBe(plain);
    expect(render('{{ email | sha256: "pepper" }}')).toBe(salted);
    expect(render('{{ missing | sha256 }}')).toBeUndefined();
  });
  test('url', () => {
    expect(render('{{ url | url }}')).toEqual({
      scheme: 'https',
      host: 'shop.example.com',
      port: 8443,
      path: '/cart/checkout',
      search: '?item=1&item=2&ref=mail',
      query: { item: ['1', '2'], ref: 'mail' },
      fragment: 'pay',
      url: 'https://shop.example.com:8443/cart/checkout?item=1&item=2&ref=mail#pay',
    });
    expect(render('{{ rel | url }}')).toEqual({ path: '/search', search: '?q=log+shipper&page=2', query: { q: 'log shipper', page: '2' }, url: '/search?q=log+shipper&page=2' });
    expect(compileTemplate('{{ url | url }}', 'p')(scope)).toMatchObject({ host: 'shop.example.com' });
    expect(render('{{ empty | url }}')).toBeUndefined();
    expect(render('{{ status | url }}')).toBeUndefined();
  });
  test('split and join', () => {
    expect(render('{{ csv | split }}')).toEqual(['a', 'b', '', 'c']);
    expect(render('{{ piped | split: "|" }}')).toEqual(['x', 'y']);
    expect(render('{{ empty | split }}')).toEqual([]);
    expect(render('{{ csv | split | join: ";" }}')).toBe('a;b;;c');
  });
  test('json and to_json', () => {
    expect(render('{{ doc | json }}')).toEqual({ plan: 'pro', seats: 3 });
    expect(render('{{ name | json }}')).toBeUndefined();
    expect(render('{{ query | to_json }}')).toBe('{"uid":"u-1","utm-source":"news","n":7}');
  });
  test('string, replace, truncate', () => {
    expect(render('{{ status | string }}')).toBe('404');
    expect(render('{{ query | string }}')).toBe('{"uid":"u-1","utm-source":"news","n":7}');
    expect(render('{{ rel | replace: "+", " " }}')).toBe('/search?q=log shipper&page=2');
    expect(render('{{ email | truncate: 3 }}')).toBe('ada');
  });
});

describe('template compile errors', () => {
  test.each([
    ['{{ status ', '"{{" without a matching "}}"'],
    ['{{ }}', 'empty expression'],
    ['{{ status | nope }}', 'unknown filter "nope"'],
    ['{{ status | default }}', 'filter "default" takes 1 argument'],
    ['{{ status | lower: 1 }}', 'filter "lower" takes 0 arguments'],
    ['{{ status | default: ident }}', 'expected a literal'],
    ['{{ a..b }}', 'expected a field name'],
    ['{{ a[b] }}', 'expected a number'],
    ['{{ a b }}', 'unexpected'],
    ['{{ status | truncate: -1 }}', 'truncate'],
  ])('%s', (t, msg) => {
    const e = compileError(t);
    expect(e.code).toBe('TAILSHIP_TEMPLATE_INVALID');
    expect(e.place.path).toBe('pipelines[1].events[3].properties.total');
    expect(e.message).toContain(msg);
    expect(e.message).toMatch(/column \d+/);
  });

  test('nested keys name their own path', () => {
    try {
      compileTemplate({ a: { 'b-c': ['ok', '{{ x | bad }}'] } }, 'pipelines[0].events[2].context');
      expect.unreachable();
    } catch (e) {
      expect((e as TailshipError).place.path).toBe('pipelines[0].events[2].context.a.b-c[1]');
    }
  });
});

describe('plain field paths (read inline by generated message writers)', () => {
  test('one or two plain keys, spaces allowed', () => {
    expect(plainFieldPath('{{ remote_addr }}')).toEqual(['remote_addr']);
    expect(plainFieldPath(' {{query.uid}} ')).toEqual(['query', 'uid']);
    expect(plainFieldPath('{{ $["a-b"] }}')).toEqual(['a-b']);
  });

  test('anything a plain property read would get wrong, or that is not a bare field, is not one', () => {
    for (const t of ['{{ a | lower }}', 'x{{ a }}', '{{ a }}{{ b }}', '{{ a.b.c }}', '{{ a[0] }}', '{{ toString }}', '{{ a.constructor }}', '{{ _file }}', '{{ "lit" }}', '{{ $ }}', 'plain', '{{ a']) {
      expect(plainFieldPath(t), t).toBeUndefined();
    }
  });
});
