import { describe, expect, it } from 'vitest';
import { CRI_FORMAT } from '../../parsers/cri.js';
import { DOCKER_FORMAT } from '../../parsers/docker.js';
import { buildParser } from '../../parsers/index.js';
import { ParseError, type LogRecord } from '../../parsers/types.js';
import type { Line } from '../../src/source/line.js';
import { createPartialJoiner } from '../../src/source/partial-join.js';
import { fixturesDir, frame, frameFixture } from './lines.js';

const podFile = `/var/log/containers/shop-api-7d9f8b6c5-x2kqz_prod_api-${'ab12'.repeat(16)}.log`;

function parseAll(type: 'cri' | 'docker', lines: Line[]): LogRecord[] {
  const p = buildParser({ type, message_parser: { type: 'json' } }, { configDir: fixturesDir, keyPath: 'p' });
  return lines.map((l) => {
    const r = p.parse(l.text, { file: podFile, offset: l.end });
    if (r instanceof ParseError) throw new Error(r.reason);
    return r;
  });
}

describe('CRI partial join', () => {
  const lines = frameFixture('cri.log');

  it('joins P pieces per stream into one F line the cri parser reads', () => {
    const j = createPartialJoiner({ format: CRI_FORMAT });
    const out: Line[] = [];
    for (const l of lines) out.push(...j.push(l, 0));
    expect(j.pendingStart()).toBeUndefined();
    expect(out).toHaveLength(5);
    // the stderr line passes while stdout is still open: outputs are not in input order
    expect(out[1]).toEqual(lines[2]);
    const joined = out[2] as Line;
    expect(joined.start).toBe((lines[1] as Line).start);
    expect(joined.end).toBe((lines[4] as Line).end);
    expect(joined.text).toBe('2025-03-12T08:15:02.200000001+00:00 stdout F {"level":"info","msg":"big payload","data":"AAAABBBBCCCC"}');
    const recs = parseAll('cri', out);
    expect(recs[2]).toMatchObject({ level: 'info', msg: 'big payload', data: 'AAAABBBBCCCC', stream: 'stdout', time: '2025-03-12T08:15:02.200000001+00:00' });
    expect(recs[2]).not.toHaveProperty('partial');
    expect(recs[0]?.kubernetes).toEqual({ pod_name: 'shop-api-7d9f8b6c5-x2kqz', namespace_name: 'prod', container_name: 'api', container_id: 'ab12'.repeat(16) });
  });

  it('holds the offset back at the first piece until the line is complete', () => {
    const j = createPartialJoiner({ format: CRI_FORMAT });
    j.push(lines[0] as Line, 0);
    expect(j.pendingStart()).toBeUndefined();
    j.push(lines[1] as Line, 0);
    expect(j.pendingStart()).toBe((lines[1] as Line).start);
    j.push(lines[2] as Line, 0);
    j.push(lines[3] as Line, 0);
    expect(j.pendingStart()).toBe((lines[1] as Line).start);
    j.push(lines[4] as Line, 0);
    expect(j.pendingStart()).toBeUndefined();
  });

  it('emits an unfinished line after the timeout, still marked partial', () => {
    const j = createPartialJoiner({ format: CRI_FORMAT, timeoutMs: 1000 });
    j.push(lines[1] as Line, 100);
    j.push(lines[3] as Line, 200);
    expect(j.tick(1199)).toEqual([]);
    const [out] = j.tick(1200);
    expect(out?.text).toBe('2025-03-12T08:15:02.200000001+00:00 stdout P {"level":"info","msg":"big payload","data":"AAAABBBB');
    expect(j.pendingStart()).toBeUndefined();
    const rec = parseAll('cri', [out as Line])[0];
    expect(rec).toMatchObject({ partial: true, logtag: 'P' });
  });

  it('cuts a line at maxChars and flags it truncated', () => {
    const j = createPartialJoiner({ format: CRI_FORMAT, maxChars: 40 });
    const out = [...j.push(lines[1] as Line, 0), ...j.push(lines[3] as Line, 0), ...j.push(lines[4] as Line, 0)];
    expect(out.map((l) => [l.text.slice(43), l.truncated === true])).toEqual([
      ['P {"level":"info","msg":"big payload","data":"AAAA', true],
      ['F BBBBCCCC"}', false],
    ]);
    expect(j.pendingStart()).toBeUndefined();
  });

  it('passes lines that are not CRI through for the parser to report', () => {
    const j = createPartialJoiner({ format: CRI_FORMAT });
    const l = { text: 'garbage', start: 0, end: 8 };
    expect(j.push(l, 0)).toEqual([l]);
  });
});

