/**
 * The mapper: applies a pipeline's ordered rules to a record and makes analytics events.
 * A record takes the first rule whose `when` holds (a rule with `continue: true` lets it go on
 * to the following rules, so one line can make several events); `drop` ends it with no event;
 * `sample` keeps a deterministic fraction. Each event gets its fields from templates, a
 * timestamp, the pipeline's context, a deterministic messageId (pipeline, file, offset, index of
 * the event among those its line made), enrichment when enabled, then redaction and hashing,
 * and is validated for its call type. Everything configurable is compiled once, up front:
 * bad templates, expressions, zones or fields throw TailshipError at compile time, while a
 * record that cannot make a valid event gives a `{ ok: false }` outcome (a dead letter).
 * The mapper knows no wire form: it also returns its compiled rules (`Mapper.rules`), from which
 * an output's protocol may build writers of its own form, used through `Mapper.mapWith`.
 */
import { createHash } from 'node:crypto';
import UAParser from 'my-ua-parser';
import { isPlainObject, setField } from '../../parsers/record.js';
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import type { PipelineConfig, RuleConfig } from '../config/schema.js';
import { TailshipError } from '../errors.js';
import { CALL_TYPE_RULES, TYPED_FIELDS, type CallType } from './call-types.js';
import type { AnalyticsEvent, CompiledRules, JsonObject, LineMeta, Mapper, MapOutcome, RuleRuntime, RuleWriters, SelfDescribing, WrittenOutcome } from './event.js';
import { toEventId, toEventText, type Value } from './conversions.js';
import { compileExpression, type Predicate } from './expression.js';
import { saltedSha256 } from './functions.js';
import { messageIdFactory, type MessageIdFactory } from './message-id.js';
import type { Scope } from './path.js';
import { compileObject, compileTemplate, type Render } from './template.js';
import { compileTimestamp, type TimestampParser } from './timestamp.js';
import { splitUrl } from './url.js';
import { validateEvent } from './validate.js';

/** Counters the daemon wires to metrics; each is called once per occurrence. */
export interface MappingHooks {
  /** A rule has a `timestamp` but the value was absent or did not parse: the read time was used. */
  timestampFallback?(): void;
  /** A `drop` rule took the record. */
  dropped?(): void;
  /** A rule took the record but its `sample` left it out. */
  sampledOut?(): void;
  /** No rule took the record. */
  unmatched?(): void;
}

export interface CompileMapperOptions {
  /** Index of the pipeline in the config, for error paths such as `pipelines[0].events[1].when`. */
  pipelineIndex: number;
  /** Host name, readable in templates as `_host`. */
  host: string;
  /** tailship version, sent as `context.library.version`. */
  version: string;
  hooks?: MappingHooks;
}

type ObjRender = (s: Scope) => JsonObject | undefined;

interface CompiledRule {
  readonly index: number;
  readonly when: Predicate | undefined;
  readonly drop: boolean;
  readonly cont: boolean;
  readonly sampleRate: number | undefined;
  readonly sampleKey: Render | undefined;
  readonly type: CallType;
  readonly event: Render | undefined;
  readonly name: Render | undefined;
  readonly category: Render | undefined;
  readonly userId: Render | undefined;
  readonly anonymousId: Render | undefined;
  readonly previousId: Render | undefined;
  readonly groupId: Render | undefined;
  readonly anonFrom: readonly Render[] | undefined;
  readonly properties: ObjRender | undefined;
  readonly traits: ObjRender | undefined;
  readonly context: ObjRender | undefined;
  readonly integrations: ObjRender | undefined;
  readonly timestamp: Render | undefined;
  readonly parseTime: TimestampParser;
  readonly schema: string | undefined;
  readonly contexts: readonly CompiledEntity[];
}

/** A context entity with its data compiled. */
interface CompiledEntity {
  readonly schema: string;
  readonly data: ObjRender;
}

function compileEntities(list: RuleConfig['contexts'], path: string): CompiledEntity[] {
  return (list ?? []).map((c, i) => ({ schema: c.schema, data: objectRender(c.data, `${path}[${i}].data`)! }));
}

