/**
 * Parser micro-benchmark: lines/s per built-in parser, single thread, over generated lines.
 * Each parser parses `lines` lines (default 1,000,000) drawn in turn from a pool of 10,000
 * distinct generated lines (deterministic PRNG), after a warm-up, so memory stays bounded
 * whatever the count. The line joiners (multiline, CRI/Docker partial lines) are measured the
 * same way. Run: `node dist/bench/parsers.js [lines] [name filter]`; prints markdown tables.
 */
import { pathToFileURL } from 'node:url';
import { buildParser } from '../parsers/index.js';
import { ParseError } from '../parsers/types.js';
import type { Line, LineJoiner } from '../src/source/line.js';
import { CRI_FORMAT } from '../parsers/cri.js';
import { DOCKER_FORMAT } from '../parsers/docker.js';
import { createMultiline } from '../src/source/multiline.js';
import { createPartialJoiner } from '../src/source/partial-join.js';
import { prng } from './gen.js';

export interface ParserBenchResult {
  parser: string;
  linesPerSec: number;
}

const POOL = 10_000;

/**
 * CPU time of this process (user + system) in ns. Lines per CPU-second, not per wall second:
 * on a shared machine other processes steal the core and wall time overstates the cost. The
 * figure includes V8's background GC threads, so it errs on the slow side.
 */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

