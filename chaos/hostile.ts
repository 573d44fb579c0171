/**
 * The hostile-input scenario: files for several built-in parsers, each mixing good lines (which
 * carry an id and must all arrive) with hostile ones: random bytes, invalid UTF-8, NULs,
 * CR-only endings, lines of 1–8 MiB, JSON nested 10,000 deep, numbers of thousands of digits,
 * broken quotes, 50,000 keys. Checks that the daemon never exits, every good line arrives, lines
 * read = the lines written and the accounting closes for every file, and peak RSS stays under
 * 150 MiB.
 */
import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { deployedEnvironment } from '../bench/node-options.js';
import { runTailship } from './run-cli.js';
import { ChaosCollector } from './collector.js';
import { config, DaemonProcess, figures, waitUntil, Workspace, type Figures } from './harness.js';
import type { ChaosOptions } from './scenarios.js';

const RSS_LIMIT_MIB = 150;

interface ParserCase {
  name: string;
  parser: string;
  /** The record field that holds a good line's id. */
  idField: string;
  good: (id: string) => string;
}

const TIME = '2026-12-04T17:00:00.000000000Z';
const CASES: ParserCase[] = [
  { name: 'json', parser: '{ type: json }', idField: 'id', good: (id) => `{"id":"${id}","level":"info"}` },
  { name: 'logfmt', parser: '{ type: logfmt }', idField: 'id', good: (id) => `level=info id=${id} msg="ok"` },
  { name: 'csv', parser: '{ type: csv, columns: [id, level, msg] }', idField: 'id', good: (id) => `${id},info,"ok, fine"` },
  { name: 'regex', parser: "{ type: regex, pattern: '^(?<id>\\S+) (?<msg>.*)$' }", idField: 'id', good: (id) => `${id} all is well` },
  { name: 'syslog', parser: '{ type: syslog }', idField: 'message', good: (id) => `<13>Dec  4 17:00:00 host app[12]: ${id}` },
  { name: 'cri', parser: '{ type: cri }', idField: 'message', good: (id) => `${TIME} stdout F ${id}` },
  { name: 'docker', parser: '{ type: docker }', idField: 'message', good: (id) => JSON.stringify({ log: `${id}\n`, stream: 'stdout', time: TIME }) },
];

