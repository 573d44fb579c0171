import { describe, expect, it } from 'vitest';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('syslog RFC 3164', () => {
  const p = build({ type: 'syslog' });
  const lines = fixtureLines('syslog-3164.log');

  it('parses file lines without PRI', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      timestamp: 'Mar  5 14:22:01',
      hostname: 'web1',
      app_name: 'sshd',
      procid: 2211,
      message: 'Accepted publickey for deploy from 198.51.100.10 port 52144 ssh2: ED25519 SHA256:Xq3mZ',
    });
    expect(ok(p.parse(lines[3] ?? '', ctx))).toMatchObject({ app_name: 'kernel', message: '[1234567.891011] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.' });
    expect(ok(p.parse(lines[3] ?? '', ctx))).not.toHaveProperty('procid');
  });

  it('decodes PRI into facility and severity', () => {
    expect(ok(p.parse(lines[4] ?? '', ctx))).toMatchObject({ priority: 34, facility: 4, facility_name: 'auth', severity: 2, severity_name: 'crit', hostname: 'mymachine', app_name: 'su' });
  });

  it('keeps a message without a tag whole', () => {
    const r = ok(p.parse(lines[5] ?? '', ctx));
    expect(r).toMatchObject({ hostname: '10.0.0.99', message: 'Use the BFG!' });
    expect(r).not.toHaveProperty('app_name');
  });

  it('accepts RFC 3339 timestamps (rsyslog high precision)', () => {
    expect(ok(p.parse(lines[6] ?? '', ctx))).toMatchObject({ timestamp: '2025-03-05T14:22:01.123456+01:00', hostname: 'web2', app_name: 'nginx', procid: 812 });
  });

  it('fails on a line with no PRI and no timestamp', () => {
    expect(fail(p.parse('hello world', ctx)).reason).toContain('expected a timestamp');
  });
});

describe('syslog RFC 5424', () => {
  const p = build({ type: 'syslog' });
  const lines = fixtureLines('syslog-5424.log');

  it('parses structured data', () => {
    expect(ok(p.parse(lines[0] ?? '', ctx))).toEqual({
      priority: 165,
      facility: 20,
      facility_name: 'local4',
      severity: 5,
      severity_name: 'notice',
      version: 1,
      timestamp: '2003-10-11T22:14:15.003Z',
      hostname: 'mymachine.example.com',
      app_name: 'evntslog',
      msgid: 'ID47',
      structured_data: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' }, 'examplePriority@32473': { class: 'high' } },
      message: 'An application event log entry...',
    });
  });

  it('strips the BOM, keeps nil fields absent and escapes in SD values', () => {
    const r1 = ok(p.parse(lines[1] ?? '', ctx));
    expect(r1.message).toBe("'su root' failed for lonvick on /dev/pts/8");
    expect(r1).not.toHaveProperty('procid');
    expect(r1).not.toHaveProperty('structured_data');
    expect(ok(p.parse(lines[2] ?? '', ctx))).toMatchObject({ procid: 8710, hostname: '192.0.2.1', timestamp: '2003-08-24T05:14:15.000003-07:00' });
    expect(ok(p.parse(lines[3] ?? '', ctx))).toMatchObject({ structured_data: { 'meta@41058': { user: 'u_17', note: 'say "hi" \\ [ok]' } }, message: 'charge captured', msgid: 'PAY' });
    expect(ok(p.parse(lines[4] ?? '', ctx))).toEqual({ priority: 14, facility: 1, facility_name: 'user', severity: 6, severity_name: 'info', version: 1 });
  });

  it('reports broken structured data with a column', () => {
    const e = fail(p.parse('<14>1 - h a - - [x@1 k="v" bad] msg', ctx));
    expect(e.reason).toContain('expected name="value" in structured data "x@1"');
    expect(e.column).toBe(28);
    expect(fail(p.parse('<14>1 - h a - - [x@1 k="v', ctx)).reason).toContain('unterminated value of "k"');
    expect(fail(p.parse('<999>1 - - - - - -', ctx)).reason).toContain('out of range');
  });

  it('rfc: 5424 refuses BSD lines', () => {
    const strict = build({ type: 'syslog', rfc: '5424' });
    expect(fail(strict.parse(fixtureLines('syslog-3164.log')[4] ?? '', ctx)).reason).toContain('RFC 5424');
    expect(thrown(() => build({ type: 'syslog', rfc: '3339' })).place.path).toBe('pipelines[0].parser.rfc');
  });
});
