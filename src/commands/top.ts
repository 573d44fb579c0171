/**
 * `tailship top`: a running daemon's figures (per file, per output, the process) through its
 * ops server, refreshed in place on a terminal (log-update) with keys to sort and quit; plain
 * snapshots when stdout is not a terminal.
 */
import { emitKeypressEvents } from 'node:readline';
import { Option, type Command } from 'commander';
import logUpdate from 'log-update';
import { TailshipError } from '../errors.js';
import { parseDurationMs } from '../fields/duration.js';
import type { LiveStatus } from '../ops/live-status.js';
import { opsGet, opsTarget, type OpsTarget } from '../ops/ops-client.js';
import { renderTop, SORTS, type TopSort } from '../ops/top-view.js';
import { configOption, fail, loadConfig } from './shared.js';

interface TopOptions {
  config?: string;
  url?: string;
  token?: string;
  interval: string;
  sort: TopSort;
  iterations?: string;
}

async function fetchStatus(t: OpsTarget): Promise<LiveStatus> {
  return (await (await opsGet(t, '/api/status')).json()) as LiveStatus;
}

async function top(o: TopOptions): Promise<void> {
  const target = opsTarget({ url: o.url, token: o.token, config: o.config || process.env.TAILSHIP_CONFIG ? loadConfig(o.config) : undefined });
  const parsed = parseDurationMs(o.interval);
  const intervalMs = 'ms' in parsed ? parsed.ms : -1;
  if (intervalMs < 100) throw new TailshipError('TAILSHIP_USAGE', `--interval: expected a duration of 100ms or more such as 1s, got ${JSON.stringify(o.interval)}`);
  if (!process.stdout.isTTY) return snapshots(target, intervalMs, o.iterations === undefined ? 1 : Number(o.iterations), o.sort);
  let sort = o.sort;
  let last: LiveStatus | undefined;
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let done: () => void = () => undefined;
  const draw = (): void => {
    if (last) logUpdate(renderTop(last, { sort, width: process.stdout.columns, error, keys: true }));
    else logUpdate(error ? `tailship top: ${error}\n(retrying; q to quit)` : 'tailship top: connecting…');
  };
  const refresh = async (): Promise<void> => {
    try {
      last = await fetchStatus(target);
      error = undefined;
    } catch (err) {
      error = err instanceof TailshipError ? err.message : String(err);
    }
    draw();
    timer = setTimeout(() => void refresh(), intervalMs);
  };
  const stdin = process.stdin;
  if (stdin.isTTY) {
    emitKeypressEvents(stdin);
    stdin.setRawMode(true);
  }
  const finished = new Promise<void>((resolve) => (done = resolve));
  stdin.on('keypress', (_s: string | undefined, key: { name?: string; ctrl?: boolean } | undefined) => {
    const name = key?.name;
    if (name === 'q' || (key?.ctrl && name === 'c') || name === 'escape') return done();
    if (name === 'l') sort = 'lag';
    else if (name === 'r') sort = 'rate';
    else if (name === 'n') sort = 'name';
    else if (name === 's') sort = SORTS[(SORTS.indexOf(sort) + 1) % SORTS.length]!;
    else return;
    draw();
  });
  process.stdout.on('resize', draw);
  process.once('SIGTERM', () => done());
  await refresh();
  await finished;
  clearTimeout(timer);
  logUpdate.done();
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
}

/** Not a terminal: `count` plain snapshots, `intervalMs` apart. */
async function snapshots(target: OpsTarget, intervalMs: number, count: number, sort: TopSort): Promise<void> {
  if (!(Number.isInteger(count) && count >= 1)) throw new TailshipError('TAILSHIP_USAGE', `--iterations: expected a whole number of snapshots >= 1`);
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
    process.stdout.write((i > 0 ? '\n' : '') + renderTop(await fetchStatus(target), { sort }) + '\n');
  }
}

export function register(program: Command): void {
  program
    .command('top')
    .description("live view of a running daemon through its ops server: per file lag and read rate, per output delivery, queue and errors")
    .addOption(configOption())
    .option('--url <url>', 'ops server (default: the config\'s server.listen, else http://127.0.0.1:9464)')
    .option('--token <token>', 'the server\'s auth_token (default: TAILSHIP_OPS_TOKEN)')
    .option('--interval <duration>', 'refresh every', '1s')
    .addOption(new Option('--sort <key>', 'first sort').choices([...SORTS]).default('lag'))
    .option('--iterations <n>', 'snapshots to print when stdout is not a terminal (default 1)')
    .action((o: TopOptions) => top(o).catch(fail));
}
