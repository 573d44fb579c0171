import { describe, expect, test } from 'vitest';
import type { AnalyticsEvent } from '../../src/mapping/event.js';
import { invalidReason, validateEvent } from '../../src/mapping/validate.js';

const base = { messageId: 'm', originalTimestamp: '2024-01-01T00:00:00.000Z', context: {} };
const ev = (e: Record<string, unknown>): AnalyticsEvent => ({ ...base, ...e }) as unknown as AnalyticsEvent;

describe('validateEvent', () => {
  test.each([
    [{ type: 'track', event: 'E', userId: 'u' }, undefined],
    [{ type: 'track', event: 'E', anonymousId: 'a' }, undefined],
    [{ type: 'track', userId: 'u' }, '"event" is required'],
    [{ type: 'track', event: '', userId: 'u' }, '"event" is required'],
    [{ type: 'track', event: 'E' }, '"userId" or "anonymousId"'],
    [{ type: 'track', event: 'E', userId: '' }, '"userId" or "anonymousId"'],
    [{ type: 'identify', userId: 'u', traits: { a: 1 } }, undefined],
    [{ type: 'identify' }, '"userId" or "anonymousId"'],
    [{ type: 'page', anonymousId: 'a' }, undefined],
    [{ type: 'screen', userId: 'u', name: 'Home' }, undefined],
    [{ type: 'group', userId: 'u', groupId: 'g' }, undefined],
    [{ type: 'group', userId: 'u' }, '"groupId" is required'],
    [{ type: 'group', groupId: 'g' }, '"userId" or "anonymousId"'],
    [{ type: 'alias', userId: 'u', previousId: 'p' }, undefined],
    [{ type: 'alias', anonymousId: 'a', previousId: 'p' }, '"userId" is required for alias'],
    [{ type: 'alias', userId: 'u' }, '"previousId" is required'],
    [{ type: 'track', event: 'E', userId: 5 }, '"userId" must be a string'],
    [{ type: 'track', event: ['E'], userId: 'u' }, '"event" must be a string, got a list'],
    [{ type: 'track', event: 'E', userId: 'u', properties: [1] }, '"properties" must be an object'],
    [{ type: 'track', event: 'E', userId: 'u', context: null }, '"context" must be an object'],
    [{ type: 'track', event: 'E', userId: 'u', integrations: 'All' }, '"integrations" must be an object'],
  ])('%j', (e, want) => {
    const why = invalidReason(ev(e));
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(want);
  });

  test('an invalid event becomes an outcome naming the rule; never throws', () => {
    const o = validateEvent(ev({ type: 'group', userId: 'u' }), 4);
    expect(o).toEqual({ ok: false, rule: 4, reason: 'rule 4 (group): "groupId" is required for group (missing or empty)' });
    const good = ev({ type: 'track', event: 'E', userId: 'u' });
    expect(validateEvent(good, 0)).toEqual({ ok: true, event: good, rule: 0 });
  });
});
