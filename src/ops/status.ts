/**
 * `tailship status`: reads the store (read-only, so a running daemon is not disturbed) and
 * shows each file's offset and lag, the queue depth per output, the dead letters and the last
 * error per output (from the running daemon's /readyz when its server is on, else the reason of
 * the output's latest dead letter).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { LoadedConfig } from '../config/load.js';
import { LINE_OUTCOMES, OUTCOME_LABELS, sumOutcomes } from '../store/line-outcomes.js';
import { Store, STORE_FILE } from '../store/store.js';
import { makeScrubber } from './redact.js';
import { parseListen } from './server.js';

export interface StatusReport {
  store: string;
  files: Array<{ pipeline: string; path: string; identity: string; offset: number; size: number | null; lag: number | null; removed: boolean }>;
  queues: Array<{ pipeline: string; output: string; rows: number; events: number; bytes: number; oldestAgeSec: number | null }>;
  deadLetters: Array<{ pipeline: string; output: string | null; kind: string; count: number }>;
  /**
   * Per file life, lines read and what became of them (committed totals, across restarts):
   * `gap` = read minus the sum of the outcomes, always 0.
   */
  accounting: Array<{ pipeline: string; path: string; fileKey: string; read: number; outcomes: Record<string, number>; gap: number }>;
  /** Last error per output; `source` says whether it comes from the running daemon or the store. */
  lastErrors: Array<{ pipeline: string; output: string; error: string; at: string | null; source: 'daemon' | 'dead-letter' }>;
  /** The running daemon's readiness, when its server answered. */
  daemon: { reachable: boolean; ready?: boolean; problems?: string[] } | null;
}

export function collectStatus(stateDir: string): StatusReport {
  const file = path.join(stateDir, STORE_FILE);
  if (!existsSync(file)) return { store: file, files: [], queues: [], deadLetters: [], accounting: [], lastErrors: [], daemon: null };
  const store = new Store(stateDir, { readonly: true });
  try {
    const now = Date.now();
    return {
      store: file,
      files: store.files.all().map((s) => {
        let size: number | null = null;
        try {
          const st = statSync(s.path);
          if (st.ino === s.ino && st.dev === s.dev) size = st.size;
        } catch {
          // gone from this path
        }
        return {
          pipeline: s.pipeline, path: s.path, identity: `${s.dev}:${s.ino}`, offset: s.offset, size,
          lag: size === null ? null : Math.max(0, size - s.offset), removed: s.removedAt !== null,
        };
      }),
      queues: store.queue.depthByOutput().map((q) => ({
        pipeline: q.pipeline, output: q.output, rows: q.rows, events: q.events, bytes: q.bytes,
        oldestAgeSec: q.oldest === null ? null : Math.round((now - q.oldest) / 1000),
      })),
      deadLetters: store.deadLetters.counts(),
      accounting: store.lineAccounts.all().map((a) => ({
        pipeline: a.pipeline, path: a.path, fileKey: a.fileKey, read: a.read,
        outcomes: Object.fromEntries(LINE_OUTCOMES.map((k) => [OUTCOME_LABELS[k], a.outcomes[k]])),
        gap: a.read - sumOutcomes(a.outcomes),
      })),
      lastErrors: store.deadLetters.lastDeliveryErrors().map((r) => ({ pipeline: r.pipeline, output: r.output, error: r.reason, at: new Date(r.at).toISOString(), source: 'dead-letter' as const })),
      daemon: null,
    };
  } finally {
    store.close();
  }
}

/** Asks a running daemon's /readyz (when `server` is configured) for live output errors. */
async function askDaemon(loaded: LoadedConfig, report: StatusReport): Promise<void> {
  const listen = loaded.config.server?.listen;
  if (!listen) return;
  const { host, port } = parseListen(listen);
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${h}:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { ok: boolean; problems: string[]; outputs?: Array<{ pipeline: string; output: string; lastError: string | null }> };
    report.daemon = { reachable: true, ready: body.ok, problems: body.problems };
    for (const o of body.outputs ?? []) {
      if (!o.lastError) continue;
      report.lastErrors = report.lastErrors.filter((e) => !(e.pipeline === o.pipeline && e.output === o.output));
      report.lastErrors.push({ pipeline: o.pipeline, output: o.output, error: o.lastError, at: null, source: 'daemon' });
    }
  } catch {
    report.daemon = { reachable: false };
  }
}

export async function printStatus(loaded: LoadedConfig, json: boolean, out: Writable): Promise<void> {
  const report = collectStatus(loaded.config.state_dir);
  await askDaemon(loaded, report);
  const scrub = makeScrubber(loaded.secrets);
  for (const e of report.lastErrors) e.error = scrub(e.error);
  if (json) {
    out.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  out.write(`store: ${report.store}\n\nFILES\n`);
  out.write(
    table(
      ['PIPELINE', 'PATH', 'IDENTITY', 'OFFSET', 'SIZE', 'LAG'],
      report.files.map((f) => [f.pipeline, f.path + (f.removed ? ' (removed)' : ''), f.identity, String(f.offset), f.size === null ? '-' : String(f.size), f.lag === null ? '-' : String(f.lag)]),
    ),
  );
  out.write('\nQUEUE\n');
  out.write(table(['PIPELINE', 'OUTPUT', 'EVENTS', 'ROWS', 'BYTES', 'OLDEST'], report.queues.map((q) => [q.pipeline, q.output, String(q.events), String(q.rows), String(q.bytes), q.oldestAgeSec === null ? '-' : `${q.oldestAgeSec}s`])));
  out.write('\nDEAD LETTERS\n');
  out.write(table(['PIPELINE', 'OUTPUT', 'KIND', 'COUNT'], report.deadLetters.map((d) => [d.pipeline, d.output ?? '-', d.kind, String(d.count)])));
  out.write('\nLINES (read = queued + dead letters + dropped, per file life)\n');
  out.write(
    table(
      ['PIPELINE', 'PATH', 'READ', 'QUEUED', 'DEAD LETTERS', 'DROPPED', 'GAP'],
      report.accounting.map((a) => {
        const dead = (a.outcomes['dead_letter_parse'] ?? 0) + (a.outcomes['dead_letter_mapping'] ?? 0);
        const dropped = a.read - a.gap - (a.outcomes['queued'] ?? 0) - dead;
        return [a.pipeline, a.path, String(a.read), String(a.outcomes['queued'] ?? 0), String(dead), String(dropped), String(a.gap)];
      }),
    ),
  );
  out.write('\nLAST ERROR PER OUTPUT\n');
  out.write(table(['PIPELINE', 'OUTPUT', 'SOURCE', 'AT', 'ERROR'], report.lastErrors.map((e) => [e.pipeline, e.output, e.source, e.at ?? 'now', oneLine(e.error, 120)])));
  if (report.daemon) {
    out.write(
      `\nDAEMON\n  ${report.daemon.reachable ? (report.daemon.ready ? 'ready' : `not ready: ${(report.daemon.problems ?? []).join('; ')}`) : 'not reachable on server.listen (not running?)'}\n`,
    );
  }
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => '  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  return fmt(head) + rows.map(fmt).join('');
}
