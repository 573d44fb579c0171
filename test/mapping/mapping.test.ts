import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { LogRecord } from '../../parsers/types.js';
import { pipelineSchema, type PipelineConfig } from '../../src/config/schema.js';
import { TailshipError } from '../../src/errors.js';
import type { AnalyticsEvent, LineMeta, MapOutcome } from '../../src/mapping/event.js';
import { compileMapper, unitHash, type MappingHooks } from '../../src/mapping/mapping.js';
import { messageIdFactory } from '../../src/mapping/message-id.js';

function pipeline(events: unknown[], extra: Record<string, unknown> = {}): PipelineConfig {
  return pipelineSchema.parse({ name: 'web', inputs: [{ paths: ['/var/log/x.log'] }], parser: { type: 'json' }, output: { type: 'stdout' }, events, ...extra });
}

const meta = (offset = 100, fileKey = 'dev1:ino2:fp'): LineMeta => ({ fileKey, file: '/var/log/app.log', offset, readAtMs: Date.UTC(2024, 0, 2, 3, 4, 5, 6) });

function counters(): MappingHooks & { n: Record<string, number> } {
  const n: Record<string, number> = { timestampFallback: 0, dropped: 0, sampledOut: 0, unmatched: 0 };
  return {
    n,
    timestampFallback: () => void n.timestampFallback!++,
    dropped: () => void n.dropped!++,
    sampledOut: () => void n.sampledOut!++,
    unmatched: () => void n.unmatched!++,
  };
}

function mapper(events: unknown[], extra: Record<string, unknown> = {}, hooks?: MappingHooks) {
  return compileMapper(pipeline(events, extra), { pipelineIndex: 0, host: 'web-1', version: '9.9.9', ...(hooks ? { hooks } : {}) });
}

function ok(outs: MapOutcome[]): AnalyticsEvent[] {
  return outs.map((o) => {
    if (!o.ok) throw new Error(`unexpected mapping error: ${o.reason}`);
    return o.event;
  });
}

const login: LogRecord = {
  user: 'u-42',
  anon: 'a-1',
  old_id: 'anon-9',
  email: 'ada@example.com',
  ip: '203.0.113.7',
  ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  plan: 'pro',
  company: 77,
  path: '/welcome',
  ref: 'https://www.google.com/search?q=tailship',
  time: '2024-01-01T10:00:00Z',
  status: 200,
};

