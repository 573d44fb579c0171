import { describe, expect, it } from 'vitest';
import { build, fail, fixtureLines, ok } from './helpers.js';

const id = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const file = `/var/log/containers/checkout-5c8d7b9f4-lq2vx_shop_checkout-${id}.log`;
const ctx = { file, offset: 0 };

describe('docker', () => {
  const lines = fixtureLines('docker-json.log');

  it('strips the trailing newline and keeps stream, time and attrs', () => {
    const p = build({ type: 'docker' });
    expect(ok(p.parse(lines[5] ?? '', { file: '/var/lib/docker/containers/abc/abc-json.log', offset: 0 }))).toEqual({
      message: 'plain text line',
      stream: 'stdout',
      time: '2025-03-12T08:15:03.000000000Z',
      attrs: { tag: 'web' },
    });
    expect(ok(p.parse(lines[1] ?? '', ctx))).toMatchObject({ partial: true, kubernetes: { pod_name: 'checkout-5c8d7b9f4-lq2vx', container_id: id } });
  });

  it('reports lines that are not json-file objects', () => {
    const p = build({ type: 'docker' });
    expect(fail(p.parse('{"msg":"x"}', ctx)).reason).toBe('expected a string "log" field in the Docker json-file object');
    expect(fail(p.parse('not json', ctx)).reason).toMatch(/^invalid Docker json-file line/);
  });
});
