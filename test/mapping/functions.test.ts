/**
 * The template filters and the `when` functions are one table (src/mapping/functions.ts):
 * `{{ x | f }}` and `f(x)` give the same value for every kind of input.
 */
import { describe, expect, test } from 'vitest';
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import { compileExpression } from '../../src/mapping/expression.js';
import { compileTemplate } from '../../src/mapping/template.js';

const scope = (x: RecordValue | undefined) => ({ record: (x === undefined ? {} : { x }) as LogRecord, file: 'f.log', offset: 0, host: 'h' });

const filtered = (fn: string, x: RecordValue | undefined) => compileTemplate(`{{ x | ${fn} }}`, 'p')(scope(x));

/** What `fn(x)` gives in a `when`, read back by comparing it with the filter's result. */
function whenAgrees(fn: string, x: RecordValue | undefined, want: RecordValue | undefined): boolean {
  // `+ "|"` joins only two strings, so a number where the filter gave a string does not pass.
  const expr = want === undefined ? `not has(y) and ${fn}(x) == y` : typeof want === 'string' ? `${fn}(x) + "|" == ${JSON.stringify(`${want}|`)}` : `${fn}(x) === ${JSON.stringify(want)}`;
  return compileExpression(expr, 'p')(scope(x));
}

const inputs: Array<[string, RecordValue | undefined]> = [
  ['true', true],
  ['false', false],
  ['an integer string', '42'],
  ['a decimal string', '42.9'],
  ['a negative decimal string', ' -3.7 '],
  ['an exponent string', '1e3'],
  ['a decimal', 42.9],
  ['a negative decimal', -3.7],
  ['zero', 0],
  ['garbage', 'abc'],
  ['a hex string', '0x1F'],
  ['Infinity as text', 'Infinity'],
  ['an empty string', ''],
  ['a yes word', 'yes'],
  ['null', null],
  ['missing', undefined],
];

describe('filters and when functions agree', () => {
  for (const fn of ['int', 'float', 'bool', 'string']) {
    test.each(inputs)(`${fn}: %s`, (_name, x) => {
      const want = filtered(fn, x);
      expect(want === null || typeof want !== 'object').toBe(true);
      expect(whenAgrees(fn, x, want as RecordValue | undefined)).toBe(true);
    });
  }

  test('the values they agree on', () => {
    expect(filtered('int', true)).toBe(1);
    expect(compileExpression('int(flag) == 1', 'p')({ ...scope(undefined), record: { flag: true } })).toBe(true);
    expect(filtered('int', '42.9')).toBe(42);
    expect(filtered('int', -3.7)).toBe(-3);
    expect(filtered('int', 'abc')).toBeUndefined();
    expect(filtered('int', '0x1F')).toBeUndefined();
    expect(filtered('float', ' -3.7 ')).toBe(-3.7);
    expect(filtered('float', 'Infinity')).toBeUndefined();
    expect(filtered('bool', 'yes')).toBe(true);
    expect(filtered('bool', 0)).toBe(false);
    expect(filtered('string', 42.9)).toBe('42.9');
    expect(filtered('string', null)).toBe('null');
  });

  test('functions with arguments: literal or read per record', () => {
    const rec = { ...scope(undefined), record: { path: '/api/x', prefix: '/api', plan: '', tags: ['a', 'b'] } };
    expect(compileExpression('starts_with(path, prefix)', 'p')(rec)).toBe(true);
    expect(compileExpression('default(plan, "free") == "free"', 'p')(rec)).toBe(true);
    expect(compileExpression('join(tags, "-") == "a-b"', 'p')(rec)).toBe(true);
    expect(compileTemplate('{{ path | starts_with: "/api" }}', 'p')(rec)).toBe(true);
    expect(compileTemplate('{{ tags | len }}', 'p')(rec)).toBe(2);
    expect(compileExpression('truncate(path, missing) == null', 'p')(rec)).toBe(true);
  });
});
