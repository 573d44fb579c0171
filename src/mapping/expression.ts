/**
 * The `when` language: a small, safe expression over a record, parsed by jsep (with its regex
 * plugin) and compiled once into closures; nothing is ever evaluated as JavaScript.
 *
 * Supported: literals (numbers, 'strings', "strings", true, false, null, [lists], /regex/flags),
 * field paths in path.ts's grammar, as in templates (`status`, `query.uid`, `a["b-c"]`, `items[0]`,
 * `@timestamp`, `$["a.b"]` where `$` is the record itself), comparisons (== != === !== < <= > >=),
 * `and` `or` `not` (also && || !), `in` (value in a list, substring in a string, key in a map),
 * `=~` / `!~` (regex match), arithmetic (+ - * / % on numbers; + also joins two strings),
 * has(path) / exists(path), and the functions of functions.ts called with the value first
 * (`int(x)`, `starts_with(s, p)`, `default(x, "none")`): the same functions as the template filters.
 *
 * Missing fields never throw: a missing value compares equal only to another missing value or
 * null, makes ordering comparisons and `in` false, and turns arithmetic into "missing".
 * `not` binds looser than comparisons (`not status == 200` is `not (status == 200)`); `!` binds
 * tightly as in JavaScript.
 */
import jsep from 'jsep';
import jsepRegex from '@jsep-plugin/regex';
import type { RecordValue } from '../../parsers/types.js';
import { TailshipError } from '../errors.js';
import { matchText, numeric as num } from './conversions.js';
import { bindFunction, functionArity, FunctionError, FUNCTION_NAMES, type BoundFunction } from './functions.js';
import { compilePath, isNameStart, noteFieldPath, SyntaxErrorAt, readName, readPath, type PathKey, type Scope } from './path.js';

let jsepConfigured = false;

/** Words jsep reads itself where a field path could start: its literals, `this` (refused later) and `not`. */
const JSEP_WORDS = new Set(['true', 'false', 'null', 'this', 'not']);

/**
 * jsep's token hook for field paths: a name that is not one of JSEP_WORDS and not a function
 * being called is read, with its steps, by path.ts, so `when` and templates share one grammar
 * (without `-` in names, which is subtraction here).
 */
function gobbleFieldPath(this: jsep.HookScope, env: { node?: jsep.Expression }): void {
  const src = this.expr;
  const start = this.index;
  if (!isNameStart(src[start] ?? '')) return;
  const nameEnd = readName(src, start, src.length, false);
  if (JSEP_WORDS.has(src.slice(start, nameEnd))) return;
  let after = nameEnd;
  while (/\s/.test(src[after] ?? '')) after++;
  if (src[after] === '(') return;
  const path = readPath(src, start, src.length, false);
  this.index = path.end;
  env.node = { type: 'FieldPath', keys: path.keys } as FieldPathNode;
}

/**
 * jsep keeps its operators and plugins in process-wide tables, so the `when` language's
 * operators are set there: once, by the first compile, not when this module is imported.
 * Nothing else in tailship parses with jsep.
 */
function whenParser(): typeof jsep {
  if (jsepConfigured) return jsep;
  jsep.plugins.register(jsepRegex);
  jsep.addBinaryOp('or', 1);
  jsep.addBinaryOp('and', 2);
  jsep.addBinaryOp('=~', 6);
  jsep.addBinaryOp('!~', 6);
  jsep.addBinaryOp('in', 7);
  jsep.addUnaryOp('not');
  for (const op of ['|', '^', '&', '<<', '>>', '>>>', '??']) jsep.removeBinaryOp(op);
  jsep.removeUnaryOp('~');
  jsep.hooks.add('gobble-token', gobbleFieldPath);
  jsepConfigured = true;
  return jsep;
}

/** A value while evaluating: a record value, a regex literal, or missing. */
type EValue = RecordValue | RegExp | undefined;
type Eval = (s: Scope) => EValue;
export type Predicate = (s: Scope) => boolean;

