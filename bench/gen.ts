/**
 * Generates the benchmark's nginx "combined" access log: deterministic lines (a fixed PRNG seed),
 * about 209 bytes each, with a realistic mix of paths, query strings (some with a uid), statuses
 * (about 2% 5xx) and user agents. Run alone: `node dist/bench/gen.js [lines] [file]`.
 */
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PATHS = ['/', '/products', '/products/4211', '/cart', '/api/items', '/search', '/account/settings', '/blog/2024/03/launch', '/static/app.4f2a.js', '/checkout'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'GET', 'GET', 'GET', 'GET', 'POST'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  'curl/8.4.0',
];
const REFERERS = ['-', 'https://www.example.com/', 'https://www.google.com/', 'https://shop.example.com/products'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** mulberry32: small, fast, deterministic (also used by bench/parsers.ts). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const p2 = (x: number): string => (x < 10 ? '0' : '') + x;

/** Line `i` of the log (i from 0); `rnd` must be the generator that made lines 0..i-1. */
function line(i: number, rnd: () => number): string {
  const k = Math.floor(rnd() * PATHS.length);
  const p = PATHS[k]!;
  const r = rnd();
  let q = '';
  if (r < 0.4) q = `?uid=u${Math.floor(rnd() * 100_000)}&ref=mail`;
  else if (p === '/search') q = '?q=running+shoes&page=2';
  const s = rnd();
  const status = s < 0.02 ? 502 : s < 0.06 ? 404 : s < 0.12 ? 304 : 200;
  const d = new Date(Date.UTC(2024, 2, 1, 10, 0, 0) + Math.floor(i / 50) * 1000);
  const time = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const bytes = status === 304 ? 0 : 200 + Math.floor(rnd() * 30_000);
  const ref = REFERERS[Math.floor(rnd() * REFERERS.length)]!;
  const ua = AGENTS[Math.floor(rnd() * AGENTS.length)]!;
  return `${ip} - - [${time}] "${METHODS[k]} ${p}${q} HTTP/1.1" ${status} ${bytes} "${ref}" "${ua}"\n`;
}

export interface GeneratedLog {
  file: string;
  dir: string;
  lines: number;
  bytes: number;
}

/** Writes `lines` lines to `file` (default: access.log in a new temp dir). */
export function generateLog(lines = 1_000_000, file?: string): GeneratedLog {
  const target = file ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'tailship-bench-')), 'access.log');
  const fd = openSync(target, 'w');
  const rnd = prng(20240301);
  let bytes = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  try {
    for (let i = 0; i < lines; i++) {
      const l = line(i, rnd);
      pending.push(l);
      pendingBytes += l.length;
      if (pendingBytes >= 1 << 20) {
        bytes += writeSync(fd, pending.join(''));
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pending.length) bytes += writeSync(fd, pending.join(''));
  } finally {
    closeSync(fd);
  }
  return { file: target, dir: path.dirname(target), lines, bytes };
}

/** Lines `from`..`from+count-1` of the same deterministic log, for appending writers. */
export function* logLines(count: number, seed = 20240301): Generator<string> {
  const rnd = prng(seed);
  for (let i = 0; i < count; i++) yield line(i, rnd);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const g = generateLog(Number(process.argv[2] ?? 1_000_000), process.argv[3]);
  console.log(`${g.file}: ${g.lines.toLocaleString('en-US')} lines, ${g.bytes.toLocaleString('en-US')} bytes (${(g.bytes / g.lines).toFixed(0)} bytes/line)`);
}