describe('Docker partial join', () => {
  const lines = frameFixture('docker-json.log');

  it('joins pieces without a trailing newline into one json-file line', () => {
    const j = createPartialJoiner({ format: DOCKER_FORMAT });
    const out: Line[] = [];
    for (const l of lines) out.push(...j.push(l, 0));
    expect(out).toHaveLength(4);
    expect(out[2]?.start).toBe(lines[1]?.start);
    expect(out[2]?.end).toBe(lines[4]?.end);
    const recs = parseAll('docker', out);
    expect(recs[0]).toMatchObject({ level: 'info', msg: 'server started', port: 8080, stream: 'stdout' });
    expect(recs[1]).toMatchObject({ message: 'WARNING: deprecated flag --legacy', stream: 'stderr' });
    expect(recs[2]).toMatchObject({ msg: 'big payload', data: 'AAAABBBBCCCC', time: '2025-03-12T08:15:02.200000001Z' });
    expect(recs[3]).toMatchObject({ message: 'plain text line', attrs: { tag: 'web' } });
  });

  it('flushes what it holds, ordered by start', () => {
    const j = createPartialJoiner({ format: DOCKER_FORMAT });
    j.push(lines[1] as Line, 0);
    const out = j.flush();
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]?.text ?? '')).toEqual({ log: '{"level":"info","msg":"big payload","data":"AAAA', stream: 'stdout', time: '2025-03-12T08:15:02.200000001Z' });
    expect(j.pendingStart()).toBeUndefined();
  });
});

describe('partial join properties', () => {
  it('rebuilds every logical line per stream, and never lets the safe offset pass an unfinished line', async () => {
    const fc = (await import('fast-check')).default;
    const logical = fc.record({ stream: fc.constantFrom('stdout', 'stderr'), pieces: fc.array(fc.stringMatching(/^[a-z{}":, ]{0,8}$/), { minLength: 1, maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(logical, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 80 }), fc.constantFrom<'cri' | 'docker'>('cri', 'docker'), (msgs, order, format) => {
        // Interleave the pieces of different streams (pieces of one stream stay in order).
        const queues = { stdout: [] as string[][], stderr: [] as string[][] };
        for (const m of msgs) queues[m.stream as 'stdout' | 'stderr'].push(m.pieces);
        const rendered: string[] = [];
        const streamsLeft = (): Array<'stdout' | 'stderr'> => (['stdout', 'stderr'] as const).filter((s) => queues[s].length > 0);
        let k = 0;
        const current: Record<string, string[] | undefined> = {};
        while (streamsLeft().length > 0 || current.stdout?.length || current.stderr?.length) {
          const live = (['stdout', 'stderr'] as const).filter((s) => (current[s]?.length ?? 0) > 0 || queues[s].length > 0);
          const s = live[(order[k++] ?? 0) % live.length] as 'stdout' | 'stderr';
          if (!current[s]?.length) current[s] = [...(queues[s].shift() ?? [])];
          const piece = (current[s] as string[]).shift() as string;
          const last = (current[s] as string[]).length === 0;
          const time = `2025-03-12T08:15:02.${String(rendered.length).padStart(9, '0')}Z`;
          rendered.push(format === 'cri' ? `${time} ${s} ${last ? 'F' : 'P'} ${piece}` : JSON.stringify({ log: last ? `${piece}\n` : piece, stream: s, time }));
        }
        const lines = frame(`${rendered.join('\n')}\n`);
        const j = createPartialJoiner({ format: format === 'cri' ? CRI_FORMAT : DOCKER_FORMAT });
        const out: Line[] = [];
        const covered = new Set<number>();
        for (const l of lines) {
          for (const o of j.push(l, 0)) {
            out.push(o);
            for (const x of lines) if (x.start >= o.start && x.end <= o.end) covered.add(x.start);
          }
          // everything before the safe offset has been emitted (covered by some output range)
          const safe = j.pendingStart() ?? l.end;
          for (const x of lines) if (x.end <= safe && x.start <= l.start) expect(covered.has(x.start) || out.some((o) => o.start <= x.start && x.end <= o.end)).toBe(true);
        }
        out.push(...j.flush());
        expect(j.pendingStart()).toBeUndefined();
        const got = { stdout: [] as string[], stderr: [] as string[] };
        for (const rec of parseAllPlain(format, out)) got[rec.stream as 'stdout' | 'stderr'].push(rec.message as string);
        expect(got.stdout).toEqual(msgs.filter((m) => m.stream === 'stdout').map((m) => m.pieces.join('')));
        expect(got.stderr).toEqual(msgs.filter((m) => m.stream === 'stderr').map((m) => m.pieces.join('')));
      }),
      { numRuns: 300 },
    );
  });
});

function parseAllPlain(type: 'cri' | 'docker', lines: Line[]): LogRecord[] {
  const p = buildParser({ type }, { configDir: fixturesDir, keyPath: 'p' });
  return lines.map((l) => {
    const r = p.parse(l.text, { file: '/x.log', offset: l.end });
    if (r instanceof ParseError) throw new Error(r.reason);
    return r;
  });
}