describe('call types', () => {
  test('track', () => {
    const [e] = ok(mapper([{ type: 'track', event: 'Signed In', userId: '{{ user }}', properties: { plan: '{{ plan }}', status: '{{ status }}' }, timestamp: '{{ time }}' }]).map(login, meta()));
    expect(e).toEqual({
      type: 'track',
      messageId: messageIdFactory('web', 'dev1:ino2:fp')(100, 0),
      originalTimestamp: '2024-01-01T10:00:00.000Z',
      context: { library: { name: 'tailship', version: '9.9.9' } },
      event: 'Signed In',
      userId: 'u-42',
      properties: { plan: 'pro', status: 200 },
    });
  });

  test('identify: traits also in context.traits, before library', () => {
    const [e] = ok(mapper([{ type: 'identify', userId: '{{ user }}', traits: { email: '{{ email }}', plan: '{{ plan }}' } }]).map(login, meta()));
    expect(e).toMatchObject({ type: 'identify', userId: 'u-42', traits: { email: 'ada@example.com', plan: 'pro' } });
    expect(e).not.toHaveProperty('event');
    expect(Object.keys(e!.context)).toEqual(['traits', 'library']);
    expect(e!.context.traits).toEqual({ email: 'ada@example.com', plan: 'pro' });
  });

  test('page: name and category copied into properties; screen keeps them at the top only', () => {
    const [p] = ok(mapper([{ type: 'page', name: 'Welcome', category: 'Onboarding', anonymousId: '{{ anon }}', properties: { path: '{{ path }}' } }]).map(login, meta()));
    expect(p).toMatchObject({ type: 'page', name: 'Welcome', category: 'Onboarding', anonymousId: 'a-1', properties: { path: '/welcome', name: 'Welcome', category: 'Onboarding' } });
    const [bare] = ok(mapper([{ type: 'page', name: 'Home', userId: 'u' }]).map(login, meta()));
    expect(bare!.properties).toEqual({ name: 'Home' });
    const [s] = ok(mapper([{ type: 'screen', name: '{{ path }}', category: 'C', userId: '{{ user }}' }]).map(login, meta()));
    expect(s).toMatchObject({ type: 'screen', name: '/welcome', userId: 'u-42' });
    expect(s).not.toHaveProperty('properties');
  });

  test('the copies are made after redact and hash: what is removed or hashed is so in both places', () => {
    const m = mapper([{ type: 'identify', userId: 'u', traits: { email: '{{ email }}' } }], { redact: ['traits.email'] });
    const [page] = ok(mapper([{ type: 'page', name: '{{ email }}', userId: 'u' }], { hash: ['name'], hash_salt: 's' }).map(login, meta()));
    const hashed = createHash('sha256').update('s').update('ada@example.com').digest('hex');
    expect(page).toMatchObject({ name: hashed, properties: { name: hashed } });
    const [identify] = ok(m.map(login, meta()));
    expect(identify!.traits).toEqual({});
    expect(identify!.context.traits).toEqual({});
  });

  test('group: groupId coerced to a string', () => {
    const [g] = ok(mapper([{ type: 'group', groupId: '{{ company }}', userId: '{{ user }}', traits: { plan: '{{ plan }}' } }]).map(login, meta()));
    expect(g).toMatchObject({ type: 'group', groupId: '77', userId: 'u-42', traits: { plan: 'pro' } });
  });

  test('alias', () => {
    const [a] = ok(mapper([{ type: 'alias', userId: '{{ user }}', previousId: '{{ old_id }}' }]).map(login, meta()));
    expect(a).toMatchObject({ type: 'alias', userId: 'u-42', previousId: 'anon-9' });
  });

  test('type defaults to track; numeric ids become strings', () => {
    const [e] = ok(mapper([{ event: 'X', userId: '{{ status }}' }]).map(login, meta()));
    expect(e?.type).toBe('track');
    expect(e?.userId).toBe('200');
  });

  test('snowplow schema passes through', () => {
    const [e] = ok(mapper([{ event: 'X', userId: 'u', schema: 'iglu:com.acme/login/jsonschema/1-0-0' }]).map(login, meta()));
    expect(e?.schema).toBe('iglu:com.acme/login/jsonschema/1-0-0');
  });
});

