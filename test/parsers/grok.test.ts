import { describe, expect, it } from 'vitest';
import { compileGrok } from '../../parsers/grok.js';
import { GROK_PATTERNS } from '../../parsers/grok-patterns.js';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('grok', () => {
  it('parses apache combined lines with COMBINEDAPACHELOG', () => {
    const p = build({ type: 'grok', pattern: '^%{COMBINEDAPACHELOG}$', types: { response: 'int' } });
    const lines = fixtureLines('apache-combined.log');
    expect(ok(p.parse(lines[1] ?? '', ctx))).toEqual({
      clientip: '192.168.1.21',
      ident: '-',
      auth: 'frank',
      timestamp: '05/Mar/2025:10:12:45 +0100',
      verb: 'GET',
      request: '/wiki/Special:Search?search=apache+httpd&go=Go',
      httpversion: '1.1',
      response: 200,
      bytes: '2326',
      referrer: '"http://intranet.example.com/wiki/Main_Page"',
      agent: '"Mozilla/5.0 (compatible; MSIE 9.0; \\"quoted\\" Windows NT 6.1)"',
    });
    const nginx = fixtureLines('nginx-combined.log');
    expect(ok(p.parse(nginx[3] ?? '', ctx))).toMatchObject({ clientip: '2001:db8::1', verb: 'HEAD', response: 304 });
  });

  it('parses syslog lines with SYSLOGLINE', () => {
    const p = build({ type: 'grok', pattern: '%{SYSLOGLINE}', types: { pid: 'int' } });
    const lines = fixtureLines('syslog-3164.log');
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      timestamp: 'Mar  5 14:22:01',
      logsource: 'web1',
      program: 'sshd',
      pid: 2211,
      message: 'Accepted publickey for deploy from 198.51.100.10 port 52144 ssh2: ED25519 SHA256:Xq3mZ',
    });
  });

  it('converts :int and :float, nests [a][b], and uses user pattern_definitions', () => {
    const p = build({
      type: 'grok',
      pattern: '^%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} \\[%{APPTHREAD:thread}\\] took=%{NUMBER:[timing][ms]:float}ms n=%{INT:n:int} id=%{UUID:id}$',
      pattern_definitions: { APPTHREAD: '[\\w-]+' },
    });
    expect(ok(p.parse('2025-03-12T08:15:02.123+01:00 WARN [http-nio-8080-exec-3] took=12.5ms n=-3 id=3f2b8c1e-9d4a-4e7b-8c21-5a6f7e8d9c0b', ctx))).toEqual({
      ts: '2025-03-12T08:15:02.123+01:00',
      level: 'WARN',
      thread: 'http-nio-8080-exec-3',
      timing: { ms: 12.5 },
      n: -3,
      id: '3f2b8c1e-9d4a-4e7b-8c21-5a6f7e8d9c0b',
    });
  });

  it('tries patterns in order and reports when none matches', () => {
    const p = build({ type: 'grok', patterns: ['^%{IP:ip} %{WORD:verb}$', '^%{HOSTNAME:host} %{WORD:verb}$'] });
    expect(ok(p.parse('10.0.0.1 GET', ctx))).toEqual({ ip: '10.0.0.1', verb: 'GET' });
    expect(ok(p.parse('web-1.example.com GET', ctx))).toEqual({ host: 'web-1.example.com', verb: 'GET' });
    expect(fail(p.parse('!!', ctx)).reason).toBe('line does not match any of 2 grok patterns');
  });

  it('fails a typed field that does not convert', () => {
    const p = build({ type: 'grok', pattern: '^%{NOTSPACE:n:int}$' });
    expect(fail(p.parse('12x', ctx)).reason).toBe('field "n": expected an integer, got "12x"');
  });

  it('matches the building blocks on typical values', () => {
    const cases: Array<[string, string, boolean]> = [
      ['IPV4', '192.168.0.1', true],
      ['IPV4', '256.1.1.1', false],
      ['IPV6', 'fe80::1ff:fe23:4567:890a', true],
      ['IPV6', '::ffff:192.0.2.128', true],
      ['HTTPDATE', '10/Oct/2000:13:55:36 -0700', true],
      ['TIMESTAMP_ISO8601', '2025-03-12 08:15:02,123', true],
      ['SYSLOGTIMESTAMP', 'Mar  5 14:22:01', true],
      ['URI', 'https://user:pw@example.com:8443/a/b?c=d&e=f', true],
      ['EMAILADDRESS', 'jane.doe+tag@example.co.uk', true],
      ['MAC', '00:1A:2b:3C:4d:5E', true],
      ['NUMBER', '-12.5', true],
      ['LOGLEVEL', 'Information', true],
    ];
    for (const [name, value, matches] of cases) {
      const { re } = compileGrok(`^%{${name}}$`, GROK_PATTERNS, new Map());
      expect(re.test(value), `${name} on ${value}`).toBe(matches);
    }
  });

  it('compiles every library pattern', () => {
    for (const name of Object.keys(GROK_PATTERNS)) expect(() => compileGrok(`%{${name}}`, GROK_PATTERNS, new Map())).not.toThrow();
  });

  it('rejects unknown and recursive patterns at construction', () => {
    const e = thrown(() => build({ type: 'grok', pattern: '%{NOPE:x}' }));
    expect(e.code).toBe('TAILSHIP_PARSER_OPTIONS');
    expect(e.place.path).toBe('pipelines[0].parser.pattern');
    expect(e.message).toContain('unknown grok pattern %{NOPE}');
    expect(thrown(() => build({ type: 'grok', patterns: ['%{A}'], pattern_definitions: { A: '%{B}', B: '%{A}' } })).message).toContain('refers to itself');
    expect(thrown(() => build({ type: 'grok', pattern: '%{INT:x:decimal}' })).message).toContain('unknown type "decimal"');
    expect(thrown(() => build({ type: 'grok' })).place.path).toBe('pipelines[0].parser.pattern');
  });
});