/** The entities rendered for one record; an entity whose data renders to nothing is left out. */
function renderEntities(list: readonly CompiledEntity[], s: Scope): SelfDescribing[] {
  const out: SelfDescribing[] = [];
  for (const c of list) {
    const data = c.data(s);
    if (data !== undefined) out.push({ schema: c.schema, data });
  }
  return out;
}

function configError(message: string, path: string): TailshipError {
  return new TailshipError('TAILSHIP_CONFIG_INVALID', message, { path });
}

function objectRender(src: Record<string, unknown> | undefined, path: string): ObjRender | undefined {
  return src === undefined ? undefined : (compileObject(src, path) as ObjRender);
}

function optRender(src: unknown, path: string): Render | undefined {
  return src === undefined ? undefined : compileTemplate(src, path);
}

/** Rules with the same format and zone share one parser, hence its one-entry cache. */
type TimeParsers = Map<string, TimestampParser>;

function compileRule(rule: RuleConfig, index: number, base: string, times: TimeParsers): CompiledRule {
  const path = `${base}.events[${index}]`;
  const type: CallType = rule.type ?? 'track';
  if (!rule.drop) {
    const allowed: readonly string[] = CALL_TYPE_RULES[type].fields;
    for (const f of TYPED_FIELDS) {
      if (rule[f] !== undefined && !allowed.includes(f)) {
        throw configError(`"${f}" is not a field of ${type} events (${type} takes ${allowed.join(', ') || 'no type-specific fields'} besides userId, anonymousId, context, integrations, timestamp)`, `${path}.${f}`);
      }
    }
    if (typeof rule.timestamp === 'string' && !rule.timestamp.includes('{{')) {
      throw configError(`timestamp is a template over the record, e.g. "{{ time_local }}"; got the constant ${JSON.stringify(rule.timestamp)}`, `${path}.timestamp`);
    }
    for (const f of CALL_TYPE_RULES[type].required) {
      if (rule[f] === undefined) throw configError(`a ${type} rule needs "${f}"`, `${path}.${f}`);
    }
  }
  return {
    index,
    when: rule.when === undefined ? undefined : compileExpression(rule.when, `${path}.when`),
    drop: rule.drop,
    cont: rule.continue,
    sampleRate: rule.sample?.rate,
    sampleKey: rule.sample?.key === undefined ? undefined : compileTemplate(rule.sample.key, `${path}.sample.key`),
    type,
    event: optRender(rule.event, `${path}.event`),
    name: optRender(rule.name, `${path}.name`),
    category: optRender(rule.category, `${path}.category`),
    userId: optRender(rule.userId, `${path}.userId`),
    anonymousId: optRender(rule.anonymousId, `${path}.anonymousId`),
    previousId: optRender(rule.previousId, `${path}.previousId`),
    groupId: optRender(rule.groupId, `${path}.groupId`),
    anonFrom: rule.anonymous_id_from?.map((t, i) => compileTemplate(t, `${path}.anonymous_id_from[${i}]`)),
    properties: objectRender(rule.properties, `${path}.properties`),
    traits: objectRender(rule.traits, `${path}.traits`),
    context: objectRender(rule.context, `${path}.context`),
    integrations: objectRender(rule.integrations, `${path}.integrations`),
    timestamp: optRender(rule.timestamp, `${path}.timestamp`),
    parseTime: timeParser(rule, path, times),
    schema: rule.schema,
    contexts: compileEntities(rule.contexts, `${path}.contexts`),
  };
}

function timeParser(rule: RuleConfig, path: string, times: TimeParsers): TimestampParser {
  const key = `${rule.timestamp_format ?? ''}\u0000${rule.timezone ?? ''}`;
  let p = times.get(key);
  if (!p) {
    p = compileTimestamp(rule.timestamp_format, rule.timezone, path);
    times.set(key, p);
  }
  return p;
}

