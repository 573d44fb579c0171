/**
 * What a processing worker loads: every module reachable from src/run/worker.ts by static
 * imports. Each worker is a V8 isolate of its own, so a module it loads costs memory once per
 * worker; the HTTP client alone took megabytes of a worker's heap.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { PROTOCOLS } from '../../src/emit/registry.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Packages and built-in modules reachable from `entry`, following relative imports (types excluded). */
function externalImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      if (m[2]) continue;
      const spec = (m[3] ?? m[4])!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  };
  visit(entry);
  return external;
}

const HEAVY = ['undici', 'node:http', 'node:https', 'node:tls', 'better-sqlite3', 'prom-client', 'pino', 'zod', 'yaml', 'chokidar'];

it('a processing worker loads no HTTP, TLS or store module', () => {
  const loaded = externalImports(path.join(ROOT, 'src/run/worker.ts'));
  // The scan itself works: the worker does need these.
  expect(loaded).toContain('node:worker_threads');
  expect(loaded).toContain('node:zlib');
  for (const heavy of HEAVY) {
    expect(loaded, `${heavy} is reachable from src/run/worker.ts`).not.toContain(heavy);
  }
});

it("nor does any protocol's encoder, which each worker imports by name", () => {
  expect(PROTOCOLS.length).toBeGreaterThan(0);
  for (const p of PROTOCOLS) {
    const loaded = externalImports(path.join(ROOT, 'src/emit', p.encoderModule.replace(/\.js$/, '.ts')));
    for (const heavy of HEAVY) expect(loaded, `${heavy} is reachable from the ${p.type} encoder`).not.toContain(heavy);
  }
});
