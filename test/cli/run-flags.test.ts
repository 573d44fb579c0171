/**
 * `tailship run` started with no NODE_OPTIONS restarts itself, in the same process, with the V8
 * flags and the malloc setting it is measured with (bin/tailship.js). Only where node has
 * process.execve (22.15+, 23.11+); on older node they come from the environment (deploy/).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const hasExecve = typeof (process as { execve?: unknown }).execve === 'function';

it.skipIf(!hasExecve)('`run` without NODE_OPTIONS runs with --max-semi-space-size=2 --v8-pool-size=0 and MALLOC_MMAP_THRESHOLD_=131072, under the pid it was started as', async () => {
  const tmp = tempDir();
  const config = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(tmp.dir, 'a.log'), '');
  writeFileSync(
    config,
    `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
pipelines:
  - name: p
    inputs: [{ paths: [${JSON.stringify(path.join(tmp.dir, 'a.log'))}] }]
    parser: { type: json }
    events: [{ type: track, event: "{{ what }}", anonymousId: "{{ who }}" }]
    output: { type: stdout }
`,
  );
  const child = startTailship(['run', '--config', config], { NODE_OPTIONS: '', MALLOC_MMAP_THRESHOLD_: '' });
  try {
    const cmdline = (): string[] => readFileSync(`/proc/${child.proc.pid}/cmdline`, 'utf8').split('\0');
    const deadline = Date.now() + 20_000;
    while (!cmdline().includes('--v8-pool-size=0') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(cmdline()).toEqual(expect.arrayContaining(['--max-semi-space-size=2', '--v8-pool-size=0', 'run']));
    expect(readFileSync(`/proc/${child.proc.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_MMAP_THRESHOLD_=131072');
  } finally {
    child.proc.kill('SIGKILL');
    await child.exited;
    tmp.cleanup();
  }
});
