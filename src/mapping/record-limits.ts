/**
 * Bounds on a parsed record, checked once between the parser and the mapping: everything after
 * the parser (mapping, templates, validation, encoding) walks records recursively, so a record
 * nested thousands deep (a hostile JSON line) would overflow the stack there, and one with
 * hundreds of thousands of fields would hold the thread and its heap. A record past a bound is a
 * parse dead letter with the bound in its reason. Strings and numbers are bounded before this:
 * a line is at most `max_line_bytes`, and JSON numbers are doubles.
 */
import type { LogRecord, RecordValue } from '../../parsers/types.js';

export interface RecordLimits {
  /** Deepest nesting of objects and arrays (the record itself is depth 1). */
  readonly maxDepth: number;
  /** Keys and array elements in the whole record, at every depth. */
  readonly maxFields: number;
}

/** The reason a record is past a bound, or undefined when it is within them. Iterative: never overflows. */
export function recordOverLimits(record: LogRecord, limits: RecordLimits): string | undefined {
  const stack: Array<{ value: RecordValue; depth: number }> = [{ value: record, depth: 1 }];
  let fields = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return `record nested deeper than ${limits.maxDepth} levels (limits.max_depth)`;
    const children: RecordValue[] = Array.isArray(value) ? value : Object.values(value as Record<string, RecordValue>);
    fields += children.length;
    if (fields > limits.maxFields) return `record has more than ${limits.maxFields} fields (limits.max_fields)`;
    for (const c of children) if (typeof c === 'object' && c !== null) stack.push({ value: c, depth: depth + 1 });
  }
  return undefined;
}
