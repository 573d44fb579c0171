/** The protocol registry: each entry is whole, and what the workers import by name stays inside src/emit/. */
import { expect, it } from 'vitest';
import { loadEncoder } from '../../src/emit/encoders.js';
import { outputSchema, PROTOCOLS } from '../../src/emit/registry.js';

it("lists each protocol once, under its options' type", () => {
  const types = PROTOCOLS.map((p) => p.type);
  expect(new Set(types).size).toBe(types.length);
  const union = (outputSchema as unknown as { options: Array<{ shape: { type: { value: string } } }> }).options;
  expect(union.map((o) => o.shape.type.value)).toEqual(types);
});

it("builds every protocol's encoder from its module, as a processing worker does", async () => {
  for (const p of PROTOCOLS) {
    const encoder = await loadEncoder({ module: p.encoderModule });
    expect(typeof encoder.encode, p.type).toBe('function');
    expect(typeof encoder.separator, p.type).toBe('string');
  }
});

it('imports no module outside src/emit/ as an encoder', async () => {
  for (const module of ['../store/store.js', '/etc/passwd', 'rudderstack/../../daemon.js', 'node:fs', 'undici']) {
    await expect(loadEncoder({ module }), module).rejects.toThrow(/not an encoder module/);
  }
});