describe('rules: order, continue, drop, sample', () => {
  test('first matching rule wins', () => {
    const m = mapper([
      { when: 'status >= 500', event: 'Server Error', userId: 'u' },
      { when: 'status >= 200', event: 'OK', userId: 'u' },
      { event: 'Fallback', userId: 'u' },
    ]);
    expect(ok(m.map({ status: 503 }, meta())).map((e) => e.event)).toEqual(['Server Error']);
    expect(ok(m.map({ status: 200 }, meta())).map((e) => e.event)).toEqual(['OK']);
    expect(ok(m.map({ status: 100 }, meta())).map((e) => e.event)).toEqual(['Fallback']);
  });

  test('continue: one line makes several events with distinct, deterministic messageIds', () => {
    const m = mapper([
      { when: 'has(user)', type: 'identify', userId: '{{ user }}', traits: { email: '{{ email }}' }, continue: true },
      { when: 'has(user)', type: 'track', event: 'Logged In', userId: '{{ user }}' },
      { type: 'track', event: 'Never', userId: 'x' },
    ]);
    const events = ok(m.map(login, meta(555)));
    expect(events.map((e) => e.type)).toEqual(['identify', 'track']);
    const f = messageIdFactory('web', 'dev1:ino2:fp');
    expect(events.map((e) => e.messageId)).toEqual([f(555, 0), f(555, 1)]);
    const again = ok(mapper([
      { when: 'has(user)', type: 'identify', userId: '{{ user }}', continue: true },
      { when: 'has(user)', type: 'track', event: 'Logged In', userId: '{{ user }}' },
    ]).map(login, meta(555)));
    expect(again.map((e) => e.messageId)).toEqual(events.map((e) => e.messageId));
    expect(ok(m.map(login, meta(556)))[0]?.messageId).not.toBe(events[0]?.messageId);
    expect(ok(m.map(login, meta(555, 'other-file')))[0]?.messageId).not.toBe(events[0]?.messageId);
  });

  test('drop: no event, counted; unmatched counted', () => {
    const h = counters();
    const m = mapper([{ when: 'path =~ /^\\/health/', drop: true }, { when: 'status < 400', event: 'Hit', userId: 'u' }], {}, h);
    expect(m.map({ path: '/healthz', status: 200 }, meta())).toEqual([]);
    expect(m.map({ path: '/x', status: 500 }, meta())).toEqual([]);
    expect(ok(m.map({ path: '/x', status: 200 }, meta()))).toHaveLength(1);
    expect(h.n).toMatchObject({ dropped: 1, unmatched: 1, sampledOut: 0 });
  });

  test('drop after a continue rule keeps the events already made', () => {
    const h = counters();
    const m = mapper([{ event: 'Seen', userId: 'u', continue: true }, { when: 'bot', drop: true }, { event: 'Human', userId: 'u' }], {}, h);
    expect(ok(m.map({ bot: true }, meta())).map((e) => e.event)).toEqual(['Seen']);
    expect(ok(m.map({ bot: false }, meta())).map((e) => e.event)).toEqual(['Seen', 'Human']);
    expect(h.n.dropped).toBe(1);
  });

  test('sample by key: deterministic, one key all in or all out, rate within tolerance', () => {
    const h = counters();
    const m = mapper([{ event: 'Hit', userId: '{{ user }}', sample: { rate: 0.25, key: '{{ user }}' } }], {}, h);
    let kept = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const rec = { user: `user-${i}` };
      const a = m.map(rec, meta(i)).length;
      const b = m.map(rec, meta(i + 1_000_000)).length; // another line of the same user
      expect(b).toBe(a);
      kept += a;
    }
    expect(kept / N).toBeGreaterThan(0.235);
    expect(kept / N).toBeLessThan(0.265);
    expect(h.n.sampledOut).toBe(2 * (N - kept));
  });

  test('sample without key: by line, deterministic across replays', () => {
    const make = () => mapper([{ event: 'Hit', userId: 'u', sample: { rate: 0.5 } }]);
    const a = make();
    const b = make();
    let kept = 0;
    for (let i = 0; i < 4000; i++) {
      const x = a.map({}, meta(i * 80)).length;
      expect(b.map({}, meta(i * 80)).length).toBe(x);
      kept += x;
    }
    expect(kept / 4000).toBeGreaterThan(0.46);
    expect(kept / 4000).toBeLessThan(0.54);
  });

  test('sample rate 0 and 1', () => {
    expect(mapper([{ event: 'Hit', userId: 'u', sample: { rate: 0 } }]).map({}, meta())).toEqual([]);
    expect(mapper([{ event: 'Hit', userId: 'u', sample: { rate: 1 } }]).map({}, meta())).toHaveLength(1);
  });

  test('a sampled-out rule with continue lets the next rules run', () => {
    const m = mapper([{ event: 'A', userId: 'u', sample: { rate: 0 }, continue: true }, { event: 'B', userId: 'u' }]);
    expect(ok(m.map({}, meta())).map((e) => e.event)).toEqual(['B']);
  });

  test('unitHash spreads into [0, 1)', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => unitHash(String(i)));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.filter((x) => x < 0.5).length).toBeGreaterThan(430);
    expect(xs.filter((x) => x < 0.5).length).toBeLessThan(570);
  });
});

