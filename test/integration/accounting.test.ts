/**
 * Accounting that closes: on a file mixing every outcome (events, parse and mapping failures, a
 * record past a bound, a drop rule, sampling, no rule, a multiline group, and a partial line
 * dropped when the file is truncated), lines read = queued + dead letters + drops, each term
 * as expected, in the stored totals (`tailship status`) and in the daemon's metrics totals.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { collectStatus } from '../../src/ops/status.js';
import { counters } from '../helpers/observer-counters.js';
import { useTestBed } from '../helpers/test-bed.js';

const bed = useTestBed({ writeKey: 'k' });

const j = (o: Record<string, unknown>): string => JSON.stringify(o);

it('lines read = queued + dead letters by stage + counted drops, per file, on a mixed file', async () => {
  const log = path.join(bed.tmp.dir, 'mixed.log');
  const stateDir = path.join(bed.tmp.dir, 'state');
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) lines.push(j({ kind: 'ok', user: `u${i}` })); // 10 queued
  for (let i = 0; i < 3; i++) lines.push(j({ kind: 'drop', user: 'x' })); // 3 filtered
  for (let i = 0; i < 4; i++) lines.push(j({ kind: 'sample', user: 'x' })); // 4 sampled out
  for (let i = 0; i < 2; i++) lines.push(j({ kind: 'other', user: 'x' })); // 2 unmatched
  lines.push('not json at all', '{"broken":'); // 2 parse dead letters
  lines.push('{"a":'.repeat(100) + '1' + '}'.repeat(100)); // 1 parse dead letter (max_depth)
  lines.push(j({ kind: 'ok' })); // 1 mapping dead letter: no user, so no anonymousId
  lines.push('{"kind": "ok",', '  "user": "multi",', '  "n": 1}'); // 1 queued + 2 merged
  writeFileSync(log, lines.join('\n') + '\n' + j({ kind: 'ok', user: 'partial' }).slice(0, 10)); // a partial line, held

  const text = `state_dir: ${JSON.stringify(stateDir)}
log_level: silent
pipelines:
  - name: app
    inputs: [{ paths: [${JSON.stringify(log)}], start_at: beginning, poll_interval: 50ms, partial_line_timeout: 1h }]
    parser: { type: json }
    multiline: { pattern: '^\\s', match: after, timeout: 200ms }
    events:
      - when: 'kind == "drop"'
        drop: true
      - when: 'kind == "sample"'
        sample: { rate: 0 }
        type: track
        event: Sampled
        anonymousId: "{{ user }}"
      - when: 'kind == "ok"'
        type: track
        event: Line
        anonymousId: "{{ user }}"
    output: { type: rudderstack, url: ${bed.collector.url}, write_key: k, flush_interval: 50ms }
`;
  bed.daemon = await Daemon.create(loadConfigText(text, 'test.yaml', bed.tmp.dir, {}), createLogger({ level: 'silent', secrets: [], pretty: false }));
  await bed.daemon.start();
  const d = bed.daemon;
  await bed.collector.waitFor(() => bed.collector.accepted >= 11, 30_000, '11 events');
  // The multiline group is complete once its timeout passed: wait until every line before the partial one is counted.
  const readLines = (): number => counters(d.observer).get('file_lines_read');
  await bed.collector.waitFor(() => readLines() >= lines.length, 30_000, `${lines.length} lines read`);

  // Truncated while the partial line is held: it is dropped, and counted.
  writeFileSync(log, j({ kind: 'ok', user: 'after' }) + '\n');
  await bed.collector.waitFor(() => bed.collector.accepted >= 12, 30_000, 'the line after the truncation');
  appendFileSync(log, j({ kind: 'ok', user: 'after2' }) + '\n');
  await bed.collector.waitFor(() => bed.collector.accepted >= 13, 30_000, 'the second line after the truncation');
  const c = counters(d.observer);
  const outcomes = ['queued', 'dead_letter_parse', 'dead_letter_mapping', 'parse_error_dropped', 'filtered', 'sampled_out', 'unmatched', 'multiline_merged', 'dropped_at_truncation'];
  expect(outcomes.reduce((n, o) => n + c.get(`lines_${o}`), 0)).toBe(c.get('file_lines_read'));
  expect(c.get('file_lines_read')).toBe(lines.length + 3);
  await bed.daemon.stop();
  bed.daemon = undefined;

  const report = collectStatus(stateDir);
  const total = (k: string): number => report.accounting.reduce((n, a) => n + (k === 'read' ? a.read : (a.outcomes[k] ?? 0)), 0);
  expect(report.accounting.every((a) => a.gap === 0)).toBe(true);
  expect(report.accounting).toHaveLength(2); // the file's life before the truncation, and after
  expect({
    read: total('read'), queued: total('queued'), dead_letter_parse: total('dead_letter_parse'), dead_letter_mapping: total('dead_letter_mapping'),
    filtered: total('filtered'), sampled_out: total('sampled_out'), unmatched: total('unmatched'), multiline_merged: total('multiline_merged'),
    dropped_at_truncation: total('dropped_at_truncation'), parse_error_dropped: total('parse_error_dropped'),
  }).toEqual({
    read: lines.length + 1 + 2, queued: 10 + 1 + 2, dead_letter_parse: 3, dead_letter_mapping: 1,
    filtered: 3, sampled_out: 4, unmatched: 2, multiline_merged: 2, dropped_at_truncation: 1, parse_error_dropped: 0,
  });
  expect(bed.collector.seen.size).toBe(13);
});
