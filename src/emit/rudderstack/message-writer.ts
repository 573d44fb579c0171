/**
 * Generated message writers: for a rule whose events can be written straight to RudderStack /
 * Segment JSON (`messageWriters` decides which, from the compiled rules), one function that reads
 * the record's fields, checks the event, and writes the message text, with no event object built. It is generated (with
 * `new Function`) because generic closures read every field and write every member through
 * shared code, which V8 cannot specialise (docs/decisions/0016-simple-rules-write-their-events-straight-to.md).
 *
 * Nothing from the config reaches the generated code except as a JSON literal (keys, constant
 * strings) or as an index into the list of compiled templates; templates with filters, text
 * around them or odd keys are rendered by their compiled closures. The result must equal
 * `encodeMessage` of the event the object path builds: test/emit/rudderstack/message-json.property.test.ts.
 */
import { isPlainObject } from '../../../parsers/record.js';
import type { RecordValue } from '../../../parsers/types.js';
import { CALL_TYPE_RULES, IDENTITY_FIELDS, SCALAR_FIELDS, type CallType, type ScalarField } from '../../mapping/call-types.js';
import { toEventId, toEventText } from '../../mapping/conversions.js';
import type { CompiledRules, RuleRuntime, RuleWriter, RuleWriters } from '../../mapping/event.js';
import { jsonString, jsonValue } from './json-text.js';
import { writeMessage, type MessageDialect } from './message-json.js';
import { compileString, compileTemplate, plainFieldPath, type Render } from '../../mapping/template.js';

const TEXT_FIELDS: ReadonlySet<ScalarField> = new Set(['event', 'name', 'category']);

