/**
 * `tailship status`: reads the store (read-only, so a running daemon is not disturbed) and
 * shows each file's offset and lag, the queue depth per output and the dead letters.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { LoadedConfig } from '../config/load.js';
import { Store, STORE_FILE } from '../store/store.js';

export interface StatusReport {
  store: string;
  files: Array<{ pipeline: string; path: string; identity: string; offset: number; size: number | null; lag: number | null; removed: boolean }>;
  queues: Array<{ pipeline: string; output: string; rows: number; events: number; bytes: number; oldestAgeSec: number | null }>;
  deadLetters: Array<{ pipeline: string; output: string | null; kind: string; count: number }>;
}

export function collectStatus(stateDir: string): StatusReport {
  const file = path.join(stateDir, STORE_FILE);
  if (!existsSync(file)) return { store: file, files: [], queues: [], deadLetters: [] };
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
    };
  } finally {
    store.close();
  }
}

export function printStatus(loaded: LoadedConfig, json: boolean, out: Writable): void {
  const report = collectStatus(loaded.config.state_dir);
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
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => '  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  return fmt(head) + rows.map(fmt).join('');
}
