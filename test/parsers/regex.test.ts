import { describe, expect, it } from 'vitest';
import { build, ctx, fail, fixtureLines, ok, thrown } from './helpers.js';

describe('regex', () => {
  const pattern = '^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>[A-Z]+) (?<path>\\S+)[^"]*" (?<status>\\d{3}) (?<bytes>\\d+|-)(?: "(?<referer>[^"]*)")?';
  const p = build({ type: 'regex', pattern, types: { status: 'int' } });

  it('turns named groups into fields, with types', () => {
    const [line] = fixtureLines('apache-combined.log');
    expect(ok(p.parse(line ?? '', ctx))).toEqual({ ip: '192.168.1.20', user: '-', time: '05/Mar/2025:10:12:44 +0100', method: 'GET', path: '/index.html', status: 200, bytes: '10442', referer: '-' });
  });

  it('leaves groups that did not take part absent', () => {
    const r = ok(p.parse('1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5', ctx));
    expect(r).not.toHaveProperty('referer');
  });

  it('accepts (?P<name>) and flags', () => {
    const q = build({ type: 'regex', pattern: 'level=(?P<level>\\w+)', flags: 'i', types: { level: 'string' } });
    expect(ok(q.parse('LEVEL=warn', ctx))).toEqual({ level: 'warn' });
  });

  it('reports a mismatch and a failed conversion', () => {
    expect(fail(p.parse('garbage', ctx)).reason).toMatch(/^line does not match pattern \//);
    const q = build({ type: 'regex', pattern: '^(?<n>\\w+)$', types: { n: 'float' } });
    expect(fail(q.parse('abc', ctx)).reason).toBe('field "n": expected a number, got "abc"');
  });

  it('validates the pattern at construction', () => {
    expect(thrown(() => build({ type: 'regex', pattern: '(?<a>[' })).message).toContain('invalid regular expression');
    expect(thrown(() => build({ type: 'regex', pattern: '(\\d+)' })).message).toContain('no named groups');
    expect(thrown(() => build({ type: 'regex', pattern: '(?<a>x)', types: { b: 'int' } })).place.path).toBe('pipelines[0].parser.types.b');
    expect(thrown(() => build({ type: 'regex' })).place.path).toBe('pipelines[0].parser.pattern');
    expect(thrown(() => build({ type: 'regex', pattern: '(?<a>x)', flags: 'g' })).place.path).toBe('pipelines[0].parser.flags');
  });
});
