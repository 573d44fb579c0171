/**
 * Experiment for issue #8: is parse + map + encode + deflate worth moving to a worker thread once
 * message passing is paid? Ingest only (no HTTP): reads the generated 1M-line log, frames it, and
 * commits deflated 250-event chunks with the file offset into a real SQLite store (WAL, NORMAL),
 * (a) all on the main thread, as the daemon does today, and (b) with the main thread only reading,
 * framing and committing while 1 or 2 workers decode, parse, map, encode and deflate each read
 * (the raw bytes and line ends go over, deflated chunks come back as transferred buffers).
 * Run: `node dist/bench/worker-split.js [lines]`.
 */
import { mkdtempSync, openSync, readSync, rmSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { deflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { buildParser } from '../parsers/index.js';
import { isParseError, type Parser } from '../parsers/types.js';
import { pipelineSchema } from '../src/config/schema.js';
import { RudderstackDestination } from '../src/emit/rudderstack.js';
import { compileMapper } from '../src/pipeline/mapping.js';
import type { Mapper } from '../src/pipeline/event.js';
import { Framer, type Line } from '../src/source/framer.js';
import { generateLog, type GeneratedLog } from './gen.js';

const READ_BYTES = 256 * 1024;
const CHUNK_EVENTS = 250;

const PIPELINE = {
  name: 'web',
  inputs: [{ paths: ['/x.log'] }],
  parser: { type: 'nginx', format: 'combined' },
  output: { type: 'rudderstack', url: 'http://127.0.0.1:9', write_key: 'k' },
  events: [
    { when: 'status >= 500', type: 'track', event: 'Server Error', anonymousId: '{{ remote_addr }}', properties: { path: '{{ request_path }}', status: '{{ status }}' }, timestamp: '{{ time_local }}' },
    {
      type: 'track', event: 'Page Requested', userId: '{{ query.uid }}', anonymousId: '{{ remote_addr }}',
      properties: { path: '{{ request_path }}', status: '{{ status }}', bytes: '{{ body_bytes_sent }}' },
      context: { ip: '{{ remote_addr }}', userAgent: '{{ http_user_agent }}' }, timestamp: '{{ time_local }}',
    },
  ],
};

interface Stages {
  parser: Parser;
  mapper: Mapper;
  dest: RudderstackDestination;
}

function stages(): Stages {
  const p = pipelineSchema.parse(PIPELINE);
  const parser = buildParser(p.parser, { configDir: '/', keyPath: 'pipelines[0].parser' });
  const mapper = compileMapper(p, { pipelineIndex: 0, host: 'bench', version: '0.0.0' });
  const out = p.output!;
  if (out.type !== 'rudderstack') throw new Error('unexpected output');
  return { parser, mapper, dest: new RudderstackDestination({ ...out, name: 'rudderstack' }) };
}

interface Chunk {
  start: number;
  end: number;
  events: number;
  bytes: number;
  deflated: Uint8Array;
}

/** Lines → deflated chunks of encoded events (what process() + queue.insert do per read). */
function processLines(s: Stages, texts: string[], starts: number[], ends: number[]): Chunk[] {
  const out: Chunk[] = [];
  let parts: string[] = [];
  let bytes = 0;
  let start = -1;
  let end = 0;
  const cut = (): void => {
    const payload = parts.join('\n');
    out.push({ start, end, events: parts.length, bytes, deflated: deflateRawSync(payload, { level: 1 }) });
    parts = [];
    bytes = 0;
    start = -1;
  };
  const readAtMs = Date.now();
  for (let i = 0; i < texts.length; i++) {
    const rec = s.parser.parse(texts[i]!, { file: '/x.log', offset: ends[i]! });
    if (isParseError(rec)) continue;
    for (const o of s.mapper.map(rec, { fileKey: 'k', file: '/x.log', offset: starts[i]!, readAtMs })) {
      if (!o.ok) continue;
      const e = s.dest.encode(o.event);
      if (parts.length >= CHUNK_EVENTS) cut();
      if (start < 0) start = starts[i]!;
      end = ends[i]!;
      parts.push(e);
      bytes += Buffer.byteLength(e) + 1;
    }
  }
  if (parts.length) cut();
  return out;
}

class Sink {
  readonly db: Database.Database;
  /** Events committed, checked against the line count (each line makes one event here). */
  events = 0;
  private readonly commitTxn: (chunks: Chunk[], offset: number) => void;
  constructor(dir: string) {
    this.db = new Database(path.join(dir, 'q.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE out_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT, output TEXT, file_key TEXT, start_offset INTEGER,
      end_offset INTEGER, event_count INTEGER, bytes INTEGER, created_at INTEGER, payload BLOB);
      CREATE TABLE files (k TEXT PRIMARY KEY, "offset" INTEGER)`);
    const ins = this.db.prepare('INSERT INTO out_queue (pipeline, output, file_key, start_offset, end_offset, event_count, bytes, created_at, payload) VALUES (?,?,?,?,?,?,?,?,?)');
    const off = this.db.prepare('INSERT INTO files (k, "offset") VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET "offset" = excluded."offset"');
    this.commitTxn = this.db.transaction((chunks: Chunk[], offset: number) => {
      const now = Date.now();
      for (const c of chunks) ins.run('web', 'rudderstack', 'k', c.start, c.end, c.events, c.bytes, now, c.deflated);
      off.run('k', offset);
    });
  }
  commit(chunks: Chunk[], offset: number): void {
    this.commitTxn(chunks, offset);
    for (const c of chunks) this.events += c.events;
  }

  check(lines: number): void {
    if (this.events !== lines) throw new Error(`committed ${this.events} events for ${lines} lines`);
  }
}

export interface SplitResult {
  mode: string;
  linesPerSec: number;
  cpuUsPerLine: number;
  mainBusyUsPerLine: number;
}

/** Reads `log` in 256 KiB turns; `handle` gets each read's bytes and lines and commits. */
async function ingest(
  log: GeneratedLog,
  mode: string,
  handle: (buf: Buffer, len: number, lines: Line[], offsetAfter: number, readBase: number) => Promise<void> | void,
  finish: () => Promise<void> = async () => {},
): Promise<SplitResult> {
  const fd = openSync(log.file, 'r');
  const framer = new Framer(1 << 20);
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let pos = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, READ_BYTES, pos);
      if (n === 0) break;
      const lines: Line[] = [];
      framer.push(buf, n, lines);
      const readBase = pos;
      pos += n;
      await handle(buf, n, lines, framer.pendingStart() ?? pos, readBase);
    }
    await finish();
  } finally {
    closeSync(fd);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  return { mode, linesPerSec: Math.round(log.lines / secs), cpuUsPerLine: (cpu.user + cpu.system) / log.lines, mainBusyUsPerLine: (elu.active * 1000) / log.lines };
}

async function inline(log: GeneratedLog, dir: string): Promise<SplitResult> {
  const s = stages();
  const sink = new Sink(dir);
  try {
    const r = await ingest(log, 'main thread only (today)', (_b, _n, lines, offset) => {
      sink.commit(processLines(s, lines.map((l) => l.text), lines.map((l) => l.start), lines.map((l) => l.end)), offset);
    });
    sink.check(log.lines);
    return r;
  } finally {
    sink.db.close();
  }
}

async function split(log: GeneratedLog, dir: string, workers: number): Promise<SplitResult> {
  const sink = new Sink(dir);
  const pool = Array.from({ length: workers }, () => new Worker(fileURLToPath(import.meta.url), { workerData: { role: 'worker' } }));
  // Results are committed in read order, whichever worker finishes first.
  const pending: Array<Promise<{ chunks: Chunk[]; offset: number }>> = [];
  let next = 0;
  let seq = 0;
  const waiters = new Map<number, (c: Chunk[]) => void>();
  for (const w of pool) w.on('message', (m: { seq: number; chunks: Chunk[] }) => waiters.get(m.seq)!(m.chunks));
  const drainOne = async (): Promise<void> => {
    const r = await pending.shift()!;
    sink.commit(r.chunks, r.offset);
  };
  try {
    const r = await ingest(
      log,
      `main reads + commits, ${workers} worker${workers > 1 ? 's' : ''} parse/map/encode/deflate`,
      async (buf, _len, lines, offset, readBase) => {
        if (lines.length === 0) return;
        // A line that began in an earlier read comes decoded (the framer held it); the others
        // go over as the raw bytes of this read, from the first such line to the last newline.
        const held = lines[0]!.start < readBase ? lines[0]!.text : undefined;
        const firstRaw = held === undefined ? 0 : 1;
        const base = firstRaw < lines.length ? lines[firstRaw]!.start : readBase;
        const endByte = lines[lines.length - 1]!.end;
        const bytes = new Uint8Array(Math.max(0, endByte - base));
        if (bytes.length) bytes.set(buf.subarray(base - readBase, endByte - readBase));
        const starts = new Float64Array(lines.length);
        const ends = new Float64Array(lines.length);
        lines.forEach((l, i) => {
          starts[i] = l.start;
          ends[i] = l.end;
        });
        const id = seq++;
        const w = pool[next++ % pool.length]!;
        pending.push(new Promise((resolve) => waiters.set(id, (chunks) => (waiters.delete(id), resolve({ chunks, offset })))));
        w.postMessage({ seq: id, base, held, bytes, starts, ends }, [bytes.buffer, starts.buffer, ends.buffer]);
        while (pending.length > workers * 2) await drainOne();
      },
      async () => {
        while (pending.length) await drainOne();
      },
    );
    sink.check(log.lines);
    return r;
  } finally {
    for (const w of pool) await w.terminate();
    sink.db.close();
  }
}

function workerMain(): void {
  const s = stages();
  parentPort!.on('message', (m: { seq: number; base: number; held: string | undefined; bytes: Uint8Array; starts: Float64Array; ends: Float64Array }) => {
    const buf = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    const texts: string[] = new Array<string>(m.starts.length);
    let i0 = 0;
    if (m.held !== undefined) texts[i0++] = m.held;
    for (let i = i0; i < m.starts.length; i++) {
      let stop = m.ends[i]! - 1 - m.base;
      if (stop > 0 && buf[stop - 1] === 0x0d) stop--;
      texts[i] = buf.toString('utf8', m.starts[i]! - m.base, stop);
    }
    const chunks = processLines(s, texts, Array.from(m.starts), Array.from(m.ends));
    parentPort!.postMessage({ seq: m.seq, chunks }, chunks.map((c) => c.deflated.buffer as ArrayBuffer));
  });
}

export async function benchWorkerSplit(lines = 1_000_000): Promise<{ title: string; markdown: string }> {
  const log = generateLog(lines);
  const results: SplitResult[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      for (const mode of ['inline', 'w1', 'w2'] as const) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'tailship-split-'));
        try {
          results.push(mode === 'inline' ? await inline(log, dir) : await split(log, dir, mode === 'w1' ? 1 : 2));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(log.dir, { recursive: true, force: true });
  }
  return {
    title: `Ingest with and without worker threads (${lines.toLocaleString('en-US')} lines, no HTTP, two alternating rounds)`,
    markdown: [
      '| mode | lines/s | CPU µs/line (all threads) | main thread busy µs/line |',
      '|---|---:|---:|---:|',
      ...results.map((r) => `| ${r.mode} | ${r.linesPerSec.toLocaleString('en-US')} | ${r.cpuUsPerLine.toFixed(2)} | ${r.mainBusyUsPerLine.toFixed(2)} |`),
    ].join('\n'),
  };
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === 'worker') {
  workerMain();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchWorkerSplit(Number(process.argv[2] ?? 1_000_000));
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