interface Ctx {
  readonly src: string;
  readonly path: string;
}

function fail(ctx: Ctx, message: string, index: number | undefined): never {
  const where = index === undefined || index < 0 ? '' : ` at column ${index + 1}`;
  throw new TailshipError('TAILSHIP_EXPRESSION_INVALID', `${message}${where} of expression ${JSON.stringify(ctx.src)}`, { path: ctx.path });
}

/** Best-effort column of a token, since jsep nodes carry no positions. */
function locate(ctx: Ctx, token: string): number | undefined {
  const i = ctx.src.indexOf(token);
  return i < 0 ? undefined : i;
}

export function truthy(v: EValue): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (typeof v === 'number' && Number.isNaN(v)) return false;
  return true;
}

function equals(a: EValue, b: EValue): boolean {
  if (a === b) return true;
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (typeof a === 'number' && typeof b === 'string') return num(b) === a;
  if (typeof a === 'string' && typeof b === 'number') return num(a) === b;
  if (typeof a === 'object' && typeof b === 'object' && !(a instanceof RegExp) && !(b instanceof RegExp)) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}

function order(a: EValue, b: EValue): number | undefined {
  if (typeof a === 'string' && typeof b === 'string') {
    const na = num(a);
    const nb = num(b);
    if (na !== undefined && nb !== undefined) return na - nb;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const na = num(a);
  const nb = num(b);
  if (na === undefined || nb === undefined) return undefined;
  return na - nb;
}

function member(v: EValue, coll: EValue): boolean {
  if (v === undefined) return false;
  if (Array.isArray(coll)) {
    for (const x of coll) if (equals(v, x)) return true;
    return false;
  }
  if (typeof coll === 'string') return typeof v === 'string' || typeof v === 'number' ? coll.includes(String(v)) : false;
  if (coll !== null && typeof coll === 'object' && !(coll instanceof RegExp)) return typeof v === 'string' && Object.hasOwn(coll, v);
  return false;
}

/** `not` binds looser than comparisons: lift it over the binary operators other than and/or. */
function liftNot(node: jsep.Expression): jsep.Expression {
  if (node.type !== 'BinaryExpression') return node;
  const b = node as jsep.BinaryExpression;
  if (['and', 'or', '&&', '||'].includes(b.operator)) return b;
  const left = liftNot(b.left);
  if (left.type === 'UnaryExpression' && (left as jsep.UnaryExpression).operator === 'not') {
    const inner: jsep.BinaryExpression = { type: 'BinaryExpression', operator: b.operator, left: (left as jsep.UnaryExpression).argument, right: b.right };
    return { type: 'UnaryExpression', operator: 'not', argument: liftNot(inner), prefix: true } as jsep.UnaryExpression;
  }
  return left === b.left ? b : { ...b, left };
}

/** A field path as the `when` parser gives it: read by path.ts, the grammar templates use too. */
interface FieldPathNode extends jsep.Expression {
  type: 'FieldPath';
  keys: PathKey[];
}

function pathOf(node: jsep.Expression): PathKey[] | undefined {
  return node.type === 'FieldPath' ? (node as FieldPathNode).keys : undefined;
}

/** A function argument as the function table takes it: a regex literal is no value there. */
function plain(v: EValue): RecordValue | undefined {
  return v instanceof RegExp ? undefined : v;
}

/**
 * A call of the function table (functions.ts): its value is the first argument. Arguments after
 * it that are literals are bound once; others are bound per record, and arguments the function
 * cannot take then make the result missing.
 */
function compileCall(name: string, c: jsep.CallExpression, ctx: Ctx): Eval {
  const [subject, ...rest] = c.arguments.map((a) => compileNode(a, ctx));
  if (subject === undefined) return fail(ctx, `${name}() takes a value to work on, e.g. ${name}(status)`, locate(ctx, name));
  const argNodes = c.arguments.slice(1);
  if (argNodes.every((a) => a.type === 'Literal' && !((a as jsep.Literal).value instanceof RegExp))) {
    let fn: BoundFunction;
    try {
      fn = bindFunction(name, argNodes.map((a) => (a as jsep.Literal).value as RecordValue), 'call');
    } catch (e) {
      if (e instanceof FunctionError) return fail(ctx, e.message, locate(ctx, name));
      throw e;
    }
    return (s) => fn(plain(subject(s)));
  }
  return (s) => {
    let fn: BoundFunction;
    try {
      fn = bindFunction(name, rest.map((a) => plain(a(s))), 'call');
    } catch (e) {
      if (e instanceof FunctionError) return undefined;
      throw e;
    }
    return fn(plain(subject(s)));
  };
}

function compileNode(raw: jsep.Expression, ctx: Ctx): Eval {
  const node = liftNot(raw);
  switch (node.type) {
    case 'Literal': {
      const v = (node as jsep.Literal).value;
      return () => v;
    }
    case 'FieldPath': {
      const p = (node as FieldPathNode).keys;
      noteFieldPath(p, ctx.path);
      return compilePath(p);
    }
    case 'Identifier':
    case 'MemberExpression':
      return fail(ctx, 'only field paths such as a.b or a["b-c"] may be used here', locate(ctx, '.'));
    case 'ArrayExpression': {
      const els = (node as jsep.ArrayExpression).elements.map((e) => (e ? compileNode(e, ctx) : fail(ctx, 'empty list element', locate(ctx, ',,'))));
      if (els.length > 0 && (node as jsep.ArrayExpression).elements.every((e) => e?.type === 'Literal')) {
        const fixed = els.map((e) => e({} as Scope)) as RecordValue[];
        return () => fixed;
      }
      return (s) => els.map((e) => e(s)).filter((v): v is RecordValue => v !== undefined && !(v instanceof RegExp));
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      const arg = compileNode(u.argument, ctx);
      if (u.operator === 'not' || u.operator === '!') return (s) => !truthy(arg(s));
      if (u.operator === '-') return (s) => { const n = num(arg(s)); return n === undefined ? undefined : -n; };
      if (u.operator === '+') return (s) => num(arg(s));
      return fail(ctx, `unsupported operator "${u.operator}"`, locate(ctx, u.operator));
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      if (c.callee.type !== 'Identifier') return fail(ctx, 'only the built-in functions can be called', locate(ctx, '('));
      const name = (c.callee as jsep.Identifier).name;
      if (name === 'has' || name === 'exists') {
        const a = c.arguments[0];
        const p = a && c.arguments.length === 1 ? pathOf(a) : undefined;
        if (!p) return fail(ctx, `${name}() takes one field path, e.g. ${name}(query.uid)`, locate(ctx, name));
        const get = compilePath(p);
        return (s) => {
          const v = get(s);
          return v !== undefined && v !== null;
        };
      }
      const arity = functionArity(name);
      if (!arity) return fail(ctx, `unknown function "${name}" (known: has, exists, ${FUNCTION_NAMES.join(', ')})`, locate(ctx, name));
      const [min, max] = arity;
      if (c.arguments.length < min + 1 || c.arguments.length > max + 1) {
        return fail(ctx, `${name}() takes ${min === max ? min + 1 : `${min + 1} to ${max + 1}`} argument(s), got ${c.arguments.length}`, locate(ctx, name));
      }
      return compileCall(name, c, ctx);
    }
    case 'BinaryExpression':
      return compileBinary(node as jsep.BinaryExpression, ctx);
    case 'ConditionalExpression': {
      const c = node as jsep.ConditionalExpression;
      const t = compileNode(c.test, ctx);
      const a = compileNode(c.consequent, ctx);
      const b = compileNode(c.alternate, ctx);
      return (s) => (truthy(t(s)) ? a(s) : b(s));
    }
    case 'Compound':
      return fail(ctx, 'one expression expected; join conditions with "and" / "or"', undefined);
    default:
      return fail(ctx, `unsupported syntax (${node.type})`, undefined);
  }
}

function compileBinary(b: jsep.BinaryExpression, ctx: Ctx): Eval {
  const op = b.operator;
  const l = compileNode(b.left, ctx);
  if (op === '=~' || op === '!~') {
    if (b.right.type !== 'Literal' || !((b.right as jsep.Literal).value instanceof RegExp)) {
      return fail(ctx, `the right side of ${op} must be a /regex/`, locate(ctx, op));
    }
    const src = (b.right as jsep.Literal).value as RegExp;
    // A global/sticky regex keeps state between test() calls; drop those flags.
    const re = new RegExp(src.source, src.flags.replace(/[gy]/g, ''));
    const want = op === '=~';
    return (s) => {
      const t = matchText(l(s));
      return t === undefined ? !want : re.test(t) === want;
    };
  }
  const r = compileNode(b.right, ctx);
  switch (op) {
    case 'and':
    case '&&':
      return (s) => truthy(l(s)) && truthy(r(s));
    case 'or':
    case '||':
      return (s) => truthy(l(s)) || truthy(r(s));
    case '==':
    case '===':
      return (s) => equals(l(s), r(s));
    case '!=':
    case '!==':
      return (s) => !equals(l(s), r(s));
    case '<':
      return (s) => { const o = order(l(s), r(s)); return o !== undefined && o < 0; };
    case '<=':
      return (s) => { const o = order(l(s), r(s)); return o !== undefined && o <= 0; };
    case '>':
      return (s) => { const o = order(l(s), r(s)); return o !== undefined && o > 0; };
    case '>=':
      return (s) => { const o = order(l(s), r(s)); return o !== undefined && o >= 0; };
    case 'in':
      return (s) => member(l(s), r(s));
    case '+':
      return (s) => {
        const a = l(s);
        const c = r(s);
        if (typeof a === 'string' && typeof c === 'string') return a + c;
        const x = num(a);
        const y = num(c);
        return x === undefined || y === undefined ? undefined : x + y;
      };
    case '-':
    case '*':
    case '/':
    case '%':
    case '**': {
      const f = op === '-' ? (x: number, y: number) => x - y
        : op === '*' ? (x: number, y: number) => x * y
        : op === '/' ? (x: number, y: number) => (y === 0 ? undefined : x / y)
        : op === '%' ? (x: number, y: number) => (y === 0 ? undefined : x % y)
        : (x: number, y: number) => x ** y;
      return (s) => {
        const x = num(l(s));
        const y = num(r(s));
        return x === undefined || y === undefined ? undefined : f(x, y);
      };
    }
    default:
      return fail(ctx, `unsupported operator "${op}"`, locate(ctx, op));
  }
}

/**
 * Compiles a `when` expression into a predicate. Throws TailshipError
 * TAILSHIP_EXPRESSION_INVALID, with `place.path` = `path` and the column in the message, when
 * the expression does not parse or uses something outside the language.
 */
export function compileExpression(src: string, path: string): Predicate {
  const ctx: Ctx = { src, path };
  let ast: jsep.Expression;
  try {
    ast = whenParser()(src);
  } catch (e) {
    if (e instanceof SyntaxErrorAt) return fail(ctx, e.message, e.index);
    const err = e as { description?: unknown; index?: unknown; message?: unknown };
    const msg = typeof err.description === 'string' ? err.description : String(err.message);
    return fail(ctx, msg, typeof err.index === 'number' ? err.index : undefined);
  }
  if (ast.type === 'Compound' && (ast as jsep.Compound).body.length === 0) fail(ctx, 'empty expression', undefined);
  const ev = compileNode(ast, ctx);
  return (s) => truthy(ev(s));
}
