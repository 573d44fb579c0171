/**
 * Process-wide tuning has one home (src/tuning/), is applied by the entry points that run
 * tailship (the command, the benchmark harness, the test setup), and each workaround says when
 * it can go.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';

const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

it('each workaround in src/tuning/ says when to remove it', () => {
  const workarounds = sourceFiles('src/tuning').filter((f) => !f.endsWith('index.ts'));
  expect(workarounds.length).toBeGreaterThanOrEqual(4);
  for (const f of workarounds) expect(read(f), f).toMatch(/Remove when /);
});

it('bin/tailship.js, the benchmark harness and the test setup apply the same tuning', () => {
  expect(read('bin/tailship.js')).toMatch(/dist\/src\/tuning\/index\.js[\s\S]*applyProcessTuning\(\)[\s\S]*import\(cli\.href\)/);
  expect(read('bench/run.ts')).toMatch(/from '\.\.\/src\/tuning\/index\.js';[\s\S]*\napplyProcessTuning\(\);/);
  expect(read('vitest.config.ts')).toContain("setupFiles: ['test/helpers/process-tuning.ts']");
  expect(read('test/helpers/process-tuning.ts')).toMatch(/\napplyProcessTuning\(\);/);
});

it('no module outside src/tuning/ changes V8 flags or patches a dependency at import', () => {
  const offenders = [...sourceFiles('src'), ...sourceFiles('parsers')]
    .filter((f) => !f.startsWith('src/tuning/'))
    .filter((f) => /setFlagsFromString|Object\.assign\(\w+\.prototype|proto\.prepare\s*=/.test(read(f)));
  expect(offenders).toEqual([]);
});
