/** Stdout output through the real CLI: `run --once` prints one JSON event per line, logs stay on stderr. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { nginxLine } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml } from '../delivery/harness.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

it('prints every event as NDJSON on stdout and exits 0', async () => {
  const N = 1200;
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(cfg, pipelineYaml({ dir: tmp.dir, outputs: '      - type: stdout\n        batch_size: 100' }).replace(/log_level: \w+/, 'log_level: info'));
  const { code, stdout, stderr } = await runTailship(['run', '--once', '--config', cfg]);
  expect(code).toBe(0);
  const lines = stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(N);
  const events = lines.map((l) => JSON.parse(l) as { type: string; event: string; messageId: string; properties: { path: string } });
  expect(events.map((e) => e.properties.path)).toEqual(Array.from({ length: N }, (_, i) => `/items/${i + 1}`));
  expect(events[0]).toMatchObject({ type: 'track', event: 'Page Requested' });
  expect(new Set(events.map((e) => e.messageId)).size).toBe(N);
  // Logs go to stderr only, so stdout can be piped.
  expect(stderr).toContain('tailship started');
  expect(stdout).not.toContain('tailship started');
});