/** A small deterministic PRNG (mulberry32): the same run writes the same files. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEEP = Buffer.from('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
const MANY_KEYS = Buffer.from(`{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`);
const NUMBERS = Buffer.from(`{"id":${'9'.repeat(4000)},"n":1e999999,"m":-${'1'.repeat(400)}.5e-99999} id=${'7'.repeat(3000)}`);
const CHEAP: ReadonlyArray<(rand: () => number) => Buffer> = [
  (rand) => {
    const b = Buffer.alloc(1 + Math.floor(rand() * 300));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x20;
    return b;
  },
  () => Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0xed, 0xa0, 0x80]),
  () => Buffer.from('{"id":"x\u0000y","n":\u0000}\u0000\u0000'),
  () => Buffer.from('{"a":1}\r{"b":2}\rlevel=info id=cr\r'),
  () => NUMBERS,
  () => Buffer.from('{"id":"unterminated, "level":info} "quoted "" broken","a,b" level="open id='),
  () => Buffer.from('{"id":"' + 'z'.repeat(5000)),
];

/** Writes one parser's file; returns its line count (newlines) and good lines. */
function writeFile(file: string, c: ParserCase, lines: number, rare: { deep: number; keys: number; big: number }, seed: number): { lines: number; good: number } {
  const rand = prng(seed);
  const fd = openSync(file, 'w');
  let good = 0;
  // The costly kinds (a JSON line nested 10,000 deep, 50,000 keys, 1–8 MiB) at random places.
  const at = new Map<number, () => Buffer>();
  const place = (n: number, make: () => Buffer): void => {
    for (let k = 0; k < n; k++) at.set(Math.floor(rand() * lines), make);
  };
  place(rare.deep, () => DEEP);
  place(rare.keys, () => MANY_KEYS);
  place(rare.big, () => Buffer.alloc(Math.floor((1 + rand() * 7) * (1 << 20)), 'y'));
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pendingBytes > 0) writeSync(fd, Buffer.concat(pending));
    pending = [];
    pendingBytes = 0;
  };
  const NL = Buffer.from('\n');
  for (let i = 0; i < lines; i++) {
    // One line in four is good; the others hostile.
    const special = at.get(i);
    const b = special ? special() : rand() < 0.25 ? Buffer.from(c.good(`${c.name}/${++good}`)) : CHEAP[Math.floor(rand() * CHEAP.length)]!(rand);
    pending.push(b, NL);
    pendingBytes += b.length + 1;
    if (pendingBytes > 1 << 20) flush();
  }
  flush();
  closeSync(fd);
  return { lines, good };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function hostileLines(o: ChaosOptions): Promise<Figures> {
  const total = o.short ? 14_000 : 1_000_000;
  const perFile = Math.ceil(total / CASES.length);
  const ws = new Workspace();
  const c = await new ChaosCollector().start();
  const d: DaemonProcess[] = [];
  const started = Date.now();
  try {
    const written = CASES.map((p, i) => ({ p, file: ws.file(`${p.name}.log`), ...writeFile(ws.file(`${p.name}.log`), p, perFile, o.short ? { deep: 3, keys: 3, big: 1 } : { deep: 30, keys: 30, big: 3 }, 1000 + i) }));
    const port = await freePort();
    const pipelines = written
      .map(
        ({ p, file }, i) => `  - name: ${p.name}
    workers: ${i === 0 ? 1 : 0}
    inputs: [{ paths: [${JSON.stringify(file)}], start_at: beginning, poll_interval: 100ms }]
    parser: ${p.parser}
    events:
      - type: track
        event: Line
        anonymousId: chaos
        properties: { id: "{{ ${p.idField} }}" }
    output: { type: rudderstack, url: ${c.url}, write_key: chaos-key, flush_interval: 100ms }
`,
      )
      .join('');
    const cfg = ws.file('tailship.yaml');
    writeFileSync(cfg, config(ws.file('state'), pipelines, `server: { listen: "127.0.0.1:${port}" }\n`));
    // As deployed: the unit's NODE_OPTIONS and malloc setting.
    const daemon = new DaemonProcess(cfg, deployedEnvironment());
    d.push(daemon);
    daemon.start();
    const wantRead = written.reduce((n, w) => n + w.lines, 0);
    const goodTotal = written.reduce((n, w) => n + w.good, 0);
    let linesRead = 0;
    const readMetric = async (): Promise<number> => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        let n = 0;
        for (const m of text.matchAll(/^tailship_file_lines_read_total\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
        return n;
      } catch {
        return linesRead;
      }
    };
    // A daemon that exited reads no more: stop waiting (its exit is a failure, below).
    await waitUntil(async () => !daemon.running || ((linesRead = await readMetric()) >= wantRead && c.ids.size >= goodTotal), o.short ? 900_000 : 3_600_000, 2000);
    const missing = written.reduce((n, w) => n + c.missing(w.p.name, w.good).length, 0);
    const f = figures(`${total.toLocaleString('en-US')} hostile lines across ${CASES.length} built-in parsers`, started, c, goodTotal, missing, d);
    f.written = goodTotal;
    const status = await runTailship(['status', '--config', cfg, '--json']);
    const report = JSON.parse(status.stdout) as { accounting: Array<{ pipeline: string; read: number; gap: number; outcomes: Record<string, number> }> };
    for (const w of written) {
      const a = report.accounting.filter((x) => x.pipeline === w.p.name);
      const read = a.reduce((n, x) => n + x.read, 0);
      const gap = a.reduce((n, x) => n + x.gap, 0);
      const dead = a.reduce((n, x) => n + (x.outcomes['dead_letter_parse'] ?? 0) + (x.outcomes['dead_letter_mapping'] ?? 0), 0);
      const queued = a.reduce((n, x) => n + (x.outcomes['queued'] ?? 0), 0);
      f.notes.push(`${w.p.name}: ${w.lines} lines written (${w.good} good), read ${read}: queued ${queued}, dead letters ${dead}, gap ${gap}`);
      if (read !== w.lines) f.failures.push(`${w.p.name}: ${w.lines} lines written but ${read} read`);
      if (gap !== 0) f.failures.push(`${w.p.name}: accounting gap ${gap}`);
    }
    daemon.sample();
    if (!daemon.running) f.failures.push(`the daemon exited: ${daemon.exits.join(', ')}: ${daemon.stderrTail.slice(-600)}`);
    await daemon.stop('SIGTERM');
    f.peakRssMiB = Math.round(daemon.peakRss);
    f.abnormalExits = daemon.abnormalExits;
    if (daemon.peakRss >= RSS_LIMIT_MIB) f.failures.push(`peak RSS ${Math.round(daemon.peakRss)} MiB, over ${RSS_LIMIT_MIB} MiB`);
    f.notes.push(`${f.written} good lines with ids; ${c.other} events made from hostile lines that parsed; the json pipeline on a worker thread, the others with workers: 0`);
    return f;
  } finally {
    for (const x of d) await x.close();
    await c.stop();
    ws.cleanup();
  }
}
