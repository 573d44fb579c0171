/**
 * Property: whatever the record holds (any JSON, odd keys such as __proto__ or constructor,
 * wrong types where numbers are expected), the mapper returns outcomes and never throws, and
 * every ok event is valid for its call type and has a well-formed time and messageId.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { pipelineSchema } from '../../src/config/schema.js';
import { compileMapper } from '../../src/mapping/mapping.js';
import { invalidReason } from '../../src/mapping/validate.js';
import { record } from '../helpers/records.js';

const mapper = compileMapper(
  pipelineSchema.parse({
    name: 'prop',
    inputs: [{ paths: ['/x'] }],
    parser: { type: 'json' },
    output: { type: 'stdout' },
    context: { src: { host: '{{ _host }}', off: '{{ _offset }}' } },
    redact: ['context.ip'],
    hash: ['traits.email', 'userId'],
    enrich: { user_agent: true, referrer: true },
    events: [
      { when: 'status >= 500 and not has(user)', event: 'Err', anonymous_id_from: ['{{ ua }}', '{{ path }}'], timestamp: '{{ time }}', continue: true },
      { when: 'path =~ /^\\/drop/', drop: true },
      { when: 'has(user) and "@" in email', type: 'identify', userId: '{{ user }}', traits: { email: '{{ email | trim | lower }}', n: '{{ n | int }}' }, continue: true },
      { when: 'n * 2 > 10 or query.b in ["1", 1]', type: 'group', groupId: '{{ n }}', userId: '{{ user }}', sample: { rate: 0.5, key: '{{ user }}' } },
      { type: 'page', name: '{{ path | url }}', anonymousId: '{{ user | default: "anon" }}', properties: { q: '{{ query }}', j: '{{ path | json }}', s: '{{ status | split: "0" }}' }, context: { userAgent: '{{ ua }}', ip: '{{ n }}', page: { referrer: '{{ path }}' } }, timestamp: '{{ time }}', timestamp_format: '%Y-%m-%d' },
    ],
  }),
  { pipelineIndex: 0, host: 'h', version: '1' },
);

describe('mapper on arbitrary records', () => {
  test('never throws; ok events are valid', () => {
    fc.assert(
      fc.property(record, fc.nat({ max: 2 ** 40 }), (rec, offset) => {
        const outs = mapper.map(rec, { fileKey: 'f', file: '/x', offset, readAtMs: 1_700_000_000_000 });
        for (const o of outs) {
          if (o.ok) {
            expect(invalidReason(o.event)).toBeUndefined();
            expect(o.event.originalTimestamp).toMatch(/^[-+]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
            expect(o.event.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            expect(o.event.context.library).toEqual({ name: 'tailship', version: '1' });
            expect(o.event.context).not.toHaveProperty('ip');
          } else {
            expect(o.reason).toMatch(/^rule \d+ \(\w+\): /);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
