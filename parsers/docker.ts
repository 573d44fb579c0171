/**
 * Docker `json-file` lines: `{"log":"text\n","stream":"stdout","time":"…"}`. The record has
 * `message` (the log text without its trailing newline), `stream`, `time` (as logged), `attrs`
 * when present, `partial: true` when the text had no trailing newline (a piece of a longer line
 * that src/source/partial-join.ts did not join), and `kubernetes` from the file path. The message
 * can be parsed again by `message_parser` (e.g. JSON application logs). `DOCKER_FORMAT` is the
 * format for the joiners: pieces and multiline groups are put back into one json-file object.
 */
import { jsonTooManyFields } from './json-guard.js';
import { KubernetesPathCache } from './kubernetes-path.js';
import { applyMessageParsing, readMessageParsing, type MessageParsing } from './nested.js';
import { ParserOptions } from './options.js';
import { isPlainObject } from './record.js';
import { ParseError, type LineFormat, type LogRecord, type ParseContext, type ParseResult, type Parser, type ParserFactory } from './types.js';

/**
 * Docker cuts pieces at 16 KiB of log text, at most 6 characters each once escaped (\u0000):
 * a longer line is no piece, and is not parsed by the joiner, on the main thread (a hostile line
 * of 50,000 keys would grow its heap); it passes through for the parser to report.
 */
const MAX_PIECE_CHARS = 128 * 1024;

function logObject(text: string): { log: string; stream?: unknown; time?: unknown; attrs?: unknown } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && typeof (v as { log?: unknown }).log === 'string' ? (v as { log: string }) : undefined;
  } catch {
    return undefined;
  }
}

export const DOCKER_FORMAT: LineFormat = {
  piece(line) {
    if (line.length > MAX_PIECE_CHARS) return undefined;
    const o = logObject(line);
    if (o === undefined) return undefined;
    const stream = typeof o.stream === 'string' ? o.stream : '';
    const time = typeof o.time === 'string' ? o.time : '';
    return { stream, time, text: o.log, partial: !o.log.endsWith('\n'), attrs: o.attrs };
  },
  plainlyWhole(line) {
    return line.includes('\\n","stream":');
  },
  render(first, text, complete) {
    const log = !complete && text.endsWith('\n') ? text.slice(0, -1) : text;
    const obj: { log: string; stream: string; attrs?: unknown; time: string } = { log, stream: first.stream, time: first.time };
    if (first.attrs !== undefined) obj.attrs = first.attrs;
    return JSON.stringify(obj);
  },
  content(line) {
    const o = logObject(line);
    return o === undefined ? undefined : o.log.endsWith('\n') ? o.log.slice(0, -1) : o.log;
  },
  renderGroup(first, contents) {
    const o = logObject(first) ?? { log: '' };
    return JSON.stringify({ ...o, log: `${contents.join('\n')}\n` });
  },
};

export class DockerParser implements Parser {
  readonly lineFormat = DOCKER_FORMAT;
  private readonly k8s = new KubernetesPathCache();

  constructor(
    private readonly message: MessageParsing | undefined,
    private readonly kubernetes: boolean,
  ) {}

  parse(line: string, ctx: ParseContext): ParseResult {
    const tooMany = jsonTooManyFields(line, ctx.maxFields);
    if (tooMany !== undefined) return new ParseError(tooMany);
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      const pos = /position (\d+)/.exec(err instanceof Error ? err.message : '');
      return pos ? new ParseError(`invalid Docker json-file line: ${(err as Error).message}`, Number(pos[1]) + 1) : new ParseError(`invalid Docker json-file line: ${String((err as Error).message)}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return new ParseError('expected a Docker json-file object {"log":…,"stream":…,"time":…}', 1);
    const o = v as Record<string, unknown>;
    const log = o.log;
    if (typeof log !== 'string') return new ParseError('expected a string "log" field in the Docker json-file object');
    const rec: LogRecord = {};
    if (log.endsWith('\n')) rec.message = log.endsWith('\r\n') ? log.slice(0, -2) : log.slice(0, -1);
    else {
      rec.message = log;
      rec.partial = true;
    }
    if (typeof o.stream === 'string') rec.stream = o.stream;
    if (typeof o.time === 'string') rec.time = o.time;
    if (isPlainObject(o.attrs)) rec.attrs = o.attrs as LogRecord;
    if (this.kubernetes) {
      const k = this.k8s.get(ctx.file);
      if (k) rec.kubernetes = k;
    }
    return this.message ? applyMessageParsing(rec, this.message, ctx) : rec;
  }
}

export const dockerFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const kubernetes = o.boolean('kubernetes_metadata', true);
  const mp = readMessageParsing(o, ctx, 'message');
  o.rejectUnknown();
  return new DockerParser(mp, kubernetes);
};
