/**
 * Flat totals of an Observer under one name each (lines_read, events_sent, ...), summed over all
 * pipelines and outputs: what the tests assert on. Production code reads the per-pipeline and
 * per-output totals (metrics, status) instead.
 */
import { LINE_OUTCOMES, OUTCOME_LABELS } from '../../src/store/line-outcomes.js';
import type { Observer } from '../../src/ops/observer.js';

export function observerTotals(observer: Observer): Record<string, number> {
  const s: Record<string, number> = {};
  const add = (k: string, n: number): void => {
    s[k] = (s[k] ?? 0) + n;
  };
  for (const t of observer.pipelines.values()) {
    add('lines_read', t.lines);
    add('bytes_read', t.bytes);
    for (const [k, n] of Object.entries(t.parsed)) add(`lines_parsed_${k}`, n);
    for (const [k, n] of Object.entries(t.mapped)) add(k === 'event' ? 'events_mapped' : `records_${k}`, n);
    add('events_mapping_errors', t.mapped.error);
    add('timestamp_fallbacks', t.timestampFallbacks);
    add('events_queued', t.eventsQueued);
    add('commits', t.commits);
    add('files_opened', t.filesOpened);
    add('files_rotated', t.filesRotated);
    add('files_truncated', t.filesTruncated);
    add('files_rotated_unread', t.filesRotatedUnread);
    add('lines_truncated', t.linesTruncated);
    add('read_errors', t.readErrors);
    add('dead_letters', t.deadLetters.parse + t.deadLetters.mapping);
    for (const a of t.fileLines.values()) {
      add('file_lines_read', a.read);
      for (const k of LINE_OUTCOMES) add(`lines_${OUTCOME_LABELS[k]}`, a.outcomes[k]);
    }
  }
  for (const o of observer.outputs.values()) {
    add('batches_sent', o.batches.get('2xx') ?? 0);
    add('events_sent', o.eventsSent);
    add('retries', o.retries);
    for (const n of o.deadLetters.values()) add('dead_letters', n);
  }
  return s;
}

/** `counters(observer).get(name)`: one flat total, 0 when nothing counted it yet. */
export function counters(observer: Observer): { get(name: string): number } {
  return { get: (name) => observerTotals(observer)[name] ?? 0 };
}