/** What the object path's rule shares with the generated writer. */
interface WriterSpec {
  readonly type: CallType;
  /** Config templates of the one-value fields the rule has. */
  readonly scalars: Partial<Record<ScalarField, unknown>>;
  readonly hasAnonymousFrom: boolean;
  /** The pipeline's context and the rule's, written one after the other (keys disjoint). */
  readonly contexts: ReadonlyArray<Record<string, unknown>>;
  readonly properties: Record<string, unknown> | undefined;
  readonly traits: Record<string, unknown> | undefined;
  readonly integrations: Record<string, unknown> | undefined;
  /** Config path of the rule, for template errors (already reported by the object path). */
  readonly path: string;
  readonly dialect: MessageDialect;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * What the rule's generated writer needs, or undefined where writing the message directly could
 * differ from building the event and encoding it: events that redaction, hashing or enrichment
 * change after rendering, and contexts whose merge or `library` key could reorder or replace
 * their members.
 */
function writerSpec(rules: CompiledRules, rule: RuleRuntime, dialect: MessageDialect): WriterSpec | undefined {
  const { pipeline } = rules;
  const config = rule.config;
  if (config.drop || rules.rewritesEvents) return undefined;
  const contexts = [pipeline.context, config.context].filter((c): c is Record<string, unknown> => c !== undefined);
  const keys = contexts.flatMap((c) => Object.keys(c));
  if (keys.includes('library')) return undefined;
  const type = rule.type;
  // The mapper's identifyContext and pageProperties replace a key in place when the config already sets it.
  if (type === 'identify' && keys.includes('traits')) return undefined;
  if (type === 'page' && (config.name !== undefined || config.category !== undefined)) {
    const props = config.properties;
    if (props !== undefined && (!isPlainObject(props) || 'name' in props || 'category' in props)) return undefined;
  }
  // Both present are deep-merged: written one after the other only when that is what the merge gives.
  if (contexts.length === 2 && (new Set(keys).size < keys.length || keys.some((k) => ARRAY_INDEX.test(k)))) return undefined;
  const scalars: WriterSpec['scalars'] = {};
  for (const f of SCALAR_FIELDS) if (config[f] !== undefined) scalars[f] = config[f];
  return {
    type,
    dialect,
    scalars,
    hasAnonymousFrom: config.anonymous_id_from !== undefined,
    contexts,
    properties: config.properties,
    traits: config.traits,
    integrations: config.integrations,
    path: rule.path,
  };
}

/**
 * The writers of a pipeline's rules for RudderStack / Segment messages in `dialect`: one per
 * rule whose events can be written straight from the record (see writerSpec), none for the others.
 */
export function messageWriters(rules: CompiledRules, dialect: MessageDialect): RuleWriters {
  const libraryMember = '"library":' + JSON.stringify(rules.library);
  return rules.rules.map((rule) => {
    const spec = writerSpec(rules, rule, dialect);
    return spec && generateMessageWriter(spec, rule, libraryMember);
  });
}

function generateMessageWriter(spec: WriterSpec, rule: RuleRuntime, libraryMember: string): RuleWriter {
  const g = new Generator(spec.path);
  const fields: string[] = [];
  for (const f of SCALAR_FIELDS) {
    if (!(f in spec.scalars)) continue;
    const raw = g.scalar(spec.scalars[f], `${spec.path}.${f}`);
    g.line(`let ${f} = ${TEXT_FIELDS.has(f) ? 'toText' : 'toId'}(${raw});`);
    fields.push(f);
  }
  if (spec.hasAnonymousFrom) {
    if (!fields.includes('anonymousId')) {
      g.line('let anonymousId;');
      fields.push('anonymousId');
    }
    g.line(`if (${fields.includes('userId') ? 'userId === undefined && ' : ''}anonymousId === undefined) anonymousId = anonymousFrom(s);`);
  }
  // The checks of validate.ts's invalidReason: any failure leaves the event to the object path.
  for (const f of fields) g.line(`if (${f} !== undefined && typeof ${f} !== 'string') return undefined;`);
  for (const f of CALL_TYPE_RULES[spec.type].required) g.line(fields.includes(f) ? `if (${f} === undefined || ${f} === '') return undefined;` : 'return undefined;');
  const ids = IDENTITY_FIELDS.filter((f) => fields.includes(f)).map((f) => `(${f} !== undefined && ${f} !== '')`);
  g.line(ids.length ? `if (!(${ids.join(' || ')})) return undefined;` : 'return undefined;');

  g.line(`const originalTimestamp = time(meta);`);
  g.line(`const messageId = messageIdOf(meta, index);`);
  const objects = (['properties', 'traits', 'integrations'] as const).map((k) => (spec[k] === undefined ? 'undefined' : g.value(spec[k], `${spec.path}.${k}`)));
  if (spec.type === 'page' && (fields.includes('name') || fields.includes('category'))) {
    // The page's name and category copied into properties, after the rule's own (mapping.ts pageProperties).
    g.line(`let pm = ${objects[0]} === undefined ? '' : ${objects[0]}.slice(1, -1);`);
    for (const f of ['name', 'category'] as const) {
      if (fields.includes(f)) g.line(`if (${f} !== undefined) pm += (pm === '' ? '' : ',') + ${JSON.stringify(`"${f}":`)} + jsonValue(${f});`);
    }
    g.line(`const pageProperties = ${objects[0]} === undefined && pm === '' ? undefined : '{' + pm + '}';`);
    objects[0] = 'pageProperties';
  }
  g.line(`let context = '';`);
  spec.contexts.forEach((c, i) => g.members(c, 'context', `${spec.path}.context#${i}`));
  // An identify's traits also go to context.traits, before library (mapping.ts identifyContext).
  if (spec.type === 'identify') g.line(`if (${objects[1]} !== undefined) context += (context === '' ? '' : ',') + '"traits":' + ${objects[1]};`);
  g.line(`context = '{' + context + (context === '' ? '' : ',') + libraryMember + '}';`);
  g.line(`return writeMessage({ type: ${JSON.stringify(spec.type)}, messageId, originalTimestamp, ${fields.join(', ')} }, context, ${objects.join(', ')}, ${JSON.stringify(spec.dialect)});`);

  const factory = new Function(
    'R', 'toText', 'toId', 'anonymousFrom', 'time', 'messageIdOf', 'libraryMember', 'jsonValue', 'writeMessage',
    `'use strict';\nreturn function writeEvent(s, meta, index) {\n  const r = s.record;\n  ${g.body.join('\n  ')}\n};`,
  ) as (...args: unknown[]) => RuleWriter;
  return factory(g.renders, toEventText, toEventId, rule.anonymousFrom, rule.time, rule.messageId, libraryMember, jsonValue, writeMessage);
}

/** Emits the statements of one writer; every value gets a variable of its own. */
class Generator {
  readonly body: string[] = [];
  /** Compiled templates the code calls as `R[i](s)`. */
  readonly renders: Render[] = [];
  private n = 0;

