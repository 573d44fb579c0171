/** fast-check arbitraries for records as parsers make them: any JSON, odd keys, wrong types. */
import fc from 'fast-check';
import type { LogRecord } from '../../parsers/types.js';

export const recordKeys = fc.constantFrom('status', 'user', 'email', 'path', 'query', 'time', 'ua', 'n', '__proto__', 'constructor', 'toString', 'a-b');
const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('10/Oct/2000:13:55:36 -0700', '2024-01-01T00:00:00Z', '1700000000', 'Oct 11 22:14:15', '/a?b=1'));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(recordKeys, tie('v'), { maxKeys: 4 })),
})).v;
export const record = fc.dictionary(recordKeys, value, { maxKeys: 8 }) as fc.Arbitrary<LogRecord>;
