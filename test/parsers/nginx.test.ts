import { describe, expect, it } from 'vitest';
import { normalizeNginxFormat } from '../../parsers/nginx.js';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('nginx combined', () => {
  const p = build({ type: 'nginx' });
  const lines = fixtureLines('nginx-combined.log');

  it('parses a typical line with numbers as numbers and the request split', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      remote_addr: '203.0.113.42',
      time_local: '12/Mar/2025:08:15:02 +0000',
      request: 'GET /products/shoes?color=red&size=42&utm_source=newsletter HTTP/1.1',
      request_method: 'GET',
      request_path: '/products/shoes',
      request_query: 'color=red&size=42&utm_source=newsletter',
      query: { color: 'red', size: '42', utm_source: 'newsletter' },
      request_protocol: 'HTTP/1.1',
      status: 200,
      body_bytes_sent: 5123,
      http_referer: 'https://www.example.com/',
      http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
    });
  });

  it('keeps a logged user and leaves "-" fields absent', () => {
    const r = ok(p.parse(lines[1] ?? '', ctx));
    expect(r.remote_user).toBe('alice');
    expect(r.status).toBe(201);
    expect(r).not.toHaveProperty('query');
    const r0 = ok(p.parse(lines[0] ?? '', ctx));
    expect(r0).not.toHaveProperty('remote_user');
    const r2 = ok(p.parse(lines[2] ?? '', ctx));
    expect(r2).not.toHaveProperty('http_referer');
  });

  it('decodes the query: UTF-8, "+", repeated keys, empty values, malformed escapes kept raw', () => {
    const r = ok(p.parse(lines[2] ?? '', ctx));
    expect(r.query).toEqual({ q: 'café crème', tag: ['a', 'b'], empty: '', bad: '%E0%A4%A' });
  });

  it('accepts IPv6 clients and HEAD requests', () => {
    const r = ok(p.parse(lines[3] ?? '', ctx));
    expect(r).toMatchObject({ remote_addr: '2001:db8::1', request_method: 'HEAD', request_path: '/', status: 304, body_bytes_sent: 0 });
  });

  it('keeps a garbage request unsplit and undoes \\xHH escapes', () => {
    const r = ok(p.parse(lines[4] ?? '', ctx));
    expect(r.status).toBe(400);
    expect(r).not.toHaveProperty('request_method');
    expect(typeof r.request).toBe('string');
    const r5 = ok(p.parse(lines[5] ?? '', ctx));
    expect(r5.request_path).toBe('/café/"quoted"');
    expect(r5.http_user_agent).toBe('Mozilla/5.0 "Bot"');
  });

  it('reports where a line stops matching', () => {
    const e = fail(p.parse('203.0.113.42 - - [12/Mar/2025:08:15:02 +0000] GET / HTTP/1.1 200 1 "-" "-"', ctx));
    expect(e.column).toBe(45);
    expect(e.reason).toContain('expected "] \\""');
    const e2 = fail(p.parse('', ctx));
    expect(e2.column).toBe(1);
    expect(e2.reason).toContain('" - "');
  });
});

