import { describe, expect, it } from 'vitest';
import type { Line } from '../../src/source/line.js';
import { CRI_FORMAT } from '../../parsers/cri.js';
import { DOCKER_FORMAT } from '../../parsers/docker.js';
import { createMultiline, type MultilineOptions } from '../../src/source/multiline.js';
import { frame, frameFixture } from './lines.js';

function run(opts: MultilineOptions, lines: Line[]): Line[] {
  const j = createMultiline(opts);
  const out: Line[] = [];
  for (const l of lines) out.push(...j.push(l, 0));
  out.push(...j.flush());
  return out;
}

function firstLines(out: Line[]): string[] {
  return out.map((l) => l.text.split('\n')[0] ?? '');
}

describe('multiline presets on real traces', () => {
  it('java: joins a Spring stack trace with Caused by / Suppressed / "... n more"', () => {
    const lines = frameFixture('java-stacktrace.log');
    const out = run({ preset: 'java' }, lines);
    expect(out).toHaveLength(3);
    expect(out[1]?.text.split('\n')).toHaveLength(14);
    expect(out[1]?.text).toContain('Caused by: org.postgresql.util.PSQLException');
    expect(out[1]?.text.endsWith('\t\tat com.zaxxer.hikari.pool.ProxyConnection.close(ProxyConnection.java:256)')).toBe(true);
    expect(out[1]?.start).toBe(lines[1]?.start);
    expect(out[1]?.end).toBe(lines[14]?.end);
    expect(out[2]?.text).toContain('Order 98765 failed');
  });

  it('python: joins chained tracebacks including the final exception lines', () => {
    const out = run({ preset: 'python' }, frameFixture('python-traceback.log'));
    expect(firstLines(out)).toEqual([
      '2025-03-12 08:15:02,101 INFO [billing.worker] charging invoice inv_1001',
      '2025-03-12 08:15:02,187 ERROR [billing.worker] charge failed for inv_1001',
      '2025-03-12 08:15:02,190 INFO [billing.worker] charging invoice inv_1002',
    ]);
    expect(out[1]?.text).toContain("KeyError: 'amount'\n\nDuring handling");
    expect(out[1]?.text.endsWith('billing.errors.ChargeFailed: invoice inv_1001 could not be charged')).toBe(true);
  });

  it('go: joins a panic with its goroutine dump and exit status', () => {
    const out = run({ preset: 'go' }, frameFixture('go-panic.log'));
    expect(firstLines(out)).toEqual(['2025/03/12 08:15:02 listening on :8080', '2025/03/12 08:15:03 GET /api/cart 200 1.2ms', 'panic: runtime error: index out of range [5] with length 3', '2025/03/12 08:15:09 listening on :8080']);
    expect(out[2]?.text.split('\n')).toHaveLength(10);
    expect(out[2]?.text.endsWith('exit status 2')).toBe(true);
  });

  it('timestamp: lines not starting with a timestamp continue the event', () => {
    const out = run({ preset: 'timestamp' }, frameFixture('java-stacktrace.log'));
    expect(out).toHaveLength(3);
    const py = run({ preset: 'timestamp' }, frameFixture('python-traceback.log'));
    expect(py).toHaveLength(3);
  });
});

describe('multiline pattern options (Filebeat semantics)', () => {
  const text = 'A1\n b\n c\nA2\nA3\n d\n';

  it('match after: matching lines join the line before', () => {
    expect(run({ pattern: '^\\s', match: 'after' }, frame(text)).map((l) => l.text)).toEqual(['A1\n b\n c', 'A2', 'A3\n d']);
  });

  it('negate: lines NOT matching join the line before', () => {
    expect(run({ pattern: '^A', negate: true }, frame(text)).map((l) => l.text)).toEqual(['A1\n b\n c', 'A2', 'A3\n d']);
  });

  it('match before: matching lines join the line after', () => {
    const t = 'a \\\nb \\\nc\nd\ne \\\nf\n';
    expect(run({ pattern: '\\\\$', match: 'before' }, frame(t)).map((l) => l.text)).toEqual(['a \\\nb \\\nc', 'd', 'e \\\nf']);
  });

  it('max_lines starts a new group', () => {
    const t = 'A\n1\n2\n3\n4\n5\n';
    expect(run({ pattern: '^\\d', max_lines: 3 }, frame(t)).map((l) => l.text)).toEqual(['A\n1\n2', '3\n4\n5']);
  });

  it('keeps byte ranges exact with multi-byte text and reports the held start', () => {
    const lines = frame('é1\n  ü\nX\n');
    const j = createMultiline({ pattern: '^\\s' });
    expect(j.push(lines[0] as Line, 0)).toEqual([]);
    expect(j.pendingStart()).toBe(0);
    expect(j.push(lines[1] as Line, 0)).toEqual([]);
    const [g] = j.push(lines[2] as Line, 0);
    expect(g).toEqual({ text: 'é1\n  ü', start: 0, end: 9, lines: 2 });
    expect(j.pendingStart()).toBe(9);
  });

  it('emits a group after timeout ms without a new line, not before', () => {
    const lines = frame('A\n b\n');
    const j = createMultiline({ pattern: '^\\s', timeout: 500 });
    j.push(lines[0] as Line, 1000);
    j.push(lines[1] as Line, 1200);
    expect(j.tick(1699)).toEqual([]);
    expect(j.tick(1700).map((l) => l.text)).toEqual(['A\n b']);
    expect(j.pendingStart()).toBeUndefined();
    expect(j.flush()).toEqual([]);
  });

  it('carries the truncated flag of any line into the group', () => {
    const j = createMultiline({ pattern: '^\\s' });
    j.push({ text: 'A', start: 0, end: 2 }, 0);
    j.push({ text: ' cut', start: 2, end: 100, truncated: true }, 0);
    expect(j.flush()[0]?.truncated).toBe(true);
  });

  it('rejects a bad pattern or a missing rule with the key path', () => {
    expect(() => createMultiline({ pattern: '(' }, 'pipelines[0].multiline')).toThrowError(expect.objectContaining({ code: 'TAILSHIP_CONFIG_INVALID', place: { path: 'pipelines[0].multiline.pattern' } }));
    expect(() => createMultiline({}, 'pipelines[0].multiline')).toThrowError(expect.objectContaining({ code: 'TAILSHIP_CONFIG_INVALID' }));
  });
});

