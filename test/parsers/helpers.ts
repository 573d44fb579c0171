/** Test helpers: fixture lines and a parser built the way the pipeline builds it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { buildParser } from '../../parsers/index.js';
import { ParseError, type LogRecord, type ParseContext, type ParseResult, type Parser } from '../../parsers/types.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.join(repoRoot, 'fixtures/parsers');

export function fixtureLines(name: string): string[] {
  return readFileSync(path.join(fixturesDir, name), 'utf8').split('\n').filter((l) => l !== '');
}

export function build(section: Record<string, unknown>, keyPath = 'pipelines[0].parser'): Parser {
  return buildParser(section, { configDir: fixturesDir, keyPath });
}

export const ctx: ParseContext = { file: '/var/log/app.log', offset: 0 };

export function ok(r: ParseResult): LogRecord {
  if (r instanceof ParseError) throw new Error(`unexpected ParseError: ${r.reason}`);
  return r;
}

export function fail(r: ParseResult): ParseError {
  expect(r).toBeInstanceOf(ParseError);
  return r as ParseError;
}

/** Runs fn and returns the TailshipError it throws (fails the test if it does not throw). */
export function thrown(fn: () => unknown): { code: string; place: { path?: string }; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; place: { path?: string }; message: string };
  }
  throw new Error('expected an exception');
}
