/**
 * Multiline joining in the Filebeat sense: each line either starts an event or continues one,
 * decided by `pattern` (a RegExp; `negate` inverts it) or by a preset (java, python, go,
 * timestamp). With `match: after` continuation lines join the line before them; with
 * `match: before` they join the line after them. A group holds at most `max_lines` lines and
 * `max_chars` characters (default 10 MiB worth, so memory stays bounded whatever max_lines is;
 * the next line starts a new group) and is emitted `timeout` ms after its last line if nothing
 * ends it sooner. Joined text uses "\n"; the group's range runs from its first line's start to
 * its last line's end, and `pendingStart()` tells the shipper not to commit past a held group.
 *
 * Presets (continuation rules; `match` is always `after` for them, and `pattern` overrides them):
 * - java: indented lines (`\tat …`, `\t... 12 more`), `Caused by:`, `Suppressed:`, and
 *   exception class lines such as `java.lang.IllegalStateException: boom`.
 * - python: `Traceback (most recent call last):`, indented lines, the chained-exception
 *   sentences, and inside a traceback the final `SomeError: message` line and blank lines.
 * - go: after `panic:` / `fatal error:` / `goroutine N [`, blank lines, indented lines,
 *   `goroutine N [...]:`, function call lines, `created by …`, `[signal …`, `exit status N`;
 *   indented lines anywhere.
 * - timestamp: every line that does not start with a timestamp (ISO 8601, `2006/01/02 15:04`,
 *   `02/Jan/2006:15:04`, `Jan _2 15:04:05`, `02-Jan-2006 15:04`, optionally in `[`, or
 *   `time=`/`ts=` logfmt keys) continues the event before it.
 */
import { TailshipError } from '../errors.js';
import type { LineFormat } from '../../parsers/types.js';
import type { Line, LineJoiner } from './line.js';

export type MultilinePreset = 'java' | 'python' | 'go' | 'timestamp';

/** The `multiline` config section as resolved by the schema (timeout already in ms). */
export interface MultilineOptions {
  readonly preset?: MultilinePreset | undefined;
  readonly pattern?: string | undefined;
  readonly negate?: boolean | undefined;
  readonly match?: 'after' | 'before' | undefined;
  readonly max_lines?: number | undefined;
  /** Milliseconds. */
  readonly timeout?: number | undefined;
  /** Characters of text in one group at most (default 10 MiB worth); the next line starts a new group. */
  readonly max_chars?: number | undefined;
}

/** Decides, line by line and in order, whether a line continues an event. May keep state. */
export interface ContinuationRule {
  continues(text: string): boolean;
}

const JAVA_CONT = /^(?:[ \t]+\S|[ \t]*(?:Caused by|Suppressed): |(?:[a-zA-Z_$][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable)(?::|$))/;

const PY_HEADER = /^Traceback \(most recent call last\):$/;
const PY_CHAIN = /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)$/;

class PythonRule implements ContinuationRule {
  /** 0: outside, 1: inside a traceback (frames), 2: just after the final exception line. */
  private state = 0;

  continues(text: string): boolean {
    if (PY_HEADER.test(text)) {
      this.state = 1;
      return true;
    }
    if (text === '' || /^\s+$/.test(text)) return this.state !== 0;
    if (/^[ \t]/.test(text)) return true;
    if (PY_CHAIN.test(text)) return true;
    if (this.state === 1) {
      this.state = 2; // `ValueError: bad value`, `KeyboardInterrupt`, `mod.CustomError: x`
      return true;
    }
    this.state = 0;
    return false;
  }
}

