/** Templates and `when` read field paths with one grammar (src/mapping/path.ts). */
import { describe, expect, test } from 'vitest';
import type { LogRecord } from '../../parsers/types.js';
import { TailshipError } from '../../src/errors.js';
import { compileExpression } from '../../src/mapping/expression.js';
import { compileTemplate } from '../../src/mapping/template.js';

const record: LogRecord = {
  query: { uid: 'u1' },
  'a.b': 'dotted',
  items: [{ sku: 'k1' }, { sku: 'k2' }],
  '@timestamp': 't',
  café: 'crème',
  h: { 'x env': 'prod' },
  $x: 'dollar',
};
const scope = { record, file: '/var/log/x.log', offset: 7, host: 'web-1' };

function errorOf(f: () => unknown): TailshipError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TailshipError);
    return e as TailshipError;
  }
  throw new Error('expected a compile error');
}

describe('one path grammar', () => {
  test.each(['query.uid', '$["a.b"]', 'items[1].sku', "items[ 0 ]['sku']", '@timestamp', 'café', 'h["x env"]', '$x', '_offset', '_host'])('%s reads the same value in both', (path) => {
    const value = compileTemplate(`{{ ${path} }}`, 'p')(scope);
    expect(value).not.toBeUndefined();
    expect(compileExpression(`${path} == ${JSON.stringify(value)}`, 'p')(scope)).toBe(true);
  });

  test.each(['items[-1]', 'items[1.5]', 'items[x]', 'a..b', 'a["b'])('%s is refused by both', (path) => {
    expect(errorOf(() => compileTemplate(`{{ ${path} }}`, 'p')).code).toBe('TAILSHIP_TEMPLATE_INVALID');
    expect(errorOf(() => compileExpression(`${path} == 1`, 'p')).code).toBe('TAILSHIP_EXPRESSION_INVALID');
  });

  test('a dash is part of a name in templates and subtraction in when', () => {
    const s = { ...scope, record: { 'utm-source': 'news', utm: 5, source: 2 } };
    expect(compileTemplate('{{ utm-source }}', 'p')(s)).toBe('news');
    expect(compileExpression('utm-source == 3', 'p')(s)).toBe(true);
  });
});
