/**
 * Built-in parser registrations and the entry points the pipeline calls:
 * - `buildParserAsync(section, opts)`: at start-up; imports any user plugin modules named in the
 *   section (including nested `message_parser` sections), then builds synchronously.
 * - `buildParser(section, opts)`: synchronous; a `module` section works only once its plugin was
 *   loaded by `buildParserAsync` or `preloadParserPlugins`.
 * Both throw TailshipError (TAILSHIP_PARSER_UNKNOWN / _OPTIONS / TAILSHIP_PLUGIN_INVALID) with
 * `place.path` under `opts.keyPath`.
 */
import { TailshipError } from '../src/errors.js';
import { apacheFactory } from './apache.js';
import { criFactory } from './cri.js';
import { csvFactory, tsvFactory } from './csv.js';
import { dockerFactory } from './docker.js';
import { grokFactory } from './grok.js';
import { jsonFactory } from './json.js';
import { logfmtFactory } from './logfmt.js';
import { nginxFactory } from './nginx.js';
import { buildPluginParser, preloadPlugin } from './plugin.js';
import { isPlainObject } from './record.js';
import { regexFactory } from './regex.js';
import { getParserFactory, parserNames, registerParser } from './registry.js';
import { syslogFactory } from './syslog.js';
import type { Parser, ParserFactoryContext } from './types.js';

registerParser('nginx', nginxFactory);
registerParser('apache', apacheFactory);
registerParser('json', jsonFactory);
registerParser('regex', regexFactory);
registerParser('grok', grokFactory);
registerParser('logfmt', logfmtFactory);
registerParser('syslog', syslogFactory);
registerParser('csv', csvFactory);
registerParser('tsv', tsvFactory);
registerParser('docker', dockerFactory);
registerParser('cri', criFactory);

export interface BuildOptions {
  /** Directory of the config file: plugin paths resolve against it. */
  readonly configDir: string;
  /** Key path of the section, e.g. `pipelines[0].parser`. */
  readonly keyPath: string;
}

export function buildParser(section: unknown, opts: BuildOptions): Parser {
  const ctx: ParserFactoryContext = {
    configDir: opts.configDir,
    keyPath: opts.keyPath,
    build: (s, keyPath) => buildParser(s, { configDir: opts.configDir, keyPath }),
  };
  if (!isPlainObject(section)) {
    throw new TailshipError('TAILSHIP_PARSER_OPTIONS', 'expected a parser section: { type: NAME, ...options } or { module: PATH, options: {...} }', { path: opts.keyPath });
  }
  const { type, module, ...rest } = section;
  if (typeof type === 'string') {
    if (module !== undefined) throw new TailshipError('TAILSHIP_PARSER_OPTIONS', 'give either `type` or `module`, not both', { path: opts.keyPath });
    return getParserFactory(type, opts.keyPath)(rest, ctx);
  }
  if (typeof module === 'string') {
    const extra = Object.keys(rest).filter((k) => k !== 'options');
    if (extra.length) {
      throw new TailshipError('TAILSHIP_PARSER_OPTIONS', `unknown key "${extra[0]}" beside \`module\`; plugin options go under \`options\``, { path: `${opts.keyPath}.${extra[0]}` });
    }
    return buildPluginParser(module, rest.options, ctx);
  }
  throw new TailshipError('TAILSHIP_PARSER_OPTIONS', `expected \`type\` (one of: ${parserNames().join(', ')}) or \`module\``, { path: opts.keyPath });
}

/** Imports every plugin module named anywhere in the section (nested parsers included). */
export async function preloadParserPlugins(section: unknown, opts: BuildOptions): Promise<void> {
  const walk = async (node: unknown, keyPath: string): Promise<void> => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) await walk(node[i], `${keyPath}[${i}]`);
      return;
    }
    if (!isPlainObject(node)) return;
    if (typeof node.module === 'string' && node.type === undefined) await preloadPlugin(node.module, opts.configDir, keyPath);
    for (const [k, v] of Object.entries(node)) if (k !== 'options' || node.module === undefined) await walk(v, `${keyPath}.${k}`);
  };
  await walk(section, opts.keyPath);
}

export async function buildParserAsync(section: unknown, opts: BuildOptions): Promise<Parser> {
  await preloadParserPlugins(section, opts);
  return buildParser(section, opts);
}

export { parserNames };
