/**
 * Lifecycle test helpers: a JSON-lines config whose input options are given per test, lines that
 * carry (file, number), and the count of a child's open handles on files under a directory.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import type { RecordedMessage } from '../helpers/collector.js';

export interface LifecycleConfigOptions {
  stateDir: string;
  paths: string[];
  url: string;
  /** Extra input options, as YAML `key: value` pairs. */
  input?: Record<string, string | number | boolean>;
  batchSize?: number;
}

export function lifecycleConfig(o: LifecycleConfigOptions): string {
  const input = { start_at: 'beginning', poll_interval: '50ms', rescan_interval: '500ms', ...o.input };
  return `
state_dir: ${JSON.stringify(o.stateDir)}
log_level: ${process.env.TAILSHIP_TEST_LOG ?? 'silent'}
shutdown_timeout: 2s
pipelines:
  - name: life
    inputs:
      - paths: ${JSON.stringify(o.paths)}
${Object.entries(input)
  .map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
    parser: { type: json }
    events:
      - type: track
        event: "Line"
        anonymousId: "{{ f }}"
        properties: { f: "{{ f }}", n: "{{ n }}" }
    output:
      type: rudderstack
      url: ${o.url}
      write_key: test-write-key
      batch_size: ${o.batchSize ?? 500}
      flush_interval: 50ms
      concurrency: 2
      retry: { base: 20ms, cap: 200ms }
`;
}

/** One JSON line naming its file and number; the collector gives them back as "f/n". */
export function jsonLine(f: string, n: number): string {
  return `{"f":"${f}","n":${n}}\n`;
}

export function lineId(m: RecordedMessage): string {
  const p = m.properties as { f: string; n: string | number };
  return `${p.f}/${p.n}`;
}

/** Open file descriptors of process `pid` that point under `dir` (Linux /proc). */
export function openHandlesUnder(pid: number, dir: string): number {
  let n = 0;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir + '/')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
