/**
 * CRI container logs (containerd, CRI-O): `<RFC 3339 time> <stdout|stderr> <P|F>[:tags] <text>`.
 * The record has `time` (as logged), `stream`, `logtag`, `message`, `partial: true` for a `P`
 * line (a piece of a longer line that src/source/partial-join.ts did not join), and `kubernetes`
 * from the file path. The message can be parsed again by `message_parser`. `CRI_FORMAT` is the
 * same grammar for the joiners: pieces and multiline groups are put back into one CRI line.
 */
import { KubernetesPathCache } from './kubernetes-path.js';
import { applyMessageParsing, readMessageParsing, type MessageParsing } from './nested.js';
import { ParserOptions } from './options.js';
import { ParseError, type LineFormat, type LogRecord, type ParseContext, type ParseResult, type Parser, type ParserFactory } from './types.js';

/** time, stream, tag, message (the message may be empty and its separating space absent). */
export const CRI_LINE = /^(\d{4}-\d{2}-\d{2}T\S+) (stdout|stderr) ([PF])((?::\S*)?)(?: (.*))?$/s;

/** A CRI line's head (time, stream, tag, the space before the message) and its message. */
function split(line: string): { head: string; message: string; m: RegExpExecArray } | undefined {
  const m = CRI_LINE.exec(line);
  if (m === null) return undefined;
  const message = m[5] ?? '';
  return { head: line.slice(0, line.length - message.length), message, m };
}

export const CRI_FORMAT: LineFormat = {
  piece(line) {
    const s = split(line);
    return s && { stream: s.m[2] as string, time: s.m[1] as string, text: s.message, partial: s.m[3] === 'P' };
  },
  render(first, text, complete) {
    return `${first.time} ${first.stream} ${complete ? 'F' : 'P'} ${text}`;
  },
  content(line) {
    return split(line)?.message;
  },
  renderGroup(first, contents) {
    const head = split(first)?.head ?? '';
    return `${head.endsWith(' ') ? head : `${head} `}${contents.join('\n')}`;
  },
};

export class CriParser implements Parser {
  readonly lineFormat = CRI_FORMAT;
  private readonly k8s = new KubernetesPathCache();

  constructor(
    private readonly message: MessageParsing | undefined,
    private readonly kubernetes: boolean,
  ) {}

  parse(line: string, ctx: ParseContext): ParseResult {
    const m = CRI_LINE.exec(line);
    if (m === null) return explain(line);
    const rec: LogRecord = { time: m[1] as string, stream: m[2] as string, logtag: `${m[3] as string}${m[4] as string}`, message: m[5] ?? '' };
    if (m[3] === 'P') rec.partial = true;
    if (this.kubernetes) {
      const k = this.k8s.get(ctx.file);
      if (k) rec.kubernetes = k;
    }
    return this.message ? applyMessageParsing(rec, this.message, ctx) : rec;
  }
}

function explain(line: string): ParseError {
  const parts = line.split(' ', 3);
  if (!/^\d{4}-\d{2}-\d{2}T\S+$/.test(parts[0] ?? '')) return new ParseError('expected an RFC 3339 timestamp at column 1 (CRI log format)', 1);
  const c2 = (parts[0] ?? '').length + 2;
  if (parts[1] !== 'stdout' && parts[1] !== 'stderr') return new ParseError(`expected "stdout" or "stderr" at column ${c2}`, c2);
  const c3 = c2 + (parts[1] ?? '').length + 1;
  return new ParseError(`expected the tag "F" or "P" at column ${c3}`, c3);
}

export const criFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const kubernetes = o.boolean('kubernetes_metadata', true);
  const mp = readMessageParsing(o, ctx, 'message');
  o.rejectUnknown();
  return new CriParser(mp, kubernetes);
};