describe('identity, context, timestamps', () => {
  test('anonymous_id_from gives a stable id only when both ids are missing', () => {
    const m = mapper([{ event: 'Hit', userId: '{{ user }}', anonymous_id_from: ['{{ ip }}', '{{ ua }}'] }]);
    const [a] = ok(m.map({ ip: '1.2.3.4', ua: 'curl/8' }, meta()));
    const [b] = ok(m.map({ ip: '1.2.3.4', ua: 'curl/8' }, meta(999)));
    const [c] = ok(m.map({ ip: '1.2.3.5', ua: 'curl/8' }, meta()));
    expect(a?.anonymousId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(b?.anonymousId).toBe(a?.anonymousId);
    expect(c?.anonymousId).not.toBe(a?.anonymousId);
    const [d] = ok(m.map({ user: 'u1', ip: '1.2.3.4' }, meta()));
    expect(d).not.toHaveProperty('anonymousId');
    const [bad] = m.map({}, meta());
    expect(bad).toMatchObject({ ok: false, rule: 0 });
  });

  test('pipeline context merged with the rule context; library always set', () => {
    const m = mapper(
      [{ event: 'Hit', userId: 'u', context: { ip: '{{ ip }}', app: { build: 7 }, library: { name: 'spoof' } } }],
      { context: { app: { name: 'shop', version: '{{ v }}' }, source: { host: '{{ _host }}', file: '{{ _file }}', offset: '{{ _offset }}' } } },
    );
    const [e] = ok(m.map({ ip: '1.2.3.4', v: '1.0' }, meta(42)));
    expect(e?.context).toEqual({
      app: { name: 'shop', version: '1.0', build: 7 },
      source: { host: 'web-1', file: '/var/log/app.log', offset: 42 },
      ip: '1.2.3.4',
      library: { name: 'tailship', version: '9.9.9' },
    });
  });

  test('a nested "__proto__" key of the rule context is merged as a plain key, never into Object.prototype', () => {
    // As YAML and JSON parsers give it: an own key named __proto__.
    const ruleContext = JSON.parse('{"app": {"__proto__": {"polluted": "{{ v }}"}}}') as Record<string, unknown>;
    const m = mapper([{ event: 'Hit', userId: 'u', context: ruleContext }], { context: { app: { name: 'x' } } });
    const [e] = ok(m.map({ v: 'yes' }, meta()));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(e!.context.app, '__proto__')?.value).toEqual({ polluted: 'yes' });
  });

  test("merging contexts, redacting and hashing leave the record's own objects as they were", () => {
    const record = (): LogRecord => ({ user: { id: 'u1', plan: 'pro' }, query: { q: 'shoes', token: 's3cret' } });
    const rec = record();
    const m = mapper(
      [
        { event: 'First', userId: '{{ user.id }}', properties: { q: '{{ query }}' }, context: { who: { seen: 'yes' } }, continue: true },
        { event: 'Second', userId: '{{ user.id }}', properties: { query: '{{ query }}' }, context: { who: '{{ user }}' } },
      ],
      { context: { who: '{{ user }}' }, redact: ['properties.q.token'], hash: ['context.who.plan'], hash_salt: 's' },
    );
    const [first, second] = ok(m.map(rec, meta()));
    const hashedPlan = createHash('sha256').update('s').update('pro').digest('hex');
    // The record is untouched: no merged key, nothing redacted or hashed in it.
    expect(rec).toEqual(record());
    expect(first?.properties).toEqual({ q: { q: 'shoes' } });
    expect(first?.context.who).toEqual({ id: 'u1', plan: hashedPlan, seen: 'yes' });
    // The second rule sees the record as logged.
    expect(second?.properties).toEqual({ query: { q: 'shoes', token: 's3cret' } });
    expect(second?.context.who).toEqual({ id: 'u1', plan: hashedPlan });
  });

  test('events do not share objects between records', () => {
    const m = mapper([{ event: 'Hit', userId: 'u', properties: { fixed: { a: 1 } } }], { context: { app: { name: 'x' } } });
    const [a] = ok(m.map({}, meta()));
    (a!.context.app as { name: string }).name = 'mutated';
    (a!.properties!.fixed as { a: number }).a = 2;
    const [b] = ok(m.map({}, meta()));
    expect(b?.context.app).toEqual({ name: 'x' });
    expect(b?.properties).toEqual({ fixed: { a: 1 } });
  });

  test('timestamp fallback to the read time is counted; no timestamp configured is not', () => {
    const h = counters();
    const m = mapper([{ when: 'has(t)', event: 'A', userId: 'u', timestamp: '{{ t }}', timestamp_format: 'nginx', continue: true }, { event: 'B', userId: 'u', timestamp: '{{ missing }}' }, { event: 'C', userId: 'u' }], {}, h);
    const [a, b] = ok(m.map({ t: '10/Oct/2000:13:55:36 -0700' }, meta()));
    expect(a?.originalTimestamp).toBe('2000-10-10T20:55:36.000Z');
    expect(b?.originalTimestamp).toBe('2024-01-02T03:04:05.006Z');
    expect(h.n.timestampFallback).toBe(1);
    const [c] = ok(m.map({ t: 'garbage' }, meta()));
    expect(c?.originalTimestamp).toBe('2024-01-02T03:04:05.006Z');
    expect(h.n.timestampFallback).toBe(3); // rule A's garbage, then rule B's missing field
    ok(m.map({}, meta()));
    expect(h.n.timestampFallback).toBe(4); // rule B only: rule C has no timestamp configured
  });
});