/** Stable hash of a string into [0, 1): FNV-1a, then the murmur3 finaliser to spread the bits. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function keyText(v: Value): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A UUID-shaped id from the sha256 of the given parts (a stable anonymousId). */
function hashedId(parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The anonymousId `anonymous_id_from` makes: a hash of its values, when any of them is present. */
function anonymousFrom(renders: readonly Render[], s: Scope): string | undefined {
  const parts: string[] = [];
  let any = false;
  for (const r of renders) {
    const x = r(s);
    if (x !== undefined && x !== null && x !== '') any = true;
    parts.push(keyText(x));
  }
  return any ? hashedId(parts) : undefined;
}

/** Merges `over` into `base` in place, recursing into objects present in both. */
function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  for (const k of Object.keys(over)) {
    const o = over[k] as RecordValue;
    // Own keys only: base["__proto__"] would be Object.prototype, and merging into it pollutes every object.
    const b = Object.hasOwn(base, k) ? base[k] : undefined;
    // Into a copy of b: b may be one of the record's objects (`{{ user }}` renders it as it is),
    // which merging must not change for the rules after this one.
    setField(base, k, isPlainObject(b) && isPlainObject(o) ? deepMerge({ ...b }, o) : o);
  }
  return base;
}

function cloneJson(v: RecordValue): RecordValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson);
  const out: JsonObject = {};
  for (const k of Object.keys(v)) out[k] = cloneJson(v[k] as RecordValue);
  return out;
}

const UA_CACHE_MAX = 2048;
const NO_RECORD: LogRecord = Object.freeze({}) as LogRecord;

/** User-agent parsing with a bounded cache (a log has few distinct user agents). */
function userAgentParser(): (ua: string) => JsonObject {
  const cache = new Map<string, JsonObject>();
  return (ua) => {
    const hit = cache.get(ua);
    if (hit) return cloneJson(hit) as JsonObject;
    const r = UAParser(ua);
    const data: JsonObject = {};
    const pick = (o: { [k: string]: unknown }, keys: readonly string[]): JsonObject | undefined => {
      const out: JsonObject = {};
      let any = false;
      for (const k of keys) {
        const v = o[k];
        if (typeof v === 'string' && v !== '') {
          out[k] = v;
          any = true;
        }
      }
      return any ? out : undefined;
    };
    const browser = pick(r.browser as unknown as { [k: string]: unknown }, ['name', 'version', 'major']);
    const os = pick(r.os as unknown as { [k: string]: unknown }, ['name', 'version']);
    const device = pick(r.device as unknown as { [k: string]: unknown }, ['type', 'vendor', 'model']);
    const engine = pick(r.engine as unknown as { [k: string]: unknown }, ['name', 'version']);
    if (browser) data.browser = browser;
    if (os) data.os = os;
    if (device) data.device = device;
    if (engine) data.engine = engine;
    data.mobile = r.device.type === 'mobile';
    if (r.os.name) data.platform = r.os.name;
    if (cache.size >= UA_CACHE_MAX) cache.clear();
    cache.set(ua, data);
    return cloneJson(data) as JsonObject;
  };
}

/** A compiled event field path (`context.ip`, `properties.user.email`) for redact / hash. */
type FieldPath = readonly string[];

function compileFieldPaths(paths: readonly string[], key: string, base: string): FieldPath[] {
  return paths.map((p, i) => {
    const parts = p.split('.');
    if (parts.some((x) => x === '')) throw configError(`${JSON.stringify(p)} is not a field path (expected e.g. "context.ip" or "properties.email")`, `${base}.${key}[${i}]`);
    return parts;
  });
}

function applyAt(root: JsonObject, path: FieldPath, fn: (parent: JsonObject, key: string) => void): void {
  let o: JsonObject = root;
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    const k = path[i] as string;
    const next = Object.hasOwn(o, k) ? o[k] : undefined;
    if (!isPlainObject(next)) return;
    // A copy on the way down: the event's objects may be the record's own (rendered as they
    // are), which redacting or hashing must not change for the rules after this one.
    const copy = { ...next };
    setField(o, k, copy);
    o = copy;
  }
  const k = path[last] as string;
  if (Object.hasOwn(o, k)) fn(o, k);
}

/** A page's `name` and `category` copied into its properties, as the SDKs do (Segment's Page spec). */
function pageProperties(ev: AnalyticsEvent): void {
  if (ev.name === undefined && ev.category === undefined) return;
  if (ev.properties !== undefined && !isPlainObject(ev.properties)) return; // a dead letter anyway
  const props: JsonObject = { ...ev.properties };
  if (ev.name !== undefined) props.name = ev.name;
  if (ev.category !== undefined) props.category = ev.category;
  ev.properties = props;
}