describe('multiline inside container logs', () => {
  it('cri: tests the application text and re-renders one CRI line', async () => {
    const { buildParser } = await import('../../parsers/index.js');
    const lines = frameFixture('cri-java.log');
    const j = createMultiline({ preset: 'java' }, 'multiline', CRI_FORMAT);
    const out = [...lines.flatMap((l) => j.push(l, 0)), ...j.flush()];
    expect(out).toHaveLength(3);
    expect(out[1]?.start).toBe(lines[1]?.start);
    expect(out[1]?.end).toBe(lines[14]?.end);
    const p = buildParser({ type: 'cri', kubernetes_metadata: false }, { configDir: '.', keyPath: 'p' });
    const rec = p.parse(out[1]?.text ?? '', { file: 'x', offset: 0 }) as { message: string; time: string };
    expect(rec.time).toBe('2025-03-12T08:15:02.100000001Z');
    expect(rec.message.split('\n')).toHaveLength(14);
    expect(rec.message.split('\n')[2]).toBe('\tat org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:276)');
  });

  it('docker: tests the log text and re-renders one json-file line', async () => {
    const { buildParser } = await import('../../parsers/index.js');
    const lines = frameFixture('docker-java.log');
    const out = run({ preset: 'java' }, lines);
    expect(out).toHaveLength(lines.length); // without the codec every wrapped line starts an event
    const j = createMultiline({ preset: 'java' }, 'multiline', DOCKER_FORMAT);
    const grouped = [...lines.flatMap((l) => j.push(l, 0)), ...j.flush()];
    expect(grouped).toHaveLength(3);
    const p = buildParser({ type: 'docker' }, { configDir: '.', keyPath: 'p' });
    const rec = p.parse(grouped[1]?.text ?? '', { file: 'x', offset: 0 }) as { message: string; partial?: boolean };
    expect(rec.message.split('\n')).toHaveLength(14);
    expect(rec.partial).toBeUndefined();
  });
});

describe('multiline memory bound', () => {
  it('starts a new group once max_chars would be passed', () => {
    const t = `A\n ${'x'.repeat(10)}\n ${'y'.repeat(10)}\n ${'z'.repeat(10)}\n`;
    expect(run({ pattern: '^\\s', max_chars: 25 }, frame(t)).map((l) => l.text.length)).toEqual([1 + 1 + 11 + 1 + 11, 11]);
  });
});

describe('multiline properties', () => {
  it('keeps every line once, in order, in contiguous ranges, and pendingStart is the first unemitted line', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.stringMatching(/^[a-z]{0,6}$/)), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<'after' | 'before'>('after', 'before'),
        (spec, maxLines, match) => {
          const texts = spec.map(([indent, t]) => (indent ? ` ${t}` : `A${t}`));
          const lines = frame(`${texts.join('\n')}\n`);
          const j = createMultiline({ pattern: '^\\s', match, max_lines: maxLines });
          const out: Line[] = [];
          let emittedLines = 0;
          for (const l of lines) {
            for (const g of j.push(l, 0)) {
              out.push(g);
              emittedLines += g.text.split('\n').length;
            }
            const held = j.pendingStart();
            expect(held).toBe(emittedLines < lines.indexOf(l) + 1 ? lines[emittedLines]?.start : undefined);
          }
          out.push(...j.flush());
          expect(j.pendingStart()).toBeUndefined();
          expect(out.flatMap((g) => g.text.split('\n'))).toEqual(texts);
          expect(out[0]?.start).toBe(0);
          expect(out[out.length - 1]?.end).toBe(lines[lines.length - 1]?.end);
          for (let i = 1; i < out.length; i++) expect(out[i]?.start).toBe(out[i - 1]?.end);
          for (const g of out) expect(g.text.split('\n').length).toBeLessThanOrEqual(maxLines);
        },
      ),
      { numRuns: 500 },
    );
  });
});
