/**
 * Generated message writers: for a rule whose events can be written straight to RudderStack /
 * Segment JSON (mapping.ts decides which), one function that reads the record's fields, checks
 * the event, and writes the message text, with no event object built. It is generated (with
 * `new Function`) because generic closures read every field and write every member through
 * shared code, which V8 cannot specialise (docs/decisions/0016-simple-rules-write-their-events-straight-to.md).
 *
 * Nothing from the config reaches the generated code except as a JSON literal (keys, constant
 * strings) or as an index into the list of compiled templates; templates with filters, text
 * around them or odd keys are rendered by their compiled closures. The result must equal
 * `encodeMessage` of the event the object path builds: test/emit/rudderstack/message-json.property.test.ts.
 */
import type { RecordValue } from '../../../parsers/types.js';
import { CALL_TYPE_RULES, IDENTITY_FIELDS, SCALAR_FIELDS, type CallType, type ScalarField } from '../../mapping/call-types.js';
import type { LineMeta } from '../../mapping/event.js';
import type { Value } from '../../mapping/conversions.js';
import { jsonString, jsonValue } from './json-text.js';
import { writeMessage, type MessageDialect } from './message-json.js';
import { compileString, compileTemplate, plainFieldPath, type Render, type Scope } from '../../mapping/template.js';

const TEXT_FIELDS: ReadonlySet<ScalarField> = new Set(['event', 'name', 'category']);

/** What the object path's rule shares with the generated writer. */
export interface WriterSpec {
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

export interface WriterHelpers {
  toText(v: Value): RecordValue | undefined;
  toId(v: Value): RecordValue | undefined;
  /** The anonymousId from `anonymous_id_from`, or undefined. */
  anonymousFrom(s: Scope): string | undefined;
  /** The event time (calls the fallback hook when it falls back). */
  time(meta: LineMeta): string;
  messageId(meta: LineMeta, index: number): string;
  /** `"library":{...}`, the context's last member. */
  readonly libraryMember: string;
}

/** Writes the event of a rule, or returns undefined when it would be invalid (the object path then makes the dead letter). */
export type MessageWriter = (s: Scope, meta: LineMeta, index: number) => string | undefined;

export function generateMessageWriter(spec: WriterSpec, helpers: WriterHelpers): MessageWriter {
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
  ) as (...args: unknown[]) => MessageWriter;
  return factory(g.renders, helpers.toText, helpers.toId, helpers.anonymousFrom, helpers.time, helpers.messageId, helpers.libraryMember, jsonValue, writeMessage);
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