  constructor(readonly path: string) {}

  line(code: string): void {
    this.body.push(code);
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  /** Renders with a compiled template, into a variable; returns its name. */
  private render(r: Render): string {
    this.renders.push(r);
    const v = this.fresh('v');
    this.line(`const ${v} = R[${this.renders.length - 1}](s);`);
    return v;
  }

  /** A literal or a variable holding the template's rendered value (as compileTemplate renders it). */
  scalar(src: unknown, path: string): string {
    if (typeof src === 'string') {
      if (!src.includes('{{')) return JSON.stringify(src);
      const keys = plainFieldPath(src);
      if (keys) return this.read(keys);
      return this.render(compileString(src, path));
    }
    return this.render(compileTemplate(src, path));
  }

  /** Reads `r[k0]` or `r[k0][k1]` as compilePath does, into a variable; returns its name. */
  private read(keys: [string] | [string, string]): string {
    const v = this.fresh('v');
    this.line(`let ${v} = r[${JSON.stringify(keys[0])}];`);
    if (keys.length === 2) this.line(`${v} = ${v} !== null && typeof ${v} === 'object' && !Array.isArray(${v}) ? ${v}[${JSON.stringify(keys[1])}] : undefined;`);
    return v;
  }

  /** A variable holding the JSON of the rendered value, or undefined when it is missing. */
  value(src: unknown, path: string): string {
    const j = this.fresh('j');
    if (src === undefined) {
      this.line(`const ${j} = undefined;`);
    } else if (typeof src === 'string') {
      if (!src.includes('{{')) this.line(`const ${j} = ${JSON.stringify(jsonString(src))};`);
      else {
        const v = this.scalar(src, path);
        this.line(`const ${j} = ${v} === undefined ? undefined : jsonValue(${v});`);
      }
    } else if (src === null || typeof src !== 'object') {
      this.line(`const ${j} = ${JSON.stringify(jsonValue(src as RecordValue))};`);
    } else if (Array.isArray(src)) {
      const a = this.fresh('a');
      this.line(`let ${a} = '';`);
      src.forEach((item, i) => {
        const x = this.value(item, `${path}[${i}]`);
        this.line(`if (${x} !== undefined) ${a} += (${a} === '' ? '' : ',') + ${x};`);
      });
      this.line(`const ${j} = '[' + ${a} + ']';`);
    } else {
      const m = this.fresh('m');
      this.line(`let ${m} = '';`);
      this.members(src as Record<string, unknown>, m, path);
      const empty = Object.keys(src).length === 0;
      this.line(`const ${j} = ${m} !== '' ? '{' + ${m} + '}' : ${empty ? `'{}'` : 'undefined'};`);
    }
    return j;
  }

  /** Appends `"key":value` members of an object template to the string variable `target`. */
  members(src: Record<string, unknown>, target: string, path: string): void {
    for (const key of Object.keys(src)) {
      const x = this.value(src[key], `${path}.${key}`);
      const head = JSON.stringify(key) + ':';
      this.line(`if (${x} !== undefined) ${target} += (${target} === '' ? ${JSON.stringify(head)} : ${JSON.stringify(',' + head)}) + ${x};`);
    }
  }
}
