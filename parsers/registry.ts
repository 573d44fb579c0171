/**
 * Parser registry: name → factory. A built-in parser is added by writing parsers/<name>.ts and
 * one `register` line in parsers/index.ts; nothing else switches on parser names.
 */
import { TailshipError } from '../src/errors.js';
import type { Parser, ParserFactory, ParserFactoryContext } from './types.js';

const factories = new Map<string, ParserFactory>();

export function registerParser(name: string, factory: ParserFactory): void {
  if (factories.has(name)) throw new Error(`parser "${name}" registered twice`);
  factories.set(name, factory);
}

export function parserNames(): string[] {
  return [...factories.keys()].sort();
}

export function getParserFactory(name: string, keyPath: string): ParserFactory {
  const f = factories.get(name);
  if (!f) {
    throw new TailshipError('TAILSHIP_PARSER_UNKNOWN', `unknown parser type "${name}"; expected one of: ${parserNames().join(', ')}`, {
      path: `${keyPath}.type`,
    });
  }
  return f;
}

export type { Parser, ParserFactory, ParserFactoryContext };