interface Gen {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

function gen(seed: number): Gen {
  const r = prng(seed);
  return { int: (n) => Math.floor(r() * n), pick: (xs) => xs[Math.floor(r() * xs.length)] as (typeof xs)[number] };
}

const PATHS = ['/', '/products/shoes', '/api/v1/cart', '/search', '/account/orders', '/static/app.3f9c.js', '/checkout/step-2'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
  'curl/8.5.0',
  'okhttp/4.12.0',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT'];
const LEVELS = ['debug', 'info', 'info', 'warn', 'error'];

function ip(g: Gen): string {
  return `${10 + g.int(200)}.${g.int(256)}.${g.int(256)}.${g.int(256)}`;
}
function clf(g: Gen): string {
  return `${String(1 + g.int(28)).padStart(2, '0')}/Mar/2025:${String(g.int(24)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')} +0000`;
}
function req(g: Gen): string {
  const q = g.int(3) === 0 ? '' : `?id=${g.int(100000)}&utm_source=${g.pick(['mail', 'ads', 'x'])}&q=caf%C3%A9+${g.int(99)}`;
  return `${g.pick(METHODS)} ${g.pick(PATHS)}${q} HTTP/1.1`;
}
function iso(g: Gen): string {
  return `2025-03-12T08:${String(g.int(60)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}.${String(g.int(1e9)).padStart(9, '0')}Z`;
}
function appJson(g: Gen): string {
  return JSON.stringify({ ts: iso(g), level: g.pick(LEVELS), msg: 'request handled', path: g.pick(PATHS), status: g.pick([200, 200, 201, 404, 500]), duration_ms: g.int(5000) / 10, user: { id: `u_${g.int(1e6)}`, plan: g.pick(['free', 'pro']) } });
}

interface Case {
  name: string;
  section: Record<string, unknown>;
  line(g: Gen): string;
  file?: string;
}

const CASES: Case[] = [
  { name: 'nginx (combined)', section: { type: 'nginx' }, line: (g) => `${ip(g)} - - [${clf(g)}] "${req(g)}" ${g.pick([200, 200, 304, 404, 500])} ${g.int(100000)} "https://www.example.com/" "${g.pick(AGENTS)}"` },
  { name: 'nginx (combined, parse_query: false)', section: { type: 'nginx', parse_query: false }, line: (g) => `${ip(g)} - - [${clf(g)}] "${req(g)}" ${g.pick([200, 200, 304, 404, 500])} ${g.int(100000)} "https://www.example.com/" "${g.pick(AGENTS)}"` },
  {
    name: 'nginx (escape=json)',
    section: { type: 'nginx', format: `escape=json '{"ip":"$remote_addr","req":"$request","status":$status,"bytes":$body_bytes_sent,"rt":$request_time,"ua":"$http_user_agent"}'` },
    line: (g) => `{"ip":"${ip(g)}","req":"${req(g)}","status":${g.pick([200, 404])},"bytes":${g.int(100000)},"rt":${(g.int(5000) / 1000).toFixed(3)},"ua":"${g.pick(AGENTS)}"}`,
  },
  { name: 'apache (combined)', section: { type: 'apache' }, line: (g) => `${ip(g)} - - [${clf(g)}] "${req(g)}" ${g.pick([200, 404])} ${g.int(100000)} "-" "${g.pick(AGENTS)}"` },
  { name: 'json', section: { type: 'json' }, line: appJson },
  { name: 'logfmt', section: { type: 'logfmt' }, line: (g) => `time=${iso(g)} level=${g.pick(LEVELS)} msg="request handled" method=${g.pick(METHODS)} path=${g.pick(PATHS)} status=${g.pick([200, 404])} duration=${g.int(900)}ms bytes=${g.int(1e5)}` },
  { name: 'syslog (RFC 3164)', section: { type: 'syslog' }, line: (g) => `Mar ${String(1 + g.int(28)).padStart(2, ' ')} 14:22:01 web${g.int(9)} sshd[${g.int(65000)}]: Accepted publickey for deploy from ${ip(g)} port ${g.int(65000)} ssh2` },
  { name: 'syslog (RFC 5424)', section: { type: 'syslog' }, line: (g) => `<165>1 ${iso(g)} host${g.int(9)} billing ${g.int(9999)} PAY [meta@41058 user="u_${g.int(1e5)}" amount="${g.int(1e4)}"] charge captured` },
  { name: 'csv', section: { type: 'csv', columns: ['time', 'user_id', 'event', 'order_id', 'total', 'company'], types: { order_id: 'int', total: 'float' } }, line: (g) => `${iso(g)},u_${g.int(1e6)},order_completed,${g.int(1e6)},${g.int(10000) / 100},"Acme, Inc."` },
  { name: 'regex', section: { type: 'regex', pattern: '^(?<ip>\\S+) \\S+ (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) [^"]*" (?<status>\\d+) (?<bytes>\\d+)', types: { status: 'int', bytes: 'int' } }, line: (g) => `${ip(g)} - - [${clf(g)}] "${req(g)}" ${g.pick([200, 404])} ${g.int(100000)} "-" "${g.pick(AGENTS)}"` },
  { name: 'grok (COMBINEDAPACHELOG)', section: { type: 'grok', pattern: '^%{COMBINEDAPACHELOG}$' }, line: (g) => `${ip(g)} - - [${clf(g)}] "${req(g)}" ${g.pick([200, 404])} ${g.int(100000)} "-" "${g.pick(AGENTS)}"` },
  { name: 'docker', section: { type: 'docker' }, line: (g) => JSON.stringify({ log: `${appJson(g)}\n`, stream: 'stdout', time: iso(g) }), file: `/var/log/containers/web-7d9f_prod_app-${'a'.repeat(64)}.log` },
  { name: 'cri', section: { type: 'cri' }, line: (g) => `${iso(g)} stdout F ${appJson(g)}`, file: `/var/log/containers/web-7d9f_prod_app-${'a'.repeat(64)}.log` },
  { name: 'cri + json inner', section: { type: 'cri', message_parser: { type: 'json' } }, line: (g) => `${iso(g)} stdout F ${appJson(g)}`, file: `/var/log/containers/web-7d9f_prod_app-${'a'.repeat(64)}.log` },
];

function runCase(c: Case, lines: number): ParserBenchResult {
  const g = gen(0x7a11);
  const pool: string[] = [];
  for (let i = 0; i < POOL; i++) pool.push(c.line(g));
  const parser = buildParser(c.section, { configDir: process.cwd(), keyPath: 'bench' });
  const ctx = { file: c.file ?? '/var/log/app.log', offset: 0 };
  let errors = 0;
  const warm = Math.min(lines, 100_000);
  for (let i = 0; i < warm; i++) if (parser.parse(pool[i % POOL] as string, ctx) instanceof ParseError) errors++;
  if (errors > 0) throw new Error(`${c.name}: ${errors} generated lines did not parse (e.g. ${JSON.stringify(pool[0])})`);
  const t0 = cpuNs();
  for (let i = 0; i < lines; i++) if (parser.parse(pool[i % POOL] as string, ctx) instanceof ParseError) errors++;
  const ns = cpuNs() - t0;
  if (errors > 0) throw new Error(`${c.name}: ${errors} lines did not parse`);
  return { parser: c.name, linesPerSec: Math.round((lines * 1e9) / ns) };
}

/** Runs every case; resolves to lines per CPU-second per parser (single thread). */
export async function benchParsers(lines = 1_000_000, only?: string): Promise<ParserBenchResult[]> {
  const out: ParserBenchResult[] = [];
  for (const c of CASES) {
    if (only !== undefined && !c.name.includes(only)) continue;
    out.push(runCase(c, lines));
    await new Promise((r) => setImmediate(r)); // let the event loop breathe between cases
  }
  return out;
}

interface JoinerCase {
  name: string;
  make(): LineJoiner;
  line(g: Gen, i: number): string;
}

const JOINER_CASES: JoinerCase[] = [
  {
    name: 'multiline (java preset)',
    make: () => createMultiline({ preset: 'java' }),
    line: (g, i) => (i % 10 < 6 ? `2025-03-12 08:15:02.${String(g.int(1000)).padStart(3, '0')}  INFO 4242 --- [main] c.e.App : handled ${g.int(1e6)}` : `\tat com.example.shop.Service${g.int(50)}.run(Service.java:${g.int(500)})`),
  },
  {
    name: 'multiline (pattern ^\\s)',
    make: () => createMultiline({ pattern: '^\\s' }),
    line: (g, i) => (i % 10 < 6 ? `${iso(g)} level=info msg="handled ${g.int(1e6)}"` : `    continuation ${g.int(1e6)}`),
  },
  { name: 'partial-join (cri, 5% P)', make: () => createPartialJoiner({ format: CRI_FORMAT }), line: (g, i) => `${iso(g)} stdout ${i % 20 === 0 ? 'P' : 'F'} ${appJson(g)}` },
  { name: 'partial-join (docker, 5% partial)', make: () => createPartialJoiner({ format: DOCKER_FORMAT }), line: (g, i) => JSON.stringify({ log: `${appJson(g)}${i % 20 === 0 ? '' : '\n'}`, stream: 'stdout', time: iso(g) }) },
];

/** Line joiners (multiline, container partial lines): input lines/s, single thread. */
export async function benchJoiners(lines = 1_000_000, only?: string): Promise<ParserBenchResult[]> {
  const out: ParserBenchResult[] = [];
  for (const c of JOINER_CASES) {
    if (only !== undefined && !c.name.includes(only)) continue;
    const g = gen(0x7a12);
    const pool: Line[] = [];
    let offset = 0;
    for (let i = 0; i < POOL; i++) {
      const text = c.line(g, i);
      pool.push({ text, start: offset, end: offset + text.length + 1 });
      offset += text.length + 1;
    }
    const j = c.make();
    let emitted = 0;
    const t0 = cpuNs();
    for (let i = 0; i < lines; i++) emitted += j.push(pool[i % POOL] as Line, 0).length;
    emitted += j.flush().length;
    const ns = cpuNs() - t0;
    if (emitted === 0) throw new Error(`${c.name}: nothing emitted`);
    out.push({ parser: c.name, linesPerSec: Math.round((lines * 1e9) / ns) });
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

export function formatParserTable(results: readonly ParserBenchResult[], lines: number, what = 'parser'): string {
  const rows = results.map((r) => `| ${r.parser} | ${r.linesPerSec.toLocaleString('en-US')} | ${(1e9 / r.linesPerSec).toFixed(0)} |`);
  const title = what === 'parser' ? 'Parsers' : 'Line joiners (input lines)';
  return [`${title}, ${lines.toLocaleString('en-US')} lines each, one thread, per CPU-second, Node ${process.version}:`, '', `| ${what} | lines/s | ns/line |`, '|---|---:|---:|', ...rows].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  const lines = arg !== undefined ? Number(arg) : 1_000_000;
  const only = process.argv[3];
  if (!Number.isInteger(lines) || lines <= 0) {
    console.error('usage: node dist/bench/parsers.js [lines] [name filter]');
    process.exit(2);
  }
  const parsers = await benchParsers(lines, only);
  if (parsers.length) console.log(formatParserTable(parsers, lines));
  const joiners = await benchJoiners(lines, only);
  if (joiners.length) console.log(`${parsers.length ? '\n' : ''}${formatParserTable(joiners, lines, 'joiner')}`);
}
