/**
 * Packaging: `npm pack` makes a package whose `tailship` bin works after `npm install -g` into a
 * temporary prefix (--version, validate, and a --once run of the bundled demo), and whose files
 * are the compiled code without source maps, and leave out tests, benchmarks and fixtures other
 * than fixtures/demo (deploy/ is in, for the systemd unit and the Grafana dashboard; assets/ for
 * the status page). With TAILSHIP_PACK_FULL=1 (.ci/run
 * sets it for its first leg) the install runs the package's install scripts, so better-sqlite3 is
 * built from source (2-8 minutes on a quiet machine, up to 20 on a loaded one), also for
 * `npm ci --omit=dev` in a copy of the checkout; otherwise the installs skip them and reuse this
 * checkout's better-sqlite3 binary, built for the same Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, assertBuilt } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const FULL = process.env.TAILSHIP_PACK_FULL === '1';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; main?: string; types?: string; scripts: Record<string, string> };
const VERSION = PKG.version;

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
  execFileSync(NPM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_500_000 });
  bin = path.join(prefix, 'bin', 'tailship');
  pkgDir = path.join(prefix, 'lib', 'node_modules', 'tailship');
  if (!FULL) {
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(path.dirname(path.join(pkgDir, addon)), { recursive: true });
    copyFileSync(path.join(ROOT, addon), path.join(pkgDir, addon));
  }
}, 1_600_000);

afterAll(() => tmp?.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('npm package', () => {
  it('ships the CLI, its build, configs and docs, and no tests, benchmarks or test fixtures', () => {
    for (const f of ['deploy/systemd/tailship.service', 'bin/tailship.js', 'dist/src/cli.js', 'dist/src/daemon.js', 'dist/parsers/index.js', 'README.md', 'config/demo.yaml', 'fixtures/demo/access.log', 'package.json', 'assets/status-page/index.html', 'assets/status-page/status.js', 'assets/status-page/status.css', 'deploy/grafana/tailship-dashboard.json']) {
      expect(files).toContain(f);
    }
    const unwanted = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|src|parsers|\.ci)\//.test(f) || (f.startsWith('fixtures/') && !f.startsWith('fixtures/demo/')));
    expect(unwanted).toEqual([]);
    // Compiled code only: no source maps pointing at sources that are not shipped, and every
    // entry point package.json names is in the package.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const entry of [PKG.main, PKG.types]) if (entry !== undefined) expect(files).toContain(entry.replace(/^\.\//, ''));
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

describe('a production install (no dev dependencies)', () => {
  it('`prepare` succeeds without TypeScript, and the bin of an unbuilt checkout says how to build', () => {
    const dir = path.join(tmp.dir, 'no-typescript');
    mkdirSync(path.join(dir, 'scripts'), { recursive: true });
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    copyFileSync(path.join(ROOT, 'scripts', 'prepare.mjs'), path.join(dir, 'scripts', 'prepare.mjs'));
    copyFileSync(path.join(ROOT, 'bin', 'tailship.js'), path.join(dir, 'bin', 'tailship.js'));
    const prep = spawnSync(NPM, ['run', 'prepare'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(prep.status, prep.stderr).toBe(0);
    expect(prep.stderr).toContain('TypeScript is not installed');
    expect(existsSync(path.join(dir, 'dist'))).toBe(false);
    const unbuilt = spawnSync(process.execPath, [path.join(dir, 'bin', 'tailship.js'), '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(unbuilt.status).toBe(1);
    expect(unbuilt.stderr).toContain('this checkout is not built. Run `npm ci && npm run build`');
  });

  // With TAILSHIP_PACK_FULL=1 exactly `npm ci --omit=dev` (better-sqlite3 built from source);
  // otherwise the same without install scripts, then the `prepare` it would run, and this
  // checkout's better-sqlite3 binary.
  it('`npm ci --omit=dev` in a built checkout installs without TypeScript and runs the demo', () => {
    const dir = path.join(tmp.dir, 'checkout');
    // The checkout's own files: git's list where there is a repository, else (CI's copies of the
    // tree for its Node 22/24 legs have no .git) the tree without what a build or install makes.
    if (existsSync(path.join(ROOT, '.git'))) {
      const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
      for (const f of tracked) if (existsSync(path.join(ROOT, f))) cpSync(path.join(ROOT, f), path.join(dir, f));
    } else {
      const made = new Set(['node_modules', 'dist', 'test-artifacts'].map((d) => path.join(ROOT, d)));
      cpSync(ROOT, dir, { recursive: true, filter: (src) => !made.has(src) });
    }
    for (const d of ['dist/src', 'dist/parsers']) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
    const ci = spawnSync(NPM, ['ci', '--omit=dev', '--no-audit', '--no-fund', ...(FULL ? [] : ['--ignore-scripts'])], { cwd: dir, encoding: 'utf8', timeout: 1_500_000 });
    expect(ci.status, ci.stderr).toBe(0);
    if (!FULL) {
      const prep = spawnSync(NPM, ['run', 'prepare'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(prep.status, prep.stderr).toBe(0);
      const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
      mkdirSync(path.dirname(path.join(dir, addon)), { recursive: true });
      copyFileSync(path.join(ROOT, addon), path.join(dir, addon));
    }
    expect(existsSync(path.join(dir, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', 'vitest'))).toBe(false);
    const once = spawnSync(process.execPath, [path.join(dir, 'bin', 'tailship.js'), 'run', '--config', path.join(dir, 'config', 'demo.yaml'), '--once'], {
      encoding: 'utf8',
      env: { ...process.env, TAILSHIP_STATE_DIR: path.join(tmp.dir, 'checkout-state') },
      timeout: 120_000,
    });
    // The demo holds one malformed line on purpose: exit 3, "some lines became dead letters" (src/commands/exit-codes.ts).
    expect(once.status, once.stderr).toBe(3);
    const events = once.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.type).toBe('track');
  }, 1_600_000);
});
