/**
 * User parser modules: `parser: { module: ./my-parser.js, options: {...} }`. The module is
 * imported once at start-up (dynamic import is async, see `preloadPlugin`); building the parser
 * is then synchronous like any built-in. A module is accepted when it exports one of:
 * - `createParser(options, ctx) → Parser` (named export), or a default-exported factory function;
 * - `parse(line, ctx)` (named export), or a default-exported object with a `parse` method.
 * A parser returns a record (plain object), or signals a failure by returning a ParseError
 * (from tailship or any copy of it: an object with a string `reason`), `null`, or by throwing;
 * each becomes a ParseError for the pipeline, so a plugin cannot stop it.
 * Anything else fails at start-up with TAILSHIP_PLUGIN_INVALID naming the file and the problem.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TailshipError } from '../src/errors.js';
import { refuseWritableByOthers } from '../src/config/permissions.js';
import { isPlainObject } from './record.js';
import { ParseError, type LogRecord, type ParseContext, type ParseResult, type Parser, type ParserFactoryContext } from './types.js';

type PluginFactory = (options: Record<string, unknown>, ctx: ParserFactoryContext) => unknown;

/** Loaded modules, by resolved file. */
const loaded = new Map<string, { factory: PluginFactory } | { parser: Parser }>();

/** Resolves a module reference relative to the config file's directory. */
export function resolvePluginPath(ref: string, configDir: string): string {
  if (ref.startsWith('file:')) return new URL(ref).pathname;
  if (path.isAbsolute(ref)) return ref;
  if (ref.startsWith('./') || ref.startsWith('../') || ref.startsWith('.\\') || ref.startsWith('..\\')) return path.resolve(configDir, ref);
  // A bare specifier: an installed package, resolved as if required from the config directory.
  try {
    return createRequire(path.join(configDir, 'tailship-config.js')).resolve(ref);
  } catch {
    return path.resolve(configDir, ref);
  }
}

function invalid(file: string, keyPath: string, problem: string, cause?: unknown): TailshipError {
  return new TailshipError('TAILSHIP_PLUGIN_INVALID', `parser plugin ${file}: ${problem}`, { path: `${keyPath}.module` }, { cause });
}

function hasParse(v: unknown): v is Parser {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { parse?: unknown }).parse === 'function';
}

/** Imports and checks a plugin module; idempotent. Throws TAILSHIP_PLUGIN_INVALID. */
export async function preloadPlugin(ref: string, configDir: string, keyPath: string): Promise<string> {
  const file = resolvePluginPath(ref, configDir);
  if (loaded.has(file)) return file;
  refuseWritableByOthers(file, 'parser module', { path: keyPath });
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' ? 'file not found (paths are relative to the config file)' : `cannot be imported: ${err instanceof Error ? err.message : String(err)}`;
    throw invalid(file, keyPath, why, err);
  }
  const def = mod.default;
  if (typeof mod.createParser === 'function') loaded.set(file, { factory: mod.createParser as PluginFactory });
  else if (typeof mod.parse === 'function') loaded.set(file, { parser: { parse: mod.parse as Parser['parse'] } });
  else if (typeof def === 'function') loaded.set(file, { factory: def as PluginFactory });
  else if (hasParse(def)) loaded.set(file, { parser: def });
  else {
    const exports = Object.keys(mod).join(', ') || 'nothing';
    throw invalid(file, keyPath, `exports ${exports}; expected a createParser(options, ctx) function, a parse(line, ctx) function, or a default export of either`);
  }
  return file;
}

/** Builds a parser from an already loaded plugin (see preloadPlugin). */
export function buildPluginParser(ref: string, options: unknown, ctx: ParserFactoryContext): Parser {
  const file = resolvePluginPath(ref, ctx.configDir);
  const entry = loaded.get(file);
  if (!entry) throw invalid(file, ctx.keyPath, 'not loaded; plugins are imported at start-up by buildParserAsync()');
  let opts: Record<string, unknown> = {};
  if (options !== undefined) {
    if (!isPlainObject(options)) throw new TailshipError('TAILSHIP_PARSER_OPTIONS', 'expected `options` to be a mapping', { path: `${ctx.keyPath}.options` });
    opts = options;
  }
  let parser: unknown;
  if ('parser' in entry) parser = entry.parser;
  else {
    try {
      parser = entry.factory(opts, ctx);
    } catch (err) {
      if (err instanceof TailshipError) throw err;
      throw invalid(file, ctx.keyPath, `createParser threw: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
  if (!hasParse(parser)) throw invalid(file, ctx.keyPath, 'createParser did not return an object with a parse(line, ctx) method');
  return new GuardedPlugin(parser, path.basename(file));
}

/** Normalises a plugin's results and turns its exceptions into ParseErrors. */
class GuardedPlugin implements Parser {
  constructor(
    private readonly inner: Parser,
    private readonly name: string,
  ) {}

  parse(line: string, ctx: ParseContext): ParseResult {
    let r: unknown;
    try {
      r = this.inner.parse(line, ctx);
    } catch (err) {
      return new ParseError(`plugin ${this.name} threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (r instanceof ParseError) return r;
    if (r === null || r === undefined) return new ParseError(`plugin ${this.name} returned no record`);
    if (typeof r !== 'object' || Array.isArray(r)) return new ParseError(`plugin ${this.name} returned ${Array.isArray(r) ? 'an array' : typeof r}, expected a record object`);
    const reason = (r as { reason?: unknown }).reason;
    if (typeof reason === 'string' && (r as object).constructor?.name === 'ParseError') {
      const column = (r as { column?: unknown }).column;
      return typeof column === 'number' ? new ParseError(reason, column) : new ParseError(reason);
    }
    return r as LogRecord;
  }
}
