/**
 * tailship is MIT: everything a production install brings in (`npm ls --omit=dev --all`) must be
 * under a permissive licence, so a user can ship it inside their own product. A copyleft
 * dependency (ua-parser-js 2.x is AGPL-3.0-or-later) fails here, naming the package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

const PERMISSIVE = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'CC0-1.0', 'Unlicense', 'WTFPL', 'Python-2.0']);

/** An SPDX expression is acceptable when one of its OR alternatives is entirely permissive. */
function permissive(expr: string): boolean {
  return expr
    .replace(/[()]/g, '')
    .split(/\s+OR\s+/)
    .some((alt) => alt.split(/\s+AND\s+/).every((id) => PERMISSIVE.has(id.trim())));
}

it('every production dependency has a permissive licence', () => {
  const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter((d) => d !== ROOT);
  expect(dirs.length).toBeGreaterThan(10);
  const bad: string[] = [];
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    if (!pkg.license || !permissive(pkg.license)) bad.push(`${pkg.name}@${pkg.version}: ${pkg.license ?? 'no licence field'}`);
  }
  expect(bad).toEqual([]);
  expect(permissive('AGPL-3.0-or-later')).toBe(false);
  expect(permissive('(MIT OR WTFPL)')).toBe(true);
});
