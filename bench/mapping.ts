/**
 * Benchmark of the mapping stage alone: records/s of `Mapper.map` with a realistic rule set
 * (5 rules, about 10 templated fields per event, `when` conditions, nginx timestamps) over
 * nginx-like records built in memory, so neither I/O nor parsing is measured.
 * Run: `npm run build && node dist/bench/mapping.js [records]`.
 */
import { pathToFileURL } from 'node:url';
import type { LogRecord } from '../parsers/types.js';
import { pipelineSchema } from '../src/config/schema.js';
import { compileMapper } from '../src/mapping/mapping.js';

const RULES = [
  { when: 'request_path == "/healthz" or http_user_agent =~ /kube-probe/', drop: true },
  {
    when: 'status >= 500',
    type: 'track',
    event: 'Server Error',
    anonymousId: '{{ remote_addr }}',
    properties: { path: '{{ request_path }}', status: '{{ status }}', method: '{{ request_method }}', upstream: '{{ upstream_addr | default: "none" }}' },
    context: { ip: '{{ remote_addr }}', userAgent: '{{ http_user_agent }}' },
    timestamp: '{{ time_local }}',
    timestamp_format: 'nginx',
  },
  {
    when: 'request_method == "POST" and request_path =~ /^\\/api\\/checkout/',
    type: 'track',
    event: 'Order Completed',
    userId: '{{ query.uid }}',
    anonymousId: '{{ remote_addr }}',
    properties: { revenue: '{{ query.amount | float }}', currency: '{{ query.currency | default: "USD" | upper }}', path: '{{ request_path }}', status: '{{ status }}' },
    context: { ip: '{{ remote_addr }}', userAgent: '{{ http_user_agent }}' },
    timestamp: '{{ time_local }}',
    timestamp_format: 'nginx',
  },
  {
    when: 'request_method == "GET" and status < 400 and not request_path =~ /^\\/(static|api)\\//',
    type: 'page',
    name: '{{ request_path }}',
    userId: '{{ query.uid }}',
    anonymousId: '{{ remote_addr }}',
    properties: { path: '{{ request_path }}', referrer: '{{ http_referer }}', status: '{{ status }}', bytes: '{{ body_bytes_sent }}', search: 'q={{ query.q }}' },
    context: { ip: '{{ remote_addr }}', userAgent: '{{ http_user_agent }}', page: { path: '{{ request_path }}', referrer: '{{ http_referer }}' } },
    timestamp: '{{ time_local }}',
    timestamp_format: 'nginx',
  },
  {
    type: 'track',
    event: 'Request',
    userId: '{{ query.uid }}',
    anonymousId: '{{ remote_addr }}',
    properties: { path: '{{ request_path }}', method: '{{ request_method | lower }}', status: '{{ status }}', bytes: '{{ body_bytes_sent }}' },
    context: { ip: '{{ remote_addr }}', userAgent: '{{ http_user_agent }}' },
    timestamp: '{{ time_local }}',
    timestamp_format: 'nginx',
  },
];

const PATHS = ['/', '/products', '/products/42', '/cart', '/api/checkout', '/api/items', '/static/app.js', '/healthz', '/search', '/account'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'GET', 'GET', 'GET', 'GET', 'GET', 'PUT'];
const STATUSES = [200, 200, 200, 200, 304, 404, 200, 500, 200, 502];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'curl/8.4.0',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx-combined-like records, as the nginx parser gives them; ~20 lines share each second. */
export function makeRecords(n: number): LogRecord[] {
  const out: LogRecord[] = [];
  const t0 = Date.UTC(2024, 2, 1, 10, 0, 0);
  for (let i = 0; i < n; i++) {
    const k = i % PATHS.length;
    const path = PATHS[k] as string;
    const d = new Date(t0 + Math.floor(i / 20) * 1000);
    const p2 = (x: number): string => String(x).padStart(2, '0');
    const time = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
    const query: { [k: string]: string } = {};
    if (i % 3 === 0) query.uid = `user-${i % 5000}`;
    if (path === '/api/checkout') {
      query.amount = `${(i % 200) + 0.99}`;
      if (i % 2 === 0) query.currency = 'eur';
    }
    if (path === '/search') query.q = 'shoes';
    out.push({
      remote_addr: `10.0.${(i >> 8) & 255}.${i & 255}`,
      remote_user: '-',
      time_local: time,
      request: `${METHODS[k]} ${path} HTTP/1.1`,
      request_method: METHODS[k] as string,
      request_path: path,
      query,
      status: STATUSES[(i * 7) % STATUSES.length] as number,
      body_bytes_sent: 512 + (i % 4096),
      http_referer: i % 4 === 0 ? 'https://www.example.com/' : '-',
      http_user_agent: AGENTS[i % AGENTS.length] as string,
    });
  }
  return out;
}

/** Maps `records` records (cycling over 10,000 distinct ones) and returns the rate. */
export async function benchMapping(records = 1_000_000): Promise<{ recordsPerSec: number; eventsPerRecord: number; invalid: number }> {
  const pipeline = pipelineSchema.parse({
    name: 'bench',
    inputs: [{ paths: ['/var/log/nginx/access.log'] }],
    parser: { type: 'nginx' },
    output: { type: 'stdout' },
    context: { app: { name: 'shop' } },
    events: RULES,
  });
  const mapper = compileMapper(pipeline, { pipelineIndex: 0, host: 'bench-host', version: '0.0.0' });
  const pool = makeRecords(10_000);
  const meta = { fileKey: '2049:131:abcdef', file: '/var/log/nginx/access.log', offset: 0, readAtMs: Date.now() };
  let events = 0;
  let invalid = 0;
  const run = (n: number, startOffset: number): void => {
    for (let i = 0; i < n; i++) {
      const outs = mapper.map(pool[i % pool.length] as LogRecord, { ...meta, offset: startOffset + i * 180 });
      events += outs.length;
      for (const o of outs) if (!o.ok) invalid++;
    }
  };
  run(Math.min(200_000, records), 0); // warm-up for the JIT
  events = 0;
  invalid = 0;
  const t = process.hrtime.bigint();
  run(records, 1e9);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  await Promise.resolve();
  if (events === 0) throw new Error('benchmark mapped no events');
  return { recordsPerSec: Math.round(records / secs), eventsPerRecord: events / records, invalid };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const { recordsPerSec, eventsPerRecord, invalid } = await benchMapping(n);
  console.log(
    `mapping: ${recordsPerSec.toLocaleString('en-US')} records/s (${n.toLocaleString('en-US')} records, 5 rules, ` +
      `${eventsPerRecord.toFixed(2)} events/record, ${invalid} invalid, node ${process.version})`,
  );
}
