/**
 * Contract suite: every registered parser, on arbitrary input, returns a plain record or a
 * ParseError, never throws, and stays fast on long and adversarial lines. A parser registered
 * without a sample section here fails the first test, so new parsers join the suite.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildParser, parserNames } from '../../parsers/index.js';
import { ParseError, type Parser } from '../../parsers/types.js';
import { fixtureLines, fixturesDir } from './helpers.js';

/** A representative configuration per parser, and fixture lines to mutate. */
const SAMPLES: Record<string, { sections: Array<Record<string, unknown>>; fixtures: string[] }> = {
  nginx: {
    sections: [
      { format: 'combined' },
      { format: 'main' },
      { format: '$remote_addr [$time_local] "$request" $status $request_time urt="$upstream_response_time" ua="$upstream_addr" $host' },
      { format: '{"a":"$remote_addr","r":"$request","s":$status}', escape: 'json' },
    ],
    fixtures: ['nginx-combined.log', 'nginx-main.log', 'nginx-upstream.log', 'nginx-json.log'],
  },
  apache: { sections: [{ format: 'combined' }, { format: 'vhost_combined' }, { format: '%a %t "%r" %>s %D "%{User-Agent}i"' }], fixtures: ['apache-combined.log', 'apache-vhost.log'] },
  json: { sections: [{}, { message_key: 'msg', message_parser: { type: 'logfmt' } }], fixtures: ['app-json.log'] },
  regex: { sections: [{ pattern: '^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<req>[^"]*)" (?<status>\\d+)', types: { status: 'int' } }], fixtures: ['apache-combined.log'] },
  grok: {
    sections: [{ pattern: '%{COMBINEDAPACHELOG}' }, { pattern: '%{SYSLOGLINE}' }, { patterns: ['^%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{GREEDYDATA:msg}$', '^%{IP:ip} %{NUMBER:n:float}'] }],
    fixtures: ['apache-combined.log', 'syslog-3164.log', 'java-stacktrace.log'],
  },
  logfmt: { sections: [{}, { infer_types: false, types: { status: 'int' } }], fixtures: ['go-logfmt.log'] },
  syslog: { sections: [{}, { rfc: '5424' }, { rfc: '3164' }], fixtures: ['syslog-3164.log', 'syslog-5424.log'] },
  csv: { sections: [{ columns: ['time', 'user_id', 'event', 'order_id', 'total', 'company', 'note'], types: { order_id: 'int' } }], fixtures: ['orders.csv'] },
  tsv: { sections: [{ columns: ['time', 'user_id', 'event', 'detail'] }], fixtures: ['events.tsv'] },
  docker: { sections: [{}, { message_parser: { type: 'json' } }], fixtures: ['docker-json.log'] },
  cri: { sections: [{}, { message_parser: { type: 'json' }, on_message_error: 'fail' }], fixtures: ['cri.log'] },
};

const ctx = { file: `/var/log/containers/web-1_prod_app-${'0'.repeat(64)}.log`, offset: 0 };

function isPlainRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function checkResult(p: Parser, line: string): void {
  const r = p.parse(line, ctx);
  if (r instanceof ParseError) {
    expect(typeof r.reason).toBe('string');
    expect(r.reason.length).toBeGreaterThan(0);
    if (r.column !== undefined) expect(r.column).toBeGreaterThanOrEqual(1);
  } else {
    expect(isPlainRecord(r)).toBe(true);
    // records must survive the queue's serialisation
    expect(() => JSON.stringify(r)).not.toThrow();
  }
}

/** Random bytes decoded as the framer does: invalid UTF-8 becomes U+FFFD. */
const replacedUtf8 = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8'));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), replacedUtf8, fc.string({ unit: fc.constantFrom('"', '\\', ' ', '[', ']', '-', '=', ':', ',', '\t', '<', '>', '{', '}', 'a', '1', '%', '?', '&'), maxLength: 300 }));

/** A fixture line damaged at a random place: truncated, with text inserted, or a character replaced. */
function mutated(lines: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...lines), fc.nat(), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('cut', 'insert', 'replace'))
    .map(([line, pos, ins, op]) => {
      const i = pos % (line.length + 1);
      if (op === 'cut') return line.slice(0, i);
      if (op === 'insert') return line.slice(0, i) + ins + line.slice(i);
      return line.slice(0, i) + ins + line.slice(i + 1);
    });
}

function adversarial(lines: string[]): string[] {
  const n = 1 << 20; // the framer's default max_line_bytes
  const first = lines[0] ?? '';
  return [
    'a'.repeat(n),
    ' '.repeat(n),
    '"'.repeat(n >> 2),
    '\\'.repeat(n >> 2),
    '- '.repeat(n >> 2),
    '[a'.repeat(n >> 2),
    'a.'.repeat(n >> 2),
    '1.'.repeat(n >> 2),
    'k=v '.repeat(n >> 3),
    '\uFFFD'.repeat(n >> 2),
    first + 'x'.repeat(n),
    first.slice(0, -1).repeat(Math.max(1, Math.floor(n / Math.max(1, first.length)))),
    `${first.slice(0, first.length >> 1)}${' '.repeat(n >> 2)}`,
  ];
}

describe('parser contract', () => {
  it('every registered parser has a contract sample', () => {
    expect(parserNames().filter((n) => !(n in SAMPLES))).toEqual([]);
  });

  for (const [name, sample] of Object.entries(SAMPLES)) {
    describe(name, () => {
      const parsers = sample.sections.map((s) => buildParser({ type: name, ...s }, { configDir: fixturesDir, keyPath: `contract.${name}` }));
      const lines = sample.fixtures.flatMap((f) => fixtureLines(f));

      it('parses its fixtures without throwing', () => {
        for (const p of parsers) for (const l of lines) checkResult(p, l);
      });

      it('never throws on arbitrary text, random bytes or damaged fixture lines', () => {
        fc.assert(
          fc.property(fc.oneof(anyText, mutated(lines)), (line) => {
            for (const p of parsers) checkResult(p, line);
          }),
          { numRuns: 300 },
        );
      });

      it('returns within bounded time on 1 MiB and adversarial lines', () => {
        for (const p of parsers) {
          for (const line of adversarial(lines)) {
            const t0 = performance.now();
            checkResult(p, line);
            const ms = performance.now() - t0;
            expect(ms, `${name} on ${JSON.stringify(line.slice(0, 20))}… (${line.length} chars)`).toBeLessThan(10_000); // linear work takes ~300 ms at most on an idle core (more on a loaded CI box); quadratic backtracking takes minutes
          }
        }
      });
    });
  }
});
