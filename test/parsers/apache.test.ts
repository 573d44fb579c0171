import { describe, expect, it } from 'vitest';
import { normalizeApacheFormat } from '../../parsers/apache.js';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('apache', () => {
  const p = build({ type: 'apache' });
  const lines = fixtureLines('apache-combined.log');

  it('parses combined with nginx-style names', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      remote_host: '192.168.1.20',
      time: '05/Mar/2025:10:12:44 +0100',
      request: 'GET /index.html HTTP/1.1',
      request_method: 'GET',
      request_path: '/index.html',
      request_protocol: 'HTTP/1.1',
      status: 200,
      body_bytes_sent: 10442,
      http_user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0',
    });
  });

  it('undoes Apache escapes and decodes the query', () => {
    const r = ok(p.parse(lines[1] ?? '', ctx));
    expect(r).toMatchObject({ remote_user: 'frank', query: { search: 'apache httpd', go: 'Go' }, http_referer: 'http://intranet.example.com/wiki/Main_Page' });
    expect(r.http_user_agent).toBe('Mozilla/5.0 (compatible; MSIE 9.0; "quoted" Windows NT 6.1)');
    const r3 = ok(p.parse(lines[3] ?? '', ctx));
    expect(r3.request_path).toBe('/café\\menu');
  });

  it('treats %b "-" as absent', () => {
    const r = ok(p.parse(lines[2] ?? '', ctx));
    expect(r.status).toBe(500);
    expect(r).not.toHaveProperty('body_bytes_sent');
  });

  it('parses common lines with format: common, and not with combined', () => {
    const common = build({ type: 'apache', format: 'common' });
    const line = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
    expect(ok(common.parse(line, ctx))).toMatchObject({ remote_user: 'frank', status: 200, body_bytes_sent: 2326 });
    const e = fail(p.parse(line, ctx));
    expect(e.reason).toContain('expected " \\""');
    expect(e.column).toBe(line.length + 1);
  });

  it('parses vhost_combined', () => {
    const v = build({ type: 'apache', format: 'vhost_combined' });
    const [a] = fixtureLines('apache-vhost.log');
    expect(ok(v.parse(a ?? '', ctx))).toMatchObject({ server_name: 'www.example.com', server_port: 443, remote_host: '203.0.113.5', bytes_sent: 312, http_user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
  });

  it('accepts a pasted LogFormat line with timing and headers', () => {
    const fmt = 'LogFormat "%a %l %u %t \\"%r\\" %>s %B %D %{ms}T \\"%{X-Request-Id}i\\" %{Content-Type}o %{sessionid}C" timed';
    expect(normalizeApacheFormat(fmt)).toBe('%a %l %u %t "%r" %>s %B %D %{ms}T "%{X-Request-Id}i" %{Content-Type}o %{sessionid}C');
    const t = build({ type: 'apache', format: fmt });
    const r = ok(t.parse('10.0.0.1 - - [05/Mar/2025:10:12:44 +0100] "GET / HTTP/1.1" 200 0 1532 2 "abc-123" text/html s3cr3t', ctx));
    expect(r).toMatchObject({ remote_addr: '10.0.0.1', body_bytes_sent: 0, request_time_us: 1532, request_time_ms: 2, http_x_request_id: 'abc-123', sent_http_content_type: 'text/html', cookie_sessionid: 's3cr3t' });
  });

  it('rejects an unknown directive with its column', () => {
    const e = thrown(() => build({ type: 'apache', format: '%h %Q' }));
    expect(e.code).toBe('TAILSHIP_PARSER_OPTIONS');
    expect(e.place.path).toBe('pipelines[0].parser.format');
    expect(e.message).toContain('column 4');
  });
});
