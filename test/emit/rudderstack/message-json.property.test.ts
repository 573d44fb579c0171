/**
 * Property: for any pipeline of rules and any record, `Mapper.mapWith` the RudderStack writers
 * (events written straight to RudderStack / Segment JSON where a rule allows it) gives exactly what `Mapper.map` followed
 * by the encoder gives: the same text for every event, the same dead letters, the same counts.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { pipelineSchema } from '../../../src/config/schema.js';
import type { CallType } from '../../../src/mapping/call-types.js';
import { compileMapper } from '../../../src/mapping/mapping.js';
import { encodeMessage, type MessageDialect } from '../../../src/emit/rudderstack/message-json.js';
import { messageWriters } from '../../../src/emit/rudderstack/message-writer.js';
import { CountingHooks } from '../../../src/run/process.js';
import { record } from '../../helpers/records.js';

const scalarTemplate = fc.constantFrom(
  '{{ status }}', '{{ user }}', '{{ missing }}', '{{ query }}', '{{ query.b }}', 'x-{{ n }}', '{{ n | int }}', '{{ path | json }}',
  'const', '', '{{ email | default: "d" }}', '{{ _offset }}', '{{ _host }}', 'a"b\\c\u2028', '{{ ua }}', '{{ time }}', '{{ a-b }}',
  '{{ toString }}', '{{ query.constructor }}', '{{ $["a-b"] }}', '  {{ user }} ', '{{ query.b.c }}', '{{ n }}{{ n }}', '{{ "lit" }}',
);
const constant = fc.constantFrom<unknown>(1, -0, 1.5, 1e21, Number.NaN, null, true, false, 'plain');
const objectKey = fc.constantFrom('ip', 'path', 'library', '10', '2', '__proto__', 'a-b', 'x"y', 'page', 'userAgent', 'name', 'category', 'traits');
const templateValue = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarTemplate,
    constant,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(objectKey, tie('v'), { maxKeys: 3 }),
  ),
})).v;
const templateObject = fc.dictionary(objectKey, templateValue, { maxKeys: 4 });

const TYPES: readonly CallType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

const rule = fc
  .record({
    type: fc.constantFrom(...TYPES),
    when: fc.option(fc.constantFrom('status >= 500', 'has(user)', 'not has(n)'), { nil: undefined }),
    continue: fc.boolean(),
    scalars: fc.array(scalarTemplate, { minLength: 7, maxLength: 7 }),
    ids: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    anonFrom: fc.option(fc.array(scalarTemplate, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    objects: fc.array(fc.option(templateObject, { nil: undefined }), { minLength: 3, maxLength: 3 }),
    timestamp: fc.option(fc.constantFrom('{{ time }}', '{{ n }}'), { nil: undefined }),
  })
  .map((r) => {
    const [event, name, category, userId, anonymousId, previousId, groupId] = r.scalars;
    const [props, context, integrations] = r.objects;
    const out: Record<string, unknown> = { type: r.type, continue: r.continue };
    if (r.when !== undefined) out.when = r.when;
    if (r.ids[0] || r.type === 'alias') out.userId = userId;
    if (r.ids[1]) out.anonymousId = anonymousId;
    if (r.anonFrom) out.anonymous_id_from = r.anonFrom;
    if (r.type === 'track') out.event = event;
    if (r.type === 'page' || r.type === 'screen') Object.assign(out, { name, category });
    if (r.type === 'alias') out.previousId = previousId;
    if (r.type === 'group') out.groupId = groupId;
    if (props && (r.type === 'track' || r.type === 'page' || r.type === 'screen')) out.properties = props;
    if (props && (r.type === 'identify' || r.type === 'group')) out.traits = props;
    if (context) out.context = context;
    if (integrations) out.integrations = integrations;
    if (r.timestamp) out.timestamp = r.timestamp;
    return out;
  });

const pipeline = fc.record({
  events: fc.array(rule, { minLength: 1, maxLength: 3 }),
  context: fc.option(templateObject, { nil: undefined, freq: 2 }),
  // Rarely: the settings under which rules fall back to building objects.
  redact: fc.constantFrom<string[]>([], [], [], [], [], ['context.ip']),
  enrich: fc.constantFrom({}, {}, {}, {}, {}, { user_agent: true }),
});

describe('events written straight to message JSON', () => {
  test('are exactly the encoded events, with the same dead letters and counts', () => {
    let written = 0;
    let events = 0;
    fc.assert(
      fc.property(pipeline, fc.array(record, { minLength: 1, maxLength: 8 }), fc.nat({ max: 2 ** 40 }), fc.constantFrom<MessageDialect>('rudderstack', 'segment'), (p, records, offset, dialect) => {
        const config = pipelineSchema.parse({ name: 'p', inputs: [{ paths: ['/x'] }], parser: { type: 'json' }, output: { type: 'stdout' }, ...p });
        const [hooksA, hooksB] = [new CountingHooks(), new CountingHooks()];
        const objects = compileMapper(config, { pipelineIndex: 0, host: 'h', version: '1', hooks: hooksA });
        const direct = compileMapper(config, { pipelineIndex: 0, host: 'h', version: '1', hooks: hooksB });
        const writers = messageWriters(direct.rules, dialect);
        records.forEach((rec, i) => {
          const meta = { fileKey: 'f', file: '/x', offset: offset + i, readAtMs: 1_700_000_000_000 };
          const logged = structuredClone(rec);
          const expected = objects.map(rec, meta);
          // Mapping reads the record and never changes it (the next rule, or the other path, reads it too).
          expect(rec).toEqual(logged);
          const got = direct.mapWith(rec, meta, writers);
          expect(got).toHaveLength(expected.length);
          expected.forEach((e, j) => {
            const g = got[j]!;
            if (!e.ok) return expect(g).toEqual(e);
            expect(g.ok).toBe(true);
            events++;
            if ('json' in g) written++;
            expect('json' in g ? g.json : g.ok && encodeMessage(g.event, dialect)).toBe(encodeMessage(e.event, dialect));
          });
        });
        expect(hooksB.counts).toEqual(hooksA.counts);
      }),
      { numRuns: 1000 },
    );
    // The property must have exercised the direct writers, not only the fallback.
    console.log(`message JSON: ${written} of ${events} events written directly`);
    expect(written).toBeGreaterThan(events / 4);
  });
});
