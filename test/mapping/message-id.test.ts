/** Deterministic message ids: same (pipeline, file key, offset, index) → same id; else different. */
import { describe, expect, it } from 'vitest';
import { messageIdFactory } from '../../src/mapping/message-id.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('messageIdFactory', () => {
  it('gives the same id for the same line, from independent factories', () => {
    const a = messageIdFactory('web', 'k1')(1_048_576, 0);
    const b = messageIdFactory('web', 'k1')(1_048_576, 0);
    expect(a).toBe(b);
    expect(a).toMatch(UUID_V8);
  });

  it('separates pipelines, files, offsets and event indexes', () => {
    const ids = new Set([
      messageIdFactory('web', 'k1')(100, 0),
      messageIdFactory('api', 'k1')(100, 0),
      messageIdFactory('web', 'k2')(100, 0),
      messageIdFactory('web', 'k1')(101, 0),
      messageIdFactory('web', 'k1')(100, 1),
    ]);
    expect(ids.size).toBe(5);
  });

  it('covers offsets up to 256 TiB and 16384 events per line, and refuses beyond', () => {
    const id = messageIdFactory('web', 'k1');
    expect(id(2 ** 48 - 1, 2 ** 14 - 1)).toMatch(UUID_V8);
    expect(() => id(2 ** 48, 0)).toThrow(RangeError);
    expect(() => id(0, 2 ** 14)).toThrow(RangeError);
  });
});
