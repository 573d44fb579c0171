/**
 * src/mapping/ is pure: nothing it loads, directly or through other modules, does I/O (files,
 * SQLite, HTTP, sockets, threads), and it loads nothing from src/emit/ (a protocol builds its
 * writers from the compiled rules, not the other way round). Type-only imports are erased and
 * not followed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|worker_threads|cluster|tls|dns)$|^(better-sqlite3|undici)(\/|$)/;
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Every module loaded from `file` at run time, as [importer, specifier] pairs, following relative imports. */
function loads(file: string, seen = new Set<string>()): Array<[string, string]> {
  if (seen.has(file)) return [];
  seen.add(file);
  const out: Array<[string, string]> = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1]!;
    out.push([file, spec]);
    if (spec.startsWith('.')) out.push(...loads(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen));
  }
  return out;
}

test('src/mapping/ loads no I/O module and nothing from src/emit/', () => {
  const dir = join(root, 'src/mapping');
  const seen = new Set<string>();
  const all = readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) => loads(join(dir, f), seen));
  expect(all.length).toBeGreaterThan(10);
  const io = all.filter(([, spec]) => IO_MODULES.test(spec)).map(([from, spec]) => `${relative(root, from)} -> ${spec}`);
  const emit = all.filter(([from, spec]) => spec.startsWith('.') && relative(root, resolve(dirname(from), spec)).startsWith('src/emit/')).map(([from, spec]) => `${relative(root, from)} -> ${spec}`);
  expect(io).toEqual([]);
  expect(emit).toEqual([]);
});
