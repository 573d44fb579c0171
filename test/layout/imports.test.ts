/**
 * The top-level units of src/ (its folders, and the files directly in it such as daemon.ts)
 * depend on each other one way: no import cycle between them. Only imports that load code at
 * run time count, static or dynamic; type-only imports (`import type`, or braces holding only
 * `type X` names) are erased by the compiler and ignored here: e.g. emit/ names config/'s
 * option types while config/ loads emit/'s registry.
 *
 * README's Layout section lists the folders in data-flow order; the last test keeps it in step.
 * That src/mapping/ loads no I/O module and nothing from src/emit/ is test/mapping/purity.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

const SRC = path.join(ROOT, 'src');

/**
 * Cycles known when this test was written, as "a -> b" edges (units as printed below) that may
 * stay until the change that removes them lands; each says what removes it. Empty: there are
 * none today. Add an entry only with the change that will remove it.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map([]);

/** src/x/y.ts → "x/", src/daemon.ts → "daemon.ts". */
function unitOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length === 1 ? parts[0]! : `${parts[0]}/`;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function typeOnly(typeKeyword: string | undefined, clause: string | undefined): boolean {
  if (typeKeyword) return true;
  const braces = clause?.trim().match(/^\{([^}]*)\}$/);
  if (!braces) return false;
  const names = braces[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

/** Run-time dependencies between units: "a -> b" → the import lines that make it. */
function unitEdges(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
  const edges = new Map<string, string[]>();
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[3] ?? m[4]!;
      if (!spec.startsWith('.') || typeOnly(m[1], m[2])) continue;
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!target.startsWith(SRC + path.sep)) continue;
      const [from, to] = [unitOf(file), unitOf(target)];
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      edges.set(key, [...(edges.get(key) ?? []), `${path.relative(ROOT, file)}: ${spec}`]);
    }
  }
  return edges;
}

/** The edges that lie on a cycle: a -> b where b leads back to a. */
function edgesOnCycles(edgeList: Iterable<string>): string[] {
  const edges = [...edgeList];
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const [a, b] = e.split(' -> ') as [string, string];
    next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const todo = [from];
    while (todo.length > 0) {
      const u = todo.pop()!;
      if (u === to) return true;
      if (seen.has(u)) continue;
      seen.add(u);
      todo.push(...(next.get(u) ?? []));
    }
    return false;
  };
  return edges.filter((e) => {
    const [a, b] = e.split(' -> ') as [string, string];
    return reaches(b, a);
  });
}

it('finds a cycle when there is one (the checker itself)', () => {
  expect(edgesOnCycles(['run/ -> store/', 'store/ -> ops/', 'ops/ -> run/', 'cli.ts -> run/'])).toEqual(['run/ -> store/', 'store/ -> ops/', 'ops/ -> run/']);
  expect(edgesOnCycles(['run/ -> store/', 'ops/ -> run/'])).toEqual([]);
});

it('no import cycle between the top-level folders of src/ (type-only imports ignored)', () => {
  const edges = unitEdges();
  expect(edges.size).toBeGreaterThan(20);
  expect(edges.has('daemon.ts -> run/')).toBe(true);
  const cycles = edgesOnCycles(edges.keys()).filter((e) => !ALLOWED.has(e));
  expect(cycles.map((e) => `${e} (${edges.get(e)![0]})`)).toEqual([]);
});

it('every allowed cycle still exists (a removed one leaves the list)', () => {
  const onCycles = new Set(edgesOnCycles(unitEdges().keys()));
  expect([...ALLOWED.keys()].filter((e) => !onCycles.has(e))).toEqual([]);
});

it("README's Layout section names every folder of src/, the main ones in data-flow order", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}/`);
  expect(folders.filter((f) => !section.includes(`\`${f}\``))).toEqual([]);
  const flow = ['src/config/', 'src/source/', 'parsers/', 'src/run/', 'src/mapping/', 'src/emit/', 'src/store/', 'src/ops/', 'src/commands/'];
  const listed = [...section.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1]);
  expect(listed).toEqual(flow);
});