/** An identify's traits also as `context.traits`, as rudder-sdk-node sends them; `library` stays last. */
function identifyContext(ev: AnalyticsEvent): void {
  if (ev.traits === undefined) return;
  const { library, ...rest } = ev.context;
  ev.context = library === undefined ? { ...rest, traits: ev.traits } : { ...rest, traits: ev.traits, library };
}

/** Compiles a pipeline's rules into a Mapper. Throws TailshipError (with `place.path`) on a bad config. */
export function compileMapper(pipeline: PipelineConfig, opts: CompileMapperOptions): Mapper {
  const base = `pipelines[${opts.pipelineIndex}]`;
  const times: TimeParsers = new Map();
  const rules = pipeline.events.map((r, i) => compileRule(r, i, base, times));
  const pipelineContext = objectRender(pipeline.context, `${base}.context`);
  const pipelineEntities = compileEntities(pipeline.contexts, `${base}.contexts`);
  const redact = compileFieldPaths(pipeline.redact, 'redact', base);
  const hash = compileFieldPaths(pipeline.hash, 'hash', base);
  const salt = pipeline.hash_salt ?? '';
  const parseUa = pipeline.enrich.user_agent ? userAgentParser() : undefined;
  const enrichReferrer = pipeline.enrich.referrer;
  const hooks = opts.hooks ?? {};
  const library = { name: 'tailship', version: opts.version };
  const pipelineName = pipeline.name;
  const ids = new Map<string, MessageIdFactory>();
  const scope: Scope = { record: NO_RECORD, file: '', offset: 0, host: opts.host };

  const idsFor = (fileKey: string): MessageIdFactory => {
    let f = ids.get(fileKey);
    if (!f) {
      if (ids.size >= 4096) ids.clear();
      f = messageIdFactory(pipelineName, fileKey);
      ids.set(fileKey, f);
    }
    return f;
  };

  const hashValue = (parent: JsonObject, key: string): void => {
    const v = parent[key];
    if (v === undefined || v === null) return;
    parent[key] = saltedSha256(salt, v);
  };
  const remove = (parent: JsonObject, key: string): void => {
    delete parent[key];
  };

  /** Event fields that are one value each, in the order they are set on an event object. */
  function renderScalars(rule: CompiledRule, s: Scope, e: Record<string, Value>): void {
    let v: Value;
    if (rule.event && (v = toEventText(rule.event(s))) !== undefined) e.event = v;
    if (rule.name && (v = toEventText(rule.name(s))) !== undefined) e.name = v;
    if (rule.category && (v = toEventText(rule.category(s))) !== undefined) e.category = v;
    if (rule.userId && (v = toEventId(rule.userId(s))) !== undefined) e.userId = v;
    if (rule.anonymousId && (v = toEventId(rule.anonymousId(s))) !== undefined) e.anonymousId = v;
    if (rule.previousId && (v = toEventId(rule.previousId(s))) !== undefined) e.previousId = v;
    if (rule.groupId && (v = toEventId(rule.groupId(s))) !== undefined) e.groupId = v;
    if (rule.anonFrom && e.userId === undefined && e.anonymousId === undefined && (v = anonymousFrom(rule.anonFrom, s)) !== undefined) e.anonymousId = v;
  }

  function timestampOf(rule: CompiledRule, meta: LineMeta): string {
    let originalTimestamp: string | undefined;
    if (rule.timestamp) {
      originalTimestamp = rule.parseTime(rule.timestamp(scope), meta.readAtMs);
      if (originalTimestamp === undefined) hooks.timestampFallback?.();
    }
    return originalTimestamp ?? new Date(meta.readAtMs).toISOString();
  }

  function build(rule: CompiledRule, meta: LineMeta, index: number): MapOutcome {
    const s = scope;
    let context: JsonObject = pipelineContext?.(s) ?? {};
    const rc = rule.context?.(s);
    if (rc) context = pipelineContext ? deepMerge(context, rc) : rc;
    context.library = { ...library };

    const originalTimestamp = timestampOf(rule, meta);
    const ev = {
      type: rule.type,
      messageId: idsFor(meta.fileKey)(meta.offset, index),
      originalTimestamp,
      context,
    } as AnalyticsEvent;
    const e = ev as unknown as Record<string, Value>;
    renderScalars(rule, s, e);
    let v: Value;
    if (rule.properties && (v = rule.properties(s)) !== undefined) e.properties = v;
    if (rule.traits && (v = rule.traits(s)) !== undefined) e.traits = v;
    if (rule.integrations && (v = rule.integrations(s)) !== undefined) e.integrations = v;
    if (rule.schema !== undefined) ev.schema = rule.schema;
    if (pipelineEntities.length || rule.contexts.length) {
      const entities = [...renderEntities(pipelineEntities, s), ...renderEntities(rule.contexts, s)];
      if (entities.length) ev.contexts = entities;
    }

    if (parseUa && typeof context.userAgent === 'string' && context.userAgent !== '') {
      context.userAgentData = parseUa(context.userAgent);
    }
    if (enrichReferrer) {
      const page = context.page;
      const ref = isPlainObject(page) && typeof page.referrer === 'string' ? page.referrer : ev.properties && typeof ev.properties.referrer === 'string' ? ev.properties.referrer : undefined;
      if (ref && ref !== '-') {
        const parts = splitUrl(ref);
        if (parts) context.referrer = parts;
      }
    }
    const root = ev as unknown as JsonObject;
    for (const p of redact) applyAt(root, p, remove);
    for (const p of hash) applyAt(root, p, hashValue);
    // After redaction and hashing, so that the copies are the values as sent.
    if (ev.type === 'page') pageProperties(ev);
    if (ev.type === 'identify') identifyContext(ev);
    return validateEvent(ev, rule.index);
  }

  const compiled: CompiledRules = {
    pipeline,
    path: base,
    rewritesEvents: redact.length > 0 || hash.length > 0 || parseUa !== undefined || enrichReferrer,
    library,
    rules: rules.map((rule): RuleRuntime => ({
      index: rule.index,
      config: pipeline.events[rule.index]!,
      path: `${base}.events[${rule.index}]`,
      type: rule.type,
      anonymousFrom: (s) => anonymousFrom(rule.anonFrom ?? [], s),
      time: (meta) => timestampOf(rule, meta),
      messageId: (meta, index) => idsFor(meta.fileKey)(meta.offset, index),
    })),
  };

  function mapWith(record: LogRecord, meta: LineMeta, writers: RuleWriters | undefined): Array<MapOutcome | WrittenOutcome> {
    const s = scope;
    s.record = record;
    s.file = meta.file;
    s.offset = meta.offset;
    const out: Array<MapOutcome | WrittenOutcome> = [];
    let matched = false;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.when && !rule.when(s)) continue;
      matched = true;
      if (rule.drop) {
        hooks.dropped?.();
        break;
      }
      if (rule.sampleRate !== undefined && rule.sampleRate < 1) {
        const key = rule.sampleKey ? keyText(rule.sampleKey(s)) : `${meta.fileKey}\u0000${meta.offset}`;
        if (rule.sampleRate <= 0 || unitHash(key) >= rule.sampleRate) {
          hooks.sampledOut?.();
          if (rule.cont) continue;
          break;
        }
      }
      try {
        const w = writers?.[i];
        const text = w && w(s, meta, out.length);
        out.push(text !== undefined ? { ok: true, json: text, rule: rule.index } : build(rule, meta, out.length));
      } catch (err) {
        // Rendering does not throw by design; if it ever does, the line becomes a dead letter, not a crash.
        out.push({ ok: false, reason: `rule ${rule.index} (${rule.type}): mapping failed: ${(err as Error).message}`, rule: rule.index });
      }
      if (!rule.cont) break;
    }
    if (!matched) hooks.unmatched?.();
    s.record = NO_RECORD; // do not keep the last record alive
    return out;
  }

  return {
    rules: compiled,
    map: (record, meta) => mapWith(record, meta, undefined) as MapOutcome[],
    mapWith,
  };
}
