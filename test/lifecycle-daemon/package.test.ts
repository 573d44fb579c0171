/**
 * Packaging: `npm pack` makes a package whose `tailship` bin works after `npm install -g` into a
 * temporary prefix (--version, validate, and a --once run of the bundled demo), and whose files
 * leave out tests, benchmarks and fixtures other than fixtures/demo (deploy/ is in, for the
 * systemd unit). With TAILSHIP_PACK_FULL=1 (.ci/run sets it for its first leg) the install runs
 * the package's install scripts, so better-sqlite3 is built from source (2-8 minutes here);
 * otherwise it skips them and reuses this checkout's better-sqlite3 binary, built for the same Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, assertBuilt } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const FULL = process.env.TAILSHIP_PACK_FULL === '1';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let tmp: ReturnType<typeof tempDir>;
let files: string[] = [];
let bin = '';
let pkgDir = '';

beforeAll(() => {
  assertBuilt();
  tmp = tempDir('tailship-pack-');
  // dist/ is fresh (npm test builds first), so skip `prepare` here.
  const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = info[0]!.files.map((f) => f.path);
  const tgz = path.join(tmp.dir, path.basename(info[0]!.filename));
  const prefix = path.join(tmp.dir, 'prefix');
  const args = ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ...(FULL ? [] : ['--ignore-scripts']), tgz];
  execFileSync(NPM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  bin = path.join(prefix, 'bin', 'tailship');
  pkgDir = path.join(prefix, 'lib', 'node_modules', 'tailship');
  if (!FULL) {
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(path.dirname(path.join(pkgDir, addon)), { recursive: true });
    copyFileSync(path.join(ROOT, addon), path.join(pkgDir, addon));
  }
}, 900_000);

afterAll(() => tmp?.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('npm package', () => {
  it('ships the CLI, its build, configs and docs, and no tests, benchmarks or test fixtures', () => {
    for (const f of ['deploy/systemd/tailship.service', 'bin/tailship.js', 'dist/src/cli.js', 'dist/src/daemon.js', 'dist/parsers/index.js', 'README.md', 'config/demo.yaml', 'fixtures/demo/access.log', 'package.json']) {
      expect(files).toContain(f);
    }
    const unwanted = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|src|parsers|\.ci)\//.test(f) || (f.startsWith('fixtures/') && !f.startsWith('fixtures/demo/')));
    expect(unwanted).toEqual([]);
  });

  it('installs with npm install -g; the bin runs --version, validate and the demo', () => {
    expect(existsSync(bin)).toBe(true);
    const v = run(['--version']);
    expect(v.stdout.trim()).toBe(VERSION);
    expect(v.status).toBe(0);

    const demo = path.join(pkgDir, 'config', 'demo.yaml');
    const val = run(['validate', '--config', demo]);
    expect(val.stderr).toBe('');
    expect(val.stdout).toBe(`${demo}: OK (1 pipeline: demo)\n`);

    const once = run(['run', '--config', demo, '--once'], { TAILSHIP_STATE_DIR: path.join(tmp.dir, 'state') });
    // Its one malformed line is a dead letter: exit 3 (docs/operations.md, exit codes).
    expect(once.status).toBe(3);
    const events = once.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    const lines = readFileSync(path.join(pkgDir, 'fixtures', 'demo', 'access.log'), 'utf8').trim().split('\n').length;
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(lines);
    for (const e of events) expect(e.type).toBe('track');
  });
});