describe('nginx main and custom formats', () => {
  it('parses format: main with a forwarded-for list', () => {
    const p = build({ type: 'nginx', format: 'main' });
    const [a, b] = fixtureLines('nginx-main.log');
    expect(ok(p.parse(a ?? '', ctx))).not.toHaveProperty('http_x_forwarded_for');
    expect(ok(p.parse(b ?? '', ctx))).toMatchObject({ remote_user: 'bob', http_x_forwarded_for: '203.0.113.200, 10.0.0.3', query: { page: '2' } });
  });

  const upstreamFormat = `log_format upstream '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" '
                    'rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time" '
                    'ua="$upstream_addr" us="$upstream_status" host=$host rid=$request_id xff="$http_x_forwarded_for"';`;

  it('accepts a log_format directive pasted from nginx.conf, with upstream timing lists', () => {
    const p = build({ type: 'nginx', format: upstreamFormat });
    const [a, b, c] = fixtureLines('nginx-upstream.log');
    expect(ok(p.parse(a ?? '', ctx))).toMatchObject({
      request_time: 0.012,
      upstream_connect_time: 0.001,
      upstream_header_time: 0.01,
      upstream_response_time: 0.011,
      upstream_addr: '10.1.0.5:8080',
      upstream_status: 200,
      host: 'api.example.com',
      request_id: '9f0c4a1e2b3d4c5e6f708192a3b4c5d6',
    });
    const rb = ok(p.parse(b ?? '', ctx));
    expect(rb).toMatchObject({
      upstream_response_time: 0.05,
      upstream_response_time_list: [0.05, 0.091],
      upstream_header_time_list: [null, 0.09],
      upstream_status: 502,
      upstream_status_list: [502, 200],
      upstream_addr: '10.1.0.5:8080, 10.1.0.6:8080',
      http_x_forwarded_for: '198.51.100.23',
    });
    expect(rb).not.toHaveProperty('upstream_header_time');
    const rc = ok(p.parse(c ?? '', ctx));
    for (const k of ['upstream_connect_time', 'upstream_response_time', 'upstream_addr', 'upstream_status', 'http_x_forwarded_for']) expect(rc).not.toHaveProperty(k);
    expect(rc.request_time).toBe(0);
  });

  it('parses escape=json formats, where "" is absent and \\" is a quote', () => {
    const fmt = `log_format json_analytics escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request","status": $status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"upstream_response_time":"$upstream_response_time","http_referrer":"$http_referer","http_user_agent":"$http_user_agent","request_id":"$request_id"}';`;
    const p = build({ type: 'nginx', format: fmt });
    const [a, b] = fixtureLines('nginx-json.log');
    const ra = ok(p.parse(a ?? '', ctx));
    expect(ra).toMatchObject({
      time_iso8601: '2025-03-12T08:15:02+00:00',
      status: 200,
      request_time: 0.231,
      query: { step: '2', coupon: 'SPRING 25' },
      http_user_agent: 'Mozilla/5.0 "quoted" agent',
    });
    expect(ra).not.toHaveProperty('remote_user');
    const rb = ok(p.parse(b ?? '', ctx));
    expect(rb).toMatchObject({ remote_user: 'carol', request_path: '/café', status: 404 });
    expect(rb).not.toHaveProperty('upstream_response_time');
  });

  it('parse_query: false keeps only the raw query string', () => {
    const q = build({ type: 'nginx', parse_query: false });
    const r = ok(q.parse(fixtureLines('nginx-combined.log')[0] ?? '', ctx));
    expect(r.request_query).toBe('color=red&size=42&utm_source=newsletter');
    expect(r).not.toHaveProperty('query');
  });

  it('takes escape as an option too', () => {
    const p = build({ type: 'nginx', format: '"$http_user_agent" $status', escape: 'json' });
    expect(ok(p.parse('"a \\"b\\"" 200', ctx))).toEqual({ http_user_agent: 'a "b"', status: 200 });
  });

  it('supports ${var} and adjacent variables', () => {
    const p = build({ type: 'nginx', format: '${status}x$msec $request_id$status' });
    expect(ok(p.parse('200x1710231302.123 abc', ctx))).toEqual({ status: 'abc', msec: 1710231302.123, request_id: '' });
  });

  it('keeps a non-numeric value of a numeric variable as logged', () => {
    const p = build({ type: 'nginx', format: '$status $request_time' });
    expect(ok(p.parse('200 abc', ctx))).toEqual({ status: 200, request_time: 'abc' });
  });

  it('normalizes pasted directives', () => {
    expect(normalizeNginxFormat(`log_format x escape=none '$a '\n  '"$b"';`)).toEqual({ format: '$a "$b"', escape: 'none' });
    expect(normalizeNginxFormat('$a $b')).toEqual({ format: '$a $b' });
  });

  it('rejects bad options at construction with the key path', () => {
    const e = thrown(() => build({ type: 'nginx', format: 'no variables here' }));
    expect(e.code).toBe('TAILSHIP_PARSER_OPTIONS');
    expect(e.place.path).toBe('pipelines[0].parser.format');
    const e2 = thrown(() => build({ type: 'nginx', escape: 'xml' }));
    expect(e2.place.path).toBe('pipelines[0].parser.escape');
    const e3 = thrown(() => build({ type: 'nginx', fromat: 'combined' }));
    expect(e3.place.path).toBe('pipelines[0].parser.fromat');
  });
});

