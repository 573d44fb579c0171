/**
 * `tailship dead-letter list|show|replay|purge`: look at what could not be parsed, mapped or
 * delivered, put delivery dead letters back in their output's queue (e.g. after fixing a write
 * key), or delete them. list/show only read the store; replay/purge write in one SQLite
 * transaction each, beside a running daemon or not (the daemon takes replayed rows up within
 * a second). None of them needs the outputs' secrets: nothing is sent from here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { pipelineOutputs, type LoadedConfig } from '../config/load.js';
import { TailshipError } from '../errors.js';
import type { DeadLetter, DeadLetterFilter, DeadLetterKind } from '../store/dead-letters.js';
import { Store, STORE_FILE } from '../store/store.js';
import { configOption, fail, loadConfig } from './shared.js';

interface FilterOptions {
  config?: string;
  pipeline?: string;
  output?: string;
  kind?: string;
  all?: boolean;
  json?: boolean;
  limit?: string;
}

const KINDS: readonly DeadLetterKind[] = ['parse', 'mapping', 'delivery'];

function filterOf(o: FilterOptions, ids: readonly string[] = []): DeadLetterFilter {
  if (o.kind !== undefined && !KINDS.includes(o.kind as DeadLetterKind)) {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', `--kind must be one of ${KINDS.join(', ')}, got "${o.kind}"`);
  }
  const parsed = ids.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new TailshipError('TAILSHIP_CONFIG_INVALID', `"${s}" is not a dead letter id`);
    return n;
  });
  return { pipeline: o.pipeline, output: o.output, kind: o.kind as DeadLetterKind | undefined, ids: ids.length ? parsed : undefined };
}

/**
 * Opens the store read-only, or for changes. Changes need no lock against a running daemon:
 * SQLite serialises the writers (each change is one transaction; busy_timeout waits for the
 * daemon's), and the daemon only ever appends to the queue and deletes rows it has sent.
 */
function openStore(loaded: LoadedConfig, write: boolean): { store: Store; close: () => void } {
  const dir = loaded.config.state_dir;
  if (!existsSync(path.join(dir, STORE_FILE))) {
    throw new TailshipError('TAILSHIP_STORE_CORRUPT', `no state store at ${path.join(dir, STORE_FILE)} (has tailship run with this config?)`);
  }
  const store = new Store(dir, { readonly: !write });
  return { store, close: () => store.close() };
}

/** The config without the outputs' secrets: nothing here sends. */
const configOf = (o: FilterOptions): LoadedConfig => loadConfig(o.config, { allowUnsetVariables: true });

/** Every letter matching the filter, in pages so that a large table does not load at once. */
function* allMatching(store: Store, filter: DeadLetterFilter): Generator<DeadLetter> {
  let after = 0;
  for (;;) {
    const page = store.deadLetters.select(filter, after, 500);
    if (page.length === 0) return;
    yield* page;
    after = page[page.length - 1]!.id;
  }
}

