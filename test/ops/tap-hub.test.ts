/**
 * The tap hub: what each pipeline is asked to copy (the union of its viewers' rules, call types
 * resolved to rules, the highest sample), nothing once the last viewer leaves, and each viewer
 * getting only its own filter's events within its rate.
 */
import { expect, it } from 'vitest';
import type { TapSelector } from '../../src/run/tap.js';
import { TAP_MAX_PER_BATCH, TapHub } from '../../src/ops/tap.js';

function setup() {
  const applied = new Map<string, TapSelector | undefined>();
  let now = 0;
  const targets = [
    { name: 'web', ruleTypes: ['track', 'page', undefined] as const, setTap: (s: TapSelector | undefined) => applied.set('web', s) },
    { name: 'api', ruleTypes: ['identify'] as const, setTap: (s: TapSelector | undefined) => applied.set('api', s) },
  ];
  const hub = new TapHub(() => targets, () => now);
  return { hub, applied, tick: (ms: number) => (now += ms) };
}

const event = (rule: number, n: number) => ({ file: '/x.log', offset: n, rule, line: `line ${n}`, event: `{"n":${n}}` });

it('asks each pipeline for the union of what its viewers want, and for nothing once they leave', () => {
  const { hub, applied } = setup();
  const a = hub.attach({ pipeline: 'web', types: ['page'], sample: 0.5, ratePerSec: 10 }, () => true);
  expect(applied.get('web')).toEqual({ rules: [1], sample: 0.5, maxPerBatch: TAP_MAX_PER_BATCH });
  expect(applied.get('api')).toBeUndefined();
  const b = hub.attach({ rules: [0], sample: 1, ratePerSec: 10 }, () => true);
  expect(applied.get('web')).toEqual({ rules: [0, 1], sample: 1, maxPerBatch: TAP_MAX_PER_BATCH });
  expect(applied.get('api')).toEqual({ rules: [0], sample: 1, maxPerBatch: TAP_MAX_PER_BATCH });
  hub.detach(b);
  // A type no rule of "api" has: nothing asked of it.
  const c = hub.attach({ types: ['alias'], sample: 1, ratePerSec: 10 }, () => true);
  expect(applied.get('api')).toBeUndefined();
  hub.detach(a);
  hub.detach(c);
  expect(applied.get('web')).toBeUndefined();
  expect(hub.viewerCount).toBe(0);
});

it('gives each viewer its own events within its rate, and counts the rest', () => {
  const { hub, tick } = setup();
  const pages: string[] = [];
  const all: string[] = [];
  hub.attach({ pipeline: 'web', types: ['page'], sample: 1, ratePerSec: 1000 }, (l) => (pages.push(l), true));
  const slow = hub.attach({ sample: 1, ratePerSec: 2 }, (l) => (all.push(l), true));
  hub.publish('web', { events: [event(0, 1), event(1, 2), event(1, 3), event(0, 4)], overflow: 5 });
  expect(pages.map((l) => JSON.parse(l))).toEqual([
    expect.objectContaining({ kind: 'event', pipeline: 'web', rule: 1, type: 'page', offset: 2, line: 'line 2', event: { n: 2 } }),
    expect.objectContaining({ offset: 3 }),
  ]);
  expect(all).toHaveLength(2);
  expect(slow.stats).toEqual({ sent: 2, dropped: { rate: 2, slow: 0, batch_cap: 5 } });
  tick(1000);
  hub.publish('web', { events: [event(0, 5)], overflow: 0 });
  expect(all).toHaveLength(3);
});

it('counts events a full viewer could not take as slow', () => {
  const { hub } = setup();
  const v = hub.attach({ sample: 1, ratePerSec: 100 }, () => false);
  hub.publish('web', { events: [event(0, 1), event(1, 2)], overflow: 0 });
  expect(v.stats).toEqual({ sent: 0, dropped: { rate: 0, slow: 2, batch_cap: 0 } });
});
