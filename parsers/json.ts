/**
 * JSON lines: one object per line, nested fields kept as they are. With `message_key` (and
 * `message_parser`), the string under that key is parsed again by a second parser.
 */
import { applyMessageParsing, readMessageParsing, type MessageParsing } from './nested.js';
import { jsonTooManyFields } from './json-guard.js';
import { ParserOptions } from './options.js';
import { ParseError, type LogRecord, type ParseContext, type ParseResult, type Parser, type ParserFactory } from './types.js';

/** JSON.parse messages end with "at position N" (Node 20) or "(line 1 column N)" (Node 22+). */
function jsonErrorColumn(message: string): number | undefined {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]) + 1;
  const col = /column (\d+)/.exec(message);
  return col ? Number(col[1]) : undefined;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

export class JsonParser implements Parser {
  constructor(private readonly message: MessageParsing | undefined) {}

  parse(line: string, ctx: ParseContext): ParseResult {
    // A UTF-8 BOM survives decoding at the start of a file written by some Windows tools.
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    const tooMany = jsonTooManyFields(line, ctx.maxFields);
    if (tooMany !== undefined) return new ParseError(tooMany);
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const column = jsonErrorColumn(msg);
      const reason = line.trim() === '' ? 'expected a JSON object, got an empty line' : `invalid JSON: ${msg}`;
      return column === undefined ? new ParseError(reason) : new ParseError(reason, column);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return new ParseError(`expected a JSON object, got ${kindOf(v)}`, 1);
    }
    const rec = v as LogRecord;
    return this.message ? applyMessageParsing(rec, this.message, ctx) : rec;
  }
}

export const jsonFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const key = o.string('message_key', 'message');
  const hasKey = o.has('message_key');
  const mp = readMessageParsing(o, ctx, key);
  o.rejectUnknown();
  if (hasKey && !mp) throw o.error('message_parser', '`message_key` needs `message_parser`, the parser for that field (e.g. { type: logfmt })');
  return new JsonParser(mp);
};
