/** Queue chunks of one batch for one output, with the row buffer an output keeps from batch to batch. */
import { expect, it } from 'vitest';
import { createEncoder } from '../../src/emit/rudderstack/rudderstack-encoder.js';
import { ChunkBuilder, rowBytesFor } from '../../src/run/chunker.js';
import { unpackEvents } from '../../src/store/payload.js';

const encoder = createEncoder('rudderstack');
const limits = { maxEvents: 2, maxBytes: 10_000 };

it('batches sharing one row buffer each get their own events, even after a batch that failed midway', () => {
  const row = rowBytesFor(encoder, limits);
  const first = new ChunkBuilder('out', limits, encoder, 'file-a', row);
  for (let i = 0; i < 3; i++) first.add(`{"a":${i}}`, 10 * i, 10 * i + 10);
  expect(first.finish().map((c) => unpackEvents(c.payload as Uint8Array))).toEqual([['{"a":0}', '{"a":1}'], ['{"a":2}']]);

  // A batch that throws after adding an event never calls finish(): its event stays in the row.
  new ChunkBuilder('out', limits, encoder, 'file-a', row).add('{"failed":1}', 30, 40);

  const next = new ChunkBuilder('out', limits, encoder, 'file-b', row);
  next.add('{"b":1}', 0, 10);
  const chunks = next.finish();
  expect(chunks.map((c) => unpackEvents(c.payload as Uint8Array))).toEqual([['{"b":1}']]);
  expect(chunks[0]).toMatchObject({ fileKey: 'file-b', startOffset: 0, endOffset: 10, eventCount: 1 });
});
