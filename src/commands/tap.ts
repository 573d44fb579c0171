/**
 * `tailship tap`: the events a running daemon's pipelines make (after mapping, as they are
 * queued), sampled and rate-limited, with the line each came from, through its ops server
 * (GET /api/tap). Read-only: a slow reader loses events (counted on stderr), the daemon never
 * waits. On a terminal each event is shown under its line; otherwise (or with --json) the NDJSON
 * as the server sends it.
 */
import type { Command } from 'commander';
import { TailshipError } from '../errors.js';
import { opsGet, opsTarget } from '../ops/ops-client.js';
import type { TapStats } from '../ops/tap.js';
import { configOption, fail, loadConfig } from './shared.js';

interface TapOptions {
  config?: string;
  url?: string;
  token?: string;
  pipeline?: string;
  rule?: string;
  type?: string;
  sample?: string;
  rate?: string;
  count?: string;
  json?: boolean;
}

interface TapLine {
  kind: 'event';
  pipeline: string;
  file: string;
  offset: number;
  rule: number;
  type: string | null;
  line: string;
  event: unknown;
}

async function tap(o: TapOptions): Promise<void> {
  const target = opsTarget({ url: o.url, token: o.token, config: o.config || process.env.TAILSHIP_CONFIG ? loadConfig(o.config) : undefined });
  const count = o.count === undefined ? Infinity : Number(o.count);
  if (!(count >= 1 && (count === Infinity || Number.isInteger(count)))) throw new TailshipError('TAILSHIP_USAGE', '--count: expected a whole number of events >= 1');
  const q = new URLSearchParams();
  for (const [k, v] of [['pipeline', o.pipeline], ['rule', o.rule], ['type', o.type], ['sample', o.sample], ['rate', o.rate]] as const) if (v !== undefined) q.set(k, v);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const res = await opsGet(target, `/api/tap?${q}`, abort.signal);
  const pretty = !o.json && process.stdout.isTTY === true;
  let shown = 0;
  let stats: TapStats | undefined;
  let reportedDrops = 0;
  let rest = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += Buffer.from(chunk).toString('utf8');
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const text = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (!text) continue;
        const m = JSON.parse(text) as TapLine | ({ kind: 'stats' } & TapStats);
        if (m.kind === 'stats') {
          stats = m;
          const drops = m.dropped.rate + m.dropped.slow + m.dropped.batch_cap;
          if (drops > reportedDrops) process.stderr.write(`tap: ${drops} events not shown so far (rate limit ${m.dropped.rate}, slow reader ${m.dropped.slow}, per-batch cap ${m.dropped.batch_cap})\n`);
          reportedDrops = drops;
          continue;
        }
        process.stdout.write(pretty ? prettyEvent(m) : text + '\n');
        if (++shown >= count) return stop();
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw new TailshipError('TAILSHIP_OPS_UNREACHABLE', `the tap stream from ${target.base} ended: ${(err as Error).message}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (stats && pretty) process.stderr.write(`tap: ${shown} shown\n`);
  }
}

function prettyEvent(m: TapLine): string {
  const time = new Date().toISOString().slice(11, 23);
  return `${time} ${m.pipeline} rule ${m.rule} ${m.type ?? '?'}  ${m.file}:${m.offset}\n  < ${m.line}\n  > ${JSON.stringify(m.event)}\n`;
}

export function register(program: Command): void {
  program
    .command('tap')
    .description("stream the events a running daemon's pipelines make, with their lines (sampled, rate-limited, read-only)")
    .addOption(configOption())
    .option('--url <url>', 'ops server (default: the config\'s server.listen, else http://127.0.0.1:9464)')
    .option('--token <token>', 'the server\'s auth_token (default: TAILSHIP_OPS_TOKEN)')
    .option('-p, --pipeline <name>', 'only this pipeline')
    .option('--rule <indexes>', 'only events of these rules (their place in `events`, from 0), e.g. 0,2')
    .option('--type <types>', 'only these call types, e.g. track,identify')
    .option('--sample <fraction>', 'show this fraction of the matching events (0 < f <= 1)', '1')
    .option('--rate <n>', 'events per second at most (the rest are counted, not shown)', '20')
    .option('-n, --count <n>', 'stop after this many events')
    .option('--json', 'NDJSON as the server sends it, even on a terminal')
    .action((o: TapOptions) => tap(o).catch(fail));
}