describe('privacy: redact and hash', () => {
  test('the raw values never appear in the event', () => {
    const salt = 's3cret';
    const m = mapper(
      [{ type: 'identify', userId: '{{ email }}', traits: { email: '{{ email }}', plan: '{{ plan }}' }, context: { ip: '{{ ip }}', userAgent: '{{ ua }}' } }],
      { redact: ['context.ip', 'traits.nope', 'nope.deeper'], hash: ['userId', 'traits.email'], hash_salt: salt },
    );
    const [e] = ok(m.map(login, meta()));
    const json = JSON.stringify(e);
    expect(json).not.toContain('ada@example.com');
    expect(json).not.toContain('203.0.113.7');
    const h = createHash('sha256').update(salt).update('ada@example.com').digest('hex');
    expect(e?.userId).toBe(h);
    expect(e?.traits).toEqual({ email: h, plan: 'pro' });
    expect(e?.context).not.toHaveProperty('ip');
  });

  test('hashing without a salt is plain sha256; redacting an id invalidates the event', () => {
    const m = mapper([{ event: 'E', userId: '{{ user }}' }], { hash: ['userId'] });
    const [e] = ok(m.map({ user: 'u1' }, meta()));
    expect(e?.userId).toBe(createHash('sha256').update('u1').digest('hex'));
    const r = mapper([{ event: 'E', userId: '{{ user }}' }], { redact: ['userId'] }).map({ user: 'u1' }, meta());
    expect(r[0]).toMatchObject({ ok: false, rule: 0 });
  });
});

describe('enrichment', () => {
  test('user agent → context.userAgentData (opt-in)', () => {
    const rule = { event: 'E', userId: 'u', context: { userAgent: '{{ ua }}' } };
    const [plain] = ok(mapper([rule]).map(login, meta()));
    expect(plain?.context).not.toHaveProperty('userAgentData');
    const m = mapper([rule], { enrich: { user_agent: true } });
    const [e] = ok(m.map(login, meta()));
    expect(e?.context.userAgentData).toMatchObject({ browser: { name: 'Mobile Safari', major: '17' }, os: { name: 'iOS' }, device: { type: 'mobile', model: 'iPhone' }, mobile: true, platform: 'iOS' });
    // cached parse, fresh object
    const [f] = ok(m.map(login, meta(1)));
    expect(f?.context.userAgentData).toEqual(e?.context.userAgentData);
    expect(f?.context.userAgentData).not.toBe(e?.context.userAgentData);
  });

  test('redacting the raw user agent keeps the parsed data', () => {
    const m = mapper([{ event: 'E', userId: 'u', context: { userAgent: '{{ ua }}' } }], { enrich: { user_agent: true }, redact: ['context.userAgent'] });
    const [e] = ok(m.map(login, meta()));
    expect(e?.context).not.toHaveProperty('userAgent');
    expect(e?.context.userAgentData).toMatchObject({ os: { name: 'iOS' } });
  });

  test('referrer URL parsing (opt-in)', () => {
    const m = mapper([{ type: 'page', userId: 'u', context: { page: { referrer: '{{ ref }}' } } }], { enrich: { referrer: true } });
    const [e] = ok(m.map(login, meta()));
    expect(e?.context.referrer).toMatchObject({ host: 'www.google.com', path: '/search', query: { q: 'tailship' } });
    const [none] = ok(m.map({ ref: '-' }, meta()));
    expect(none?.context).not.toHaveProperty('referrer');
  });
});

describe('validation: invalid events are dead letters naming rule and field', () => {
  test.each([
    [{ type: 'track', event: '{{ missing }}', userId: 'u' }, '"event"'],
    [{ type: 'track', event: 'E' }, '"userId" or "anonymousId"'],
    [{ type: 'group', groupId: '{{ missing }}', userId: 'u' }, '"groupId"'],
    [{ type: 'alias', userId: '{{ missing }}', previousId: 'p' }, '"userId"'],
    [{ type: 'alias', userId: 'u', previousId: '{{ missing }}' }, '"previousId"'],
    [{ type: 'identify', userId: '{{ obj }}' }, '"userId" must be a string'],
  ])('%j', (rule, field) => {
    const outs = mapper([{ when: 'false', event: 'never', userId: 'u' }, rule]).map({ obj: { a: 1 } }, meta());
    expect(outs).toHaveLength(1);
    const o = outs[0]!;
    expect(o.ok).toBe(false);
    if (!o.ok) {
      expect(o.rule).toBe(1);
      expect(o.reason).toContain('rule 1');
      expect(o.reason).toContain(field);
    }
  });
});

