/**
 * Grok: Logstash-style `%{PATTERN:field:type}` expressions expanded from the built-in library
 * (grok-patterns.ts) plus user `pattern_definitions`, compiled once per pattern into one RegExp.
 * `pattern` (or `patterns`, tried in order, first match wins) is searched, not anchored: add `^`
 * to anchor. Field names may nest (`[http][status]`). Empty captures are absent; a field captured
 * twice becomes a list. Types: `:int`, `:float` (and the `types` option).
 */
import { fieldType, readTypes, type FieldType } from './convert.js';
import { addField, typedValue } from './fields.js';
import { GROK_PATTERNS } from './grok-patterns.js';
import { ParserOptions } from './options.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type ParserFactory } from './types.js';

interface GrokField {
  readonly group: string;
  readonly name: string;
  readonly path: readonly string[];
  /** `{ name → type }` when the field is typed, for typedValue. */
  readonly typed: ReadonlyMap<string, FieldType> | undefined;
}

export interface CompiledGrok {
  readonly re: RegExp;
  readonly fields: readonly GrokField[];
}

const REF = /%\{(\w+)(?::([^:}]+))?(?::(\w+))?\}/g;

function fieldPath(name: string): string[] {
  const nested = name.match(/^(?:\[[^\]]+\])+$/) ? [...name.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] as string) : null;
  return nested ?? [name];
}

/** Expands and compiles one grok expression; throws Error with a message on a bad pattern. */
export function compileGrok(expr: string, library: Readonly<Record<string, string>>, types: ReadonlyMap<string, FieldType>): CompiledGrok {
  const fields: GrokField[] = [];
  const addGroup = (name: string, type: FieldType | undefined): string => {
    const group = `g${fields.length}`;
    const t = type ?? types.get(name);
    fields.push({ group, name, path: fieldPath(name), typed: t === undefined || t === 'string' ? undefined : new Map([[name, t]]) });
    return group;
  };
  const expand = (src: string, stack: readonly string[]): string => {
    // Inline named groups (?<name>…) become fields too (but not lookbehinds (?<= / (?<!).
    const withInline = src.replace(/\(\?<([A-Za-z_][\w.@\[\]-]*)>/g, (_m, name: string) => `(?<${addGroup(name, undefined)}>`);
    return withInline.replace(REF, (_m, pname: string, field: string | undefined, tname: string | undefined) => {
      const def = Object.hasOwn(library, pname) ? library[pname] : undefined;
      if (def === undefined) throw new Error(`unknown grok pattern %{${pname}}`);
      if (stack.includes(pname)) throw new Error(`grok pattern %{${pname}} refers to itself (${[...stack, pname].join(' → ')})`);
      let type: FieldType | undefined;
      if (tname !== undefined) {
        type = fieldType(tname);
        if (!type) throw new Error(`unknown type "${tname}" in %{${pname}:${field ?? ''}:${tname}}; expected int, float, bool or string`);
      }
      const inner = expand(def, [...stack, pname]);
      return field === undefined ? `(?:${inner})` : `(?<${addGroup(field, type)}>${inner})`;
    });
  };
  const source = expand(expr, []);
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    throw new Error(`invalid regular expression after expansion: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { re, fields };
}

export class GrokParser implements Parser {
  constructor(
    private readonly compiled: readonly CompiledGrok[],
    private readonly exprs: readonly string[],
  ) {}

  parse(line: string): ParseResult {
    for (const c of this.compiled) {
      const m = c.re.exec(line);
      if (m === null || !m.groups) continue;
      const rec: LogRecord = {};
      for (const f of c.fields) {
        const v = m.groups[f.group];
        if (v === undefined || v === '') continue;
        const tv = f.typed === undefined ? v : typedValue(f.typed, f.name, v);
        if (tv instanceof ParseError) return tv;
        addField(rec, f.path, tv);
      }
      return rec;
    }
    const what = this.exprs.length === 1 ? `grok pattern ${JSON.stringify(this.exprs[0])}` : `any of ${this.exprs.length} grok patterns`;
    return new ParseError(`line does not match ${what.length > 120 ? `${what.slice(0, 120)}…` : what}`);
  }
}

export const grokFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const one = o.string('pattern');
  const many = o.stringArray('patterns');
  const defs = o.stringMap('pattern_definitions') ?? {};
  const types = readTypes(o);
  o.rejectUnknown();
  if ((one === undefined) === (many === undefined)) throw o.error('pattern', 'give either `pattern` (one grok expression) or `patterns` (a list tried in order)');
  const exprs = many ?? [one as string];
  if (exprs.length === 0) throw o.error('patterns', 'the list of patterns is empty');
  const library = { ...GROK_PATTERNS, ...defs };
  for (const name of Object.keys(defs)) {
    if (!/^\w+$/.test(name)) throw o.error(`pattern_definitions.${name}`, 'pattern names are letters, digits and "_"');
  }
  const compiled = exprs.map((e, i) => {
    try {
      return compileGrok(e, library, types);
    } catch (err) {
      throw o.error(many ? `patterns[${i}]` : 'pattern', err instanceof Error ? err.message : String(err));
    }
  });
  return new GrokParser(compiled, exprs);
};