const GO_START = /^(?:panic: |fatal error: |goroutine \d+ \[)/;
const GO_CONT = /^(?:$|[ \t]|goroutine \d+ \[|created by |\[signal |exit status \d+$|\.\.\.additional frames elided\.\.\.$|[\w.\/*()\[\]{}-]+\(.*\)$)/;

class GoRule implements ContinuationRule {
  private inPanic = false;

  continues(text: string): boolean {
    if (this.inPanic && GO_CONT.test(text)) return true;
    if (/^goroutine \d+ \[/.test(text)) {
      this.inPanic = true;
      return true;
    }
    this.inPanic = GO_START.test(text);
    return !this.inPanic && /^[ \t]+\S/.test(text);
  }
}

const TIMESTAMP_START =
  /^\[?(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{4}\/\d{2}\/\d{2}[ T]\d{2}:\d{2}|\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}|(?:time|ts)="?\d{4}-\d{2}-\d{2})/;

function regexRule(re: RegExp, negate: boolean): ContinuationRule {
  return { continues: (text) => re.test(text) !== negate };
}

export function presetRule(preset: MultilinePreset): ContinuationRule {
  switch (preset) {
    case 'java':
      return regexRule(JAVA_CONT, false);
    case 'python':
      return new PythonRule();
    case 'go':
      return new GoRule();
    case 'timestamp':
      return regexRule(TIMESTAMP_START, true);
  }
}

interface Group {
  lines: Line[];
  lastMs: number;
  chars: number;
}

export class MultilineJoiner implements LineJoiner {
  private group: Group | undefined;

  constructor(
    private readonly rule: ContinuationRule,
    private readonly match: 'after' | 'before',
    private readonly maxLines: number,
    private readonly timeoutMs: number,
    /**
     * For container logs: the continuation rule must see the application's text, not the
     * runtime's wrapper (`<time> stdout F …`, `{"log":…}`), and the joined event must stay one
     * line the parser reads.
     */
    private readonly codec?: LineFormat,
    private readonly maxChars = 10 * 1024 * 1024,
  ) {}

  /** The group can take one more line of this length. */
  private fits(g: Group, line: Line): boolean {
    return g.lines.length < this.maxLines && g.chars + line.text.length <= this.maxChars;
  }

  push(line: Line, nowMs: number): Line[] {
    const cont = this.rule.continues(this.codec ? (this.codec.content(line.text) ?? line.text) : line.text);
    const out: Line[] = [];
    const g = this.group;
    if (this.match === 'after') {
      if (g && cont && this.fits(g, line)) {
        g.lines.push(line);
        g.chars += line.text.length;
        g.lastMs = nowMs;
        return out;
      }
      if (g) out.push(this.join(g.lines));
      this.group = { lines: [line], lastMs: nowMs, chars: line.text.length };
      return out;
    }
    // match: before: a continuation line waits for the line after it.
    if (g && this.fits(g, line)) {
      g.lines.push(line);
      g.chars += line.text.length;
      g.lastMs = nowMs;
    } else {
      if (g) out.push(this.join(g.lines));
      this.group = { lines: [line], lastMs: nowMs, chars: line.text.length };
    }
    if (!cont && this.group) {
      out.push(this.join(this.group.lines));
      this.group = undefined;
    }
    return out;
  }

  tick(nowMs: number): Line[] {
    const g = this.group;
    if (g && nowMs - g.lastMs >= this.timeoutMs) {
      this.group = undefined;
      return [this.join(g.lines)];
    }
    return [];
  }

  flush(): Line[] {
    const g = this.group;
    this.group = undefined;
    return g ? [this.join(g.lines)] : [];
  }

  pendingStart(): number | undefined {
    return this.group?.lines[0]?.start;
  }

  private join(lines: readonly Line[]): Line {
    const first = lines[0] as Line;
    const last = lines[lines.length - 1] as Line;
    let text = first.text;
    if (lines.length > 1) {
      const codec = this.codec;
      const contents = codec ? lines.map((l) => codec.content(l.text)) : undefined;
      text =
        codec && contents?.every((c): c is string => c !== undefined) ? codec.renderGroup(first.text, contents) : lines.map((l) => l.text).join('\n');
    }
    const out: Line = { text, start: first.start, end: last.end };
    if (lines.some((l) => l.truncated)) out.truncated = true;
    const count = lines.reduce((n, l) => n + (l.lines ?? 1), 0);
    if (count > 1) out.lines = count;
    return out;
  }
}

/**
 * Builds the joiner for a pipeline's `multiline` section. With `container`, put it after the
 * partial-line joiner: rules then test the application text inside each CRI / Docker line, and a
 * group is re-rendered as one CRI / Docker line (first line's time and stream, texts joined with
 * "\n"), so the cri/docker parser reads it. Throws TailshipError
 * (TAILSHIP_CONFIG_INVALID, `place.path` under `keyPath`) for an invalid pattern or neither
 * `pattern` nor `preset`.
 */
export function createMultiline(opts: MultilineOptions, keyPath = 'multiline', container?: LineFormat): LineJoiner {
  let rule: ContinuationRule;
  if (opts.pattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(opts.pattern);
    } catch (err) {
      throw new TailshipError('TAILSHIP_CONFIG_INVALID', `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`, { path: `${keyPath}.pattern` });
    }
    rule = regexRule(re, opts.negate ?? false);
  } else if (opts.preset !== undefined) {
    rule = presetRule(opts.preset);
  } else {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', 'give `pattern` or `preset` (java, python, go, timestamp)', { path: keyPath });
  }
  const match = opts.pattern !== undefined ? (opts.match ?? 'after') : 'after';
  return new MultilineJoiner(rule, match, opts.max_lines ?? 500, opts.timeout ?? 5000, container, opts.max_chars ?? 10 * 1024 * 1024);
}