describe('query component decoding', () => {
  it('agrees with decodeURIComponent on valid input and keeps malformed input raw', async () => {
    const { decodeComponent } = await import('../../parsers/query-string.js');
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
        expect(decodeComponent(encodeURIComponent(s))).toBe(s);
        expect(decodeComponent(encodeURIComponent(s).replace(/%20/g, '+'))).toBe(s);
      }),
      { numRuns: 1000 },
    );
    for (const bad of ['%', '%4', '%zz', '%C3', '%C3%28', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%F8%88%80%80%80', 'a%FFb']) expect(decodeComponent(bad)).toBe(bad);
    expect(decodeComponent('a+b%2Bc%20d')).toBe('a b+c d');
  });
});

describe('trailing fields after the format', () => {
  const combinedLine = '203.0.113.9 - - [12/Mar/2025:08:15:02 +0000] "GET /a?x=1 HTTP/1.1" 200 12 "-" "curl/8.5.0"';
  const extended = `${combinedLine} "198.51.100.7, 10.0.0.1" rt=0.012`;

  it('rejects them by default, naming the column', () => {
    const e = fail(build({ type: 'nginx', format: 'combined' }).parse(extended, ctx));
    expect(e.reason).toBe(`unexpected text after the last field of the log format at column ${combinedLine.length + 1}`);
  });

  it('trailing: ignore parses the format and drops the rest; lines without extras still parse', () => {
    const p = build({ type: 'nginx', format: 'combined', trailing: 'ignore' });
    const r = ok(p.parse(extended, ctx));
    expect(r).toMatchObject({ remote_addr: '203.0.113.9', status: 200, http_user_agent: 'curl/8.5.0', request_path: '/a' });
    expect(r).not.toHaveProperty('trailing');
    expect(ok(p.parse(combinedLine, ctx))).toEqual(ok(build({ type: 'nginx' }).parse(combinedLine, ctx)));
    // Trailing text must follow whitespace: a mangled last quote is still an error.
    expect(fail(p.parse(`${combinedLine}x`, ctx)).reason).toContain('unexpected text after the last field');
  });

  it('trailing: keep stores the rest in `trailing`', () => {
    const p = build({ type: 'nginx', format: 'combined', trailing: 'keep' });
    expect(ok(p.parse(extended, ctx)).trailing).toBe('"198.51.100.7, 10.0.0.1" rt=0.012');
    expect(ok(p.parse(combinedLine, ctx))).not.toHaveProperty('trailing');
  });

  it('an unquoted last field stops at whitespace when trailing text is allowed', () => {
    const format = '$remote_addr $status $request_time';
    expect(ok(build({ type: 'nginx', format, trailing: 'keep' }).parse('10.0.0.1 200 0.005 upstream=a', ctx))).toEqual({ remote_addr: '10.0.0.1', status: 200, request_time: 0.005, trailing: 'upstream=a' });
    expect(ok(build({ type: 'nginx', format }).parse('10.0.0.1 200 0.005 upstream=a', ctx)).request_time).toBe('0.005 upstream=a');
  });

  it('apache accepts the option too; anything else is a config error', () => {
    const a = build({ type: 'apache', format: 'common', trailing: 'ignore' });
    expect(ok(a.parse('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0" 200 2326 "extra"', ctx))).toMatchObject({ status: 200 });
    const e = thrown(() => build({ type: 'nginx', trailing: 'yes' }));
    expect(e.message).toContain('expected one of "reject", "ignore", "keep", got "yes"');
    expect(e.place.path).toMatch(/trailing$/);
  });
});