describe('compile errors name the key path', () => {
  function err(events: unknown[], extra: Record<string, unknown> = {}): TailshipError {
    try {
      compileMapper(pipeline(events, extra), { pipelineIndex: 3, host: 'h', version: '1' });
    } catch (e) {
      expect(e).toBeInstanceOf(TailshipError);
      return e as TailshipError;
    }
    throw new Error('expected a compile error');
  }

  test('bad when', () => {
    const e = err([{ event: 'a', userId: 'u' }, { when: 'status >=', event: 'b', userId: 'u' }]);
    expect(e.code).toBe('TAILSHIP_EXPRESSION_INVALID');
    expect(e.place.path).toBe('pipelines[3].events[1].when');
  });
  test('bad template in a nested field', () => {
    const e = err([{ event: 'a', userId: 'u', properties: { total: '{{ price | nope }}' } }]);
    expect(e.code).toBe('TAILSHIP_TEMPLATE_INVALID');
    expect(e.place.path).toBe('pipelines[3].events[0].properties.total');
  });
  test('bad template in the pipeline context and sample key', () => {
    expect(err([{ event: 'a', userId: 'u' }], { context: { app: '{{ x' } }).place.path).toBe('pipelines[3].context.app');
    expect(err([{ event: 'a', userId: 'u', sample: { rate: 0.5, key: '{{ }}' } }]).place.path).toBe('pipelines[3].events[0].sample.key');
  });
  test('a field that is not part of the call type, a missing required field, a bad zone', () => {
    const a = err([{ type: 'track', event: 'x', userId: 'u', traits: { a: 1 } }]);
    expect(a.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(a.place.path).toBe('pipelines[3].events[0].traits');
    const b = err([{ type: 'alias', userId: 'u' }]);
    expect(b.place.path).toBe('pipelines[3].events[0].previousId');
    const c = err([{ type: 'track', userId: 'u' }]);
    expect(c.place.path).toBe('pipelines[3].events[0].event');
    const d = err([{ event: 'x', userId: 'u', timestamp: '{{ t }}', timezone: 'Nowhere/City' }]);
    expect(d.place.path).toBe('pipelines[3].events[0].timezone');
    const t = err([{ event: 'x', userId: 'u', timestamp: 'time_local' }]);
    expect(t.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(t.place.path).toBe('pipelines[3].events[0].timestamp');
    const f = err([{ event: 'x', userId: 'u', timestamp: '{{ t }}', timestamp_format: '%Y-%Q' }]);
    expect(f.place.path).toBe('pipelines[3].events[0].timestamp_format');
  });
});

describe('snowplow context entities', () => {
  const USER = 'iglu:com.example/user/jsonschema/1-0-0';
  const PLAN = 'iglu:com.example/plan/jsonschema/1-0-0';

  test("the pipeline's entities, then the rule's, data rendered from the record", () => {
    const m = mapper(
      [{ type: 'track', event: 'Signed In', userId: '{{ user }}', contexts: [{ schema: PLAN, data: { plan: '{{ plan }}', status: '{{ status }}' } }] }],
      { contexts: [{ schema: USER, data: { email: '{{ email }}' } }] },
    );
    const [e] = ok(m.map(login, meta()));
    expect(e!.contexts).toEqual([
      { schema: USER, data: { email: 'ada@example.com' } },
      { schema: PLAN, data: { plan: 'pro', status: 200 } },
    ]);
    // Not a RudderStack / Segment field: the message JSON path stays as it was.
    expect(e!.context).toEqual({ library: { name: 'tailship', version: '9.9.9' } });
  });

  test('an entity whose values are all missing from the record is left out; none at all: no contexts', () => {
    const m = mapper([{ type: 'track', event: 'E', userId: '{{ user }}', contexts: [{ schema: USER, data: { email: '{{ nope }}' } }] }]);
    expect(ok(m.map(login, meta()))[0]!.contexts).toBeUndefined();
  });

  test('the schema must be an Iglu URI', () => {
    expect(() => pipeline([{ type: 'track', event: 'E', userId: 'u', contexts: [{ schema: 'com.example/user', data: {} }] }])).toThrow(/expected an Iglu URI/);
  });
});
