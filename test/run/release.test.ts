import { expect, it } from 'vitest';
import { releaseBuffers } from '../../src/run/release.js';

it('detaches the buffers it is given, so that their memory goes at the next minor GC', () => {
  const bytes = new Uint8Array(256 * 1024);
  const spans = new Float64Array(4096).subarray(0, 100);
  releaseBuffers([bytes.buffer, spans.buffer]);
  expect(bytes.buffer.byteLength).toBe(0);
  expect(bytes.length).toBe(0);
  expect(spans.length).toBe(0);
});

it('leaves shared memory alone, and takes empty or already released buffers', () => {
  const shared = new SharedArrayBuffer(1024);
  const released = new ArrayBuffer(8);
  releaseBuffers([released]);
  expect(() => releaseBuffers([shared, released, new ArrayBuffer(0)])).not.toThrow();
  expect(shared.byteLength).toBe(1024);
});
