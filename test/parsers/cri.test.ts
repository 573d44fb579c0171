import { describe, expect, it } from 'vitest';
import { build, fail, fixtureLines, ok } from './helpers.js';

const id = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const file = `/var/log/containers/checkout-5c8d7b9f4-lq2vx_shop_checkout-${id}.log`;
const ctx = { file, offset: 0 };

describe('cri', () => {
  const lines = fixtureLines('cri.log');

  it('parses a line with Kubernetes metadata from the path', () => {
    expect(ok(build({ type: 'cri' }).parse(lines[6] ?? '', ctx))).toEqual({
      time: '2025-03-12T08:15:03.500000000Z',
      stream: 'stdout',
      logtag: 'F',
      message: 'plain text, not json',
      kubernetes: { pod_name: 'checkout-5c8d7b9f4-lq2vx', namespace_name: 'shop', container_name: 'checkout', container_id: id },
    });
  });

  it('runs the inner parser on the message, keeping non-JSON lines', () => {
    const p = build({ type: 'cri', message_parser: { type: 'json' } });
    const r = ok(p.parse(lines[0] ?? '', ctx));
    expect(r).toMatchObject({ level: 'info', msg: 'server started', port: 8080, stream: 'stdout' });
    expect(r).not.toHaveProperty('message');
    expect(ok(p.parse(lines[6] ?? '', ctx)).message).toBe('plain text, not json');
  });

  it('marks unjoined P lines partial and accepts an empty message', () => {
    const p = build({ type: 'cri', kubernetes_metadata: false });
    expect(ok(p.parse(lines[1] ?? '', ctx))).toMatchObject({ partial: true, logtag: 'P' });
    expect(ok(p.parse(lines[5] ?? '', ctx))).toEqual({ time: '2025-03-12T08:15:03.000000000Z', stream: 'stderr', logtag: 'F', message: '' });
    expect(ok(p.parse('2025-03-12T08:15:03Z stdout F', ctx)).message).toBe('');
  });

  it('says which part of a CRI line is wrong', () => {
    const p = build({ type: 'cri' });
    expect(fail(p.parse('hello', ctx))).toMatchObject({ column: 1 });
    expect(fail(p.parse('2025-03-12T08:15:03Z stdio F x', ctx)).reason).toBe('expected "stdout" or "stderr" at column 22');
    expect(fail(p.parse('2025-03-12T08:15:03Z stdout X x', ctx)).reason).toBe('expected the tag "F" or "P" at column 29');
  });
});
