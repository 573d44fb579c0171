/**
 * Regular expression with named groups: `pattern: '^(?<ip>\S+) (?<status>\d+)'`. Each group that
 * took part in the match becomes a field (a group that did not is absent); `types` converts
 * fields to int, float or bool. Python-style `(?P<name>…)` is accepted too.
 */
import { readTypes, type FieldType } from './convert.js';
import { typedValue } from './fields.js';
import { ParserOptions } from './options.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type ParserFactory } from './types.js';

const FLAGS = /^[imsuv]*$/;

/** Compiles a user pattern, throwing the option error with the RegExp engine's message. */
export function compileUserRegExp(o: ParserOptions, key: string, source: string, flags: string): RegExp {
  try {
    return new RegExp(source.replace(/\(\?P</g, '(?<'), flags);
  } catch (err) {
    throw o.error(key, `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export class RegexParser implements Parser {
  private readonly names: string[];

  constructor(
    private readonly re: RegExp,
    private readonly types: ReadonlyMap<string, FieldType>,
  ) {
    this.names = [...re.source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1] as string);
  }

  parse(line: string): ParseResult {
    const m = this.re.exec(line);
    if (m === null) return new ParseError(`line does not match pattern /${this.re.source.length > 80 ? `${this.re.source.slice(0, 80)}…` : this.re.source}/`);
    const groups = m.groups;
    const rec: LogRecord = {};
    if (!groups) return rec;
    for (const name of this.names) {
      const v = groups[name];
      if (v === undefined) continue;
      const tv = typedValue(this.types, name, v);
      if (tv instanceof ParseError) return tv;
      rec[name] = tv;
    }
    return rec;
  }
}

export const regexFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const source = o.requiredString('pattern');
  const flags = o.string('flags', '');
  const types = readTypes(o);
  o.rejectUnknown();
  if (!FLAGS.test(flags)) throw o.error('flags', `expected a combination of i, m, s, u, v, got ${JSON.stringify(flags)}`);
  const re = compileUserRegExp(o, 'pattern', source, flags);
  const parser = new RegexParser(re, types);
  if (!/\(\?<[A-Za-z_$]/.test(re.source)) throw o.error('pattern', 'the pattern has no named groups such as (?<status>\\d+); nothing would become a field');
  for (const f of types.keys()) {
    if (!re.source.includes(`(?<${f}>`)) throw o.error(`types.${f}`, `no named group "${f}" in the pattern`);
  }
  return parser;
};
