/**
 * A batch whose processing failed as a whole: its worker thread died (a plugin that exits, a
 * heap limit reached on a hostile line, an exception thrown from a timer), or processing threw
 * outside a line. It is processed again in halves until the lines that fail on their own are
 * found. Each of those becomes a counted parse dead letter, and the other lines are processed
 * as usual: a pipeline never stops for a line.
 */
import type { LineBatch } from '../source/line-batch.js';
import { addOutcomes } from '../store/line-outcomes.js';
import { emptyResult, type ProcessCounts, type ProcessResult } from './process.js';

/** Processing failed for a whole batch, for a reason that one of its lines may have caused. */
export class BatchFailure extends Error {
  override readonly name = 'BatchFailure';
}

/**
 * Processes `batch` (after `failure`) in halves with `attempt`, down to single lines; a single
 * line that fails is a dead letter. `attempt` must leave the buffers of the part it is given
 * usable: a part that fails is split next.
 */
export async function isolateFailingLines(batch: LineBatch, failure: BatchFailure, attempt: (b: LineBatch) => Promise<ProcessResult>): Promise<ProcessResult> {
  if (batch.count <= 1) return failedLine(batch, failure);
  const mid = Math.ceil(batch.count / 2);
  const results: ProcessResult[] = [];
  for (const part of [sliceBatch(batch, 0, mid), sliceBatch(batch, mid, batch.count)]) {
    try {
      results.push(await attempt(part));
    } catch (err) {
      if (!(err instanceof BatchFailure)) throw err;
      results.push(await isolateFailingLines(part, err, attempt));
    }
  }
  return mergeResults(results);
}

/** Lines [from, to) of a batch, in buffers of their own. */
export function sliceBatch(batch: LineBatch, from: number, to: number): LineBatch {
  const first = batch.spans[4 * from] ?? 0;
  const last = to > from ? batch.spans[4 * (to - 1) + 1]! : first;
  const spans = batch.spans.slice(4 * from, 4 * to);
  for (let i = 0; i < spans.length; i += 4) {
    spans[i] = spans[i]! - first;
    spans[i + 1] = spans[i + 1]! - first;
  }
  const sliced: LineBatch = {
    file: batch.file, fileKey: batch.fileKey, readAtMs: batch.readAtMs, count: to - from,
    bytes: batch.bytes.slice(first, last),
    spans,
    truncated: batch.truncated.filter((i) => i >= from && i < to).map((i) => i - from),
  };
  return batch.joined ? { ...sliced, joined: batch.joined.slice(from, to) } : sliced;
}

/** The one line of `batch`, which fails on its own: a parse dead letter, counted. */
function failedLine(batch: LineBatch, failure: BatchFailure): ProcessResult {
  const result = emptyResult();
  if (batch.count === 0) return result;
  const [from, to, start, end] = [batch.spans[0]!, batch.spans[1]!, batch.spans[2]!, batch.spans[3]!];
  const joined = batch.joined?.[0] ?? 1;
  const { counts } = result;
  counts.lines = joined;
  counts.outcomes.merged = joined - 1;
  counts.outcomes.deadLetterParse = 1;
  counts.parsed.error = 1;
  counts.bytes = end - start;
  const payload = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset + from, to - from).toString('utf8');
  result.letters.push({ kind: 'parse', reason: `processing failed on this line, which was set aside: ${failure.message}`, file: batch.file, offset: start, payload });
  return result;
}

/** The results of consecutive parts of a batch, as the batch's result. */
function mergeResults(results: readonly ProcessResult[]): ProcessResult {
  const merged = emptyResult();
  for (const r of results) {
    merged.chunks.push(...r.chunks);
    merged.letters.push(...r.letters);
    addCounts(merged.counts, r.counts);
    if (r.tapped) {
      merged.tapped ??= { events: [], overflow: 0 };
      merged.tapped.events.push(...r.tapped.events);
      merged.tapped.overflow += r.tapped.overflow;
    }
  }
  return merged;
}

function addCounts(into: ProcessCounts, from: Readonly<ProcessCounts>): void {
  into.lines += from.lines;
  addOutcomes(into.outcomes, from.outcomes);
  into.bytes += from.bytes;
  into.parsed.ok += from.parsed.ok;
  into.parsed.error += from.parsed.error;
  into.parsed.raw += from.parsed.raw;
  into.events += from.events;
  into.mappingErrors += from.mappingErrors;
  into.timestampFallbacks += from.timestampFallbacks;
  into.dropped += from.dropped;
  into.sampledOut += from.sampledOut;
  into.unmatched += from.unmatched;
}
