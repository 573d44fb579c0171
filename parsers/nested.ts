/**
 * A second parser applied to one string field of a record (json `message_key`, the log line
 * inside Docker and CRI records). Options, shared by json, docker and cri:
 * `message_parser` (a parser section), `message_target`, `keep_message`, `on_message_error`.
 */
import type { ParserOptions } from './options.js';
import { isPlainObject, setField } from './record.js';
import { ParseError, isParseError, type LogRecord, type ParseContext, type ParseResult, type Parser, type ParserFactoryContext } from './types.js';

export interface MessageParsing {
  readonly key: string;
  readonly parser: Parser;
  /** Put the inner record under this key; without it the inner fields are merged at the top level (inner wins). */
  readonly target: string | undefined;
  /** Keep the raw string under `key` after it parsed (default false: it is removed). */
  readonly keepMessage: boolean;
  /** `keep`: a message that does not parse leaves the record as it is; `fail`: the line is a ParseError. */
  readonly onError: 'keep' | 'fail';
}

/** Reads the nested-parser options; `undefined` when no `message_parser` is configured. */
export function readMessageParsing(o: ParserOptions, ctx: ParserFactoryContext, key: string): MessageParsing | undefined {
  const section = o.raw('message_parser');
  const target = o.string('message_target');
  const keepMessage = o.boolean('keep_message', false);
  const onError = o.oneOf('on_message_error', ['keep', 'fail'] as const, 'keep');
  if (section === undefined) return undefined;
  if (!isPlainObject(section)) throw o.error('message_parser', 'expected a parser section such as { type: json }');
  const parser = ctx.build(section, `${ctx.keyPath}.message_parser`);
  return { key, parser, target, keepMessage, onError };
}

/** Parses `rec[mp.key]` (a string) with the nested parser and folds the result into `rec`. */
export function applyMessageParsing(rec: LogRecord, mp: MessageParsing, ctx: ParseContext): ParseResult {
  const text = rec[mp.key];
  if (typeof text !== 'string') return rec;
  const inner = mp.parser.parse(text, ctx);
  if (isParseError(inner)) {
    if (mp.onError === 'keep') return rec;
    return new ParseError(`field "${mp.key}": ${inner.reason}`);
  }
  // A new object rather than `delete`: deleting a property turns the record into a slow
  // dictionary-mode object for every later reader (the mapper).
  const out: LogRecord = {};
  for (const k of Object.keys(rec)) if (mp.keepMessage || k !== mp.key) setField(out, k, rec[k] as LogRecord[string]);
  if (mp.target !== undefined) setField(out, mp.target, inner);
  else for (const k of Object.keys(inner)) setField(out, k, inner[k] as LogRecord[string]);
  return out;
}
