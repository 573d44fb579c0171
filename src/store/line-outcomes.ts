/**
 * The accounting of lines: every line read ends as exactly one of these outcomes, so that for
 * each file `lines read = sum of outcomes` (checked by `accountingGap`). A line that makes
 * several events (rules with `continue`) is one `queued` line; a line that makes an event and
 * a mapping error is `queued` (its dead letter is still written and counted as a dead letter).
 */
export interface LineOutcomes {
  /** Made at least one event, committed to the queue. */
  queued: number;
  /** Did not parse, or its record was past a bound, or it was longer than max_line_bytes (dead_letter). */
  deadLetterParse: number;
  /** Every rule that took it failed. */
  deadLetterMapping: number;
  /** Did not parse, with `on_parse_error: drop`. */
  parseErrorDropped: number;
  /** Taken by a `drop: true` rule. */
  filtered: number;
  /** Sampled out by a rule's `sample`. */
  sampledOut: number;
  /** No rule took it. */
  unmatched: number;
  /** Joined into the line before it (multiline groups, container partial lines). */
  merged: number;
  /** An unfinished last line dropped because its file was truncated before its newline came. */
  droppedAtTruncation: number;
}

export type LineOutcome = keyof LineOutcomes;

export const LINE_OUTCOMES: readonly LineOutcome[] = [
  'queued', 'deadLetterParse', 'deadLetterMapping', 'parseErrorDropped', 'filtered', 'sampledOut', 'unmatched', 'merged', 'droppedAtTruncation',
];

/** Outcome names as metrics labels and stored rows show them. */
export const OUTCOME_LABELS: Readonly<Record<LineOutcome, string>> = {
  queued: 'queued',
  deadLetterParse: 'dead_letter_parse',
  deadLetterMapping: 'dead_letter_mapping',
  parseErrorDropped: 'parse_error_dropped',
  filtered: 'filtered',
  sampledOut: 'sampled_out',
  unmatched: 'unmatched',
  merged: 'multiline_merged',
  droppedAtTruncation: 'dropped_at_truncation',
};

export function emptyOutcomes(): LineOutcomes {
  return { queued: 0, deadLetterParse: 0, deadLetterMapping: 0, parseErrorDropped: 0, filtered: 0, sampledOut: 0, unmatched: 0, merged: 0, droppedAtTruncation: 0 };
}

export function addOutcomes(into: LineOutcomes, from: Readonly<LineOutcomes>): void {
  for (const k of LINE_OUTCOMES) into[k] += from[k];
}

export function sumOutcomes(o: Readonly<LineOutcomes>): number {
  let n = 0;
  for (const k of LINE_OUTCOMES) n += o[k];
  return n;
}