function age(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function list(o: FilterOptions): void {
  const { store, close } = openStore(configOf(o), false);
  try {
    const limit = o.limit === undefined ? 100 : Number(o.limit);
    const letters = store.deadLetters.select(filterOf(o), 0, Number.isInteger(limit) && limit > 0 ? limit : 100);
    if (o.json) {
      process.stdout.write(JSON.stringify(letters, null, 2) + '\n');
      return;
    }
    if (letters.length === 0) {
      process.stdout.write('no dead letters\n');
      return;
    }
    const rows = letters.map((d) => [
      String(d.id), d.pipeline, d.output ?? '-', d.kind, d.status === null ? '-' : String(d.status), String(d.attempts), age(d.createdAt),
      d.reason.replace(/\s+/g, ' ').slice(0, 80),
    ]);
    const head = ['ID', 'PIPELINE', 'OUTPUT', 'KIND', 'STATUS', 'ATTEMPTS', 'AGE', 'REASON'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    const total = store.deadLetters.counts().reduce((n, c) => n + c.count, 0);
    if (total > letters.length) process.stdout.write(`(${letters.length} shown of ${total}; use --limit, --pipeline, --output or --kind)\n`);
  } finally {
    close();
  }
}

function show(id: string, o: FilterOptions): void {
  const { store, close } = openStore(configOf(o), false);
  try {
    const [d] = store.deadLetters.select(filterOf({}, [id]), 0, 1);
    if (!d) throw new TailshipError('TAILSHIP_CONFIG_INVALID', `no dead letter with id ${id}`);
    if (o.json) {
      process.stdout.write(JSON.stringify(d, null, 2) + '\n');
      return;
    }
    const lines = [
      `id:        ${d.id}`,
      `pipeline:  ${d.pipeline}`,
      `output:    ${d.output ?? '-'}`,
      `kind:      ${d.kind}${d.kind === 'delivery' ? '' : ' (cannot be replayed)'}`,
      `created:   ${new Date(d.createdAt).toISOString()}`,
      `reason:    ${d.reason}`,
      `status:    ${d.status ?? '-'}`,
      `attempts:  ${d.attempts}`,
      `source:    ${d.file ?? '-'}${d.offset === null ? '' : ` @ ${d.offset}`}`,
    ];
    if (d.response) lines.push(`response:  ${d.response}`);
    let payload = d.payload;
    try {
      payload = JSON.stringify(JSON.parse(d.payload), null, 2);
    } catch {
      // a raw line (parse/mapping dead letter): shown as it is
    }
    process.stdout.write(lines.join('\n') + `\npayload:\n${payload}\n`);
  } finally {
    close();
  }
}

function requireSelection(ids: readonly string[], o: FilterOptions, verb: string): void {
  if (ids.length === 0 && !o.all) throw new TailshipError('TAILSHIP_CONFIG_INVALID', `give the ids to ${verb}, or --all (narrowed by --pipeline/--output${verb === 'purge' ? '/--kind' : ''})`);
  if (ids.length > 0 && o.all) throw new TailshipError('TAILSHIP_CONFIG_INVALID', `give ids or --all, not both`);
}

function replay(ids: string[], o: FilterOptions): void {
  requireSelection(ids, o, 'replay');
  const loaded = configOf(o);
  const outputs = new Set(loaded.config.pipelines.flatMap((p) => pipelineOutputs(p).map((out) => `${p.name}\u0000${out.name}`)));
  const { store, close } = openStore(loaded, true);
  try {
    const ok: DeadLetter[] = [];
    const notDelivery: DeadLetter[] = [];
    const noOutput: DeadLetter[] = [];
    const filter = filterOf(o, ids);
    for (const d of allMatching(store, filter)) {
      if (d.kind !== 'delivery' || d.output === null) notDelivery.push(d);
      else if (!outputs.has(`${d.pipeline}\u0000${d.output}`)) noOutput.push(d);
      else ok.push(d);
    }
    const found = new Set([...ok, ...notDelivery, ...noOutput].map((d) => d.id));
    const missing = (filter.ids ?? []).filter((id) => !found.has(id));
    // One transaction for the lot: either all are back in the queue or none is. A letter another
    // replay or purge took meanwhile is not queued twice.
    const replayed = ok.length ? store.replayDeadLetters(ok) : [];
    const per = new Map<string, number>();
    for (const d of replayed) per.set(`${d.pipeline}/${d.output}`, (per.get(`${d.pipeline}/${d.output}`) ?? 0) + 1);
    const out: string[] = [];
    out.push(
      replayed.length
        ? `replayed ${replayed.length} dead letter${replayed.length === 1 ? '' : 's'} into the queue (${[...per].map(([k, n]) => `${k}: ${n}`).join(', ')}); a running tailship sends them within seconds, else the next run does`
        : 'nothing replayed',
    );
    if (notDelivery.length) {
      out.push(
        `${notDelivery.length} parse/mapping dead letter${notDelivery.length === 1 ? '' : 's'} cannot be replayed (ids ${summarizeIds(notDelivery)}): ` +
          'they are raw lines that never became events. Fix the parser or the rules; `show` has each line, `purge --kind parse|mapping` removes them.',
      );
    }
    if (noOutput.length) out.push(`${noOutput.length} dead letter${noOutput.length === 1 ? '' : 's'} left alone (ids ${summarizeIds(noOutput)}): their output is not in this config any more`);
    if (missing.length) out.push(`no dead letter with id ${missing.join(', ')}`);
    process.stdout.write(out.join('\n') + '\n');
    // Asked for specific ids and some could not be replayed: say so in the exit code too.
    if (ids.length && (notDelivery.length || noOutput.length || missing.length)) process.exitCode = 1;
  } finally {
    close();
  }
}

function purge(ids: string[], o: FilterOptions): void {
  requireSelection(ids, o, 'purge');
  const { store, close } = openStore(configOf(o), true);
  try {
    const n = store.deadLetters.purge(filterOf(o, ids));
    process.stdout.write(`purged ${n} dead letter${n === 1 ? '' : 's'}\n`);
  } finally {
    close();
  }
}

function summarizeIds(ds: readonly DeadLetter[]): string {
  const ids = ds.map((d) => d.id);
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')}, … (${ids.length})`;
}

const wrap = (f: () => void): void => {
  try {
    f();
  } catch (err) {
    fail(err);
  }
};

export function register(program: Command): void {
  const dl = program.command('dead-letter').description('list, show, replay or purge dead letters');
  const filters = (c: Command): Command =>
    c
      .addOption(configOption())
      .option('--pipeline <name>', 'only this pipeline')
      .option('--output <name>', 'only this output');
  filters(dl.command('list').description('dead letters, oldest first (read-only, safe beside a running daemon)'))
    .option('--kind <kind>', 'parse, mapping or delivery')
    .option('--limit <n>', 'show at most n (default 100)')
    .option('--json', 'machine-readable output')
    .action((o: FilterOptions) => wrap(() => list(o)));
  dl.command('show <id>')
    .description('one dead letter with its reason, answer and payload')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action((id: string, o: FilterOptions) => wrap(() => show(id, o)));
  filters(dl.command('replay [ids...]').description('put delivery dead letters back in their output\'s queue (safe beside a running daemon)'))
    .option('--all', 'every delivery dead letter (narrowed by --pipeline/--output)')
    .action((ids: string[], o: FilterOptions) => wrap(() => replay(ids, o)));
  filters(dl.command('purge [ids...]').description('delete dead letters for good (safe beside a running daemon)'))
    .option('--kind <kind>', 'parse, mapping or delivery')
    .option('--all', 'every dead letter (narrowed by --pipeline/--output/--kind)')
    .action((ids: string[], o: FilterOptions) => wrap(() => purge(ids, o)));
}
