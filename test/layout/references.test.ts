/**
 * Comments and messages in the code point only at files of this repository, and carry no
 * measurement logs: a cited `docs/` or `bench/` page exists, nothing cites a `protocols.md`
 * outside docs/protocols/, and nothing cites benchmark attempts (figures live in bench/results/,
 * decisions in docs/decisions/).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

const THIS = path.relative(ROOT, new URL(import.meta.url).pathname);

function codeFiles(): string[] {
  return ['src', 'parsers', 'test', 'bin', 'bench', 'chaos', 'scripts'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
      .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
      .filter((f) => f !== THIS),
  );
}

/** `file:line: text` for each line of the code matching `re`. */
function grep(re: RegExp): Array<{ where: string; match: string }> {
  const hits: Array<{ where: string; match: string }> = [];
  for (const f of codeFiles()) {
    readFileSync(path.join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(re)) hits.push({ where: `${f}:${i + 1}`, match: m[0] });
    });
  }
  return hits;
}

it('every docs/ or bench/ page the code names exists', () => {
  const cited = grep(/\b(?:docs|bench)\/[\w./-]+\.md\b/g);
  expect(cited.length).toBeGreaterThan(10);
  expect(cited.filter((c) => !existsSync(path.join(ROOT, c.match))).map((c) => `${c.where} ${c.match}`)).toEqual([]);
});

it('no protocols.md from outside the repository, no benchmark attempts in the code', () => {
  const outside = grep(/(?<!docs\/protocols\/[\w-]*)\bprotocols\.md\b|RESULTS\.md[^\n]*attempt|\battempts? \d+(?:[–-]\d+)?\b(?! ?(?:ms|s\b|times))/g);
  expect(outside.map((c) => `${c.where} ${c.match}`)).toEqual([]);
});
