/**
 * Processing workers (src/run/worker-spawn.ts, workers.ts): started with the pipeline,
 * with their own young generation size.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { textBatch } from '../../src/source/line-batch.js';
import type { StagesSetup } from '../../src/run/stages.js';
import { startProcessing } from '../../src/run/workers.js';
import { ROOT } from '../helpers/daemon.js';

function setup(): StagesSetup {
  const { config } = loadConfigText(
    `
state_dir: /tmp/none
pipelines:
  - name: web
    inputs: [{ paths: [/tmp/none.log] }]
    parser: { type: json }
    events:
      - type: track
        event: "{{ what }}"
        anonymousId: "{{ who }}"
    output: { type: stdout }
`,
    'worker-spawn.yaml',
    '/tmp',
  );
  const { output: _output, outputs: _outputs, ...pipeline } = config.pipelines[0]!;
  return { pipeline, pipelineIndex: 0, configDir: '/tmp', host: 'h', version: '0', outputs: [{ name: 'stdout', encoder: { module: 'ndjson-encoder.js' }, maxEvents: 100, maxBytes: 100_000 }] };
}

const lines = ['{"what":"Signed Up","who":"a"}', '{"what":"Paid","who":"b"}', 'not json'].map((text, i) => ({ text, start: 100 * i, end: 100 * i + 99 }));

it('a pool starts its workers with the pipeline and spreads batches over them', async () => {
  const pool = await startProcessing(setup(), 2);
  try {
    expect(pool.threads).toBe(2);
    const results = await Promise.all([0, 1, 2].map(() => pool.run(textBatch(lines, '/tmp/none.log', 'k', Date.now()))));
    expect(results.map((r) => r.counts.events)).toEqual([2, 2, 2]);
  } finally {
    await pool.close();
  }
});

it("a worker's young generation is its resourceLimits', not the main thread's --max-semi-space-size", () => {
  // The deployment gives the main thread small semi-spaces; V8 would apply that flag to every
  // worker too, unless process tuning clears it first (src/tuning/worker-semi-space.ts). Here the
  // main thread gets 1 MiB: a worker started afterwards with the same resourceLimits as the
  // processing workers (6 MB) must get its 2 MiB semi-spaces, and the main thread keep its 1.
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    (await import(${JSON.stringify(path.join(ROOT, 'dist/src/tuning/index.js'))})).applyProcessTuning();
    const spawn = await import(${JSON.stringify(path.join(ROOT, 'dist/src/run/worker-spawn.js'))});
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const churn = () => { let keep = []; for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 1000 === 0) keep.push(o); } return keep.length; };
    // A processing worker too, as the daemon starts them; as a file it refuses this -e script's --input-type.
    const processing = spawn.startWorker();
    processing.on('error', () => undefined);
    // (An eval worker inherits --input-type=module.)
    const probe = new Worker('import v8 from "node:v8"; import { parentPort } from "node:worker_threads";' +
      ' (' + churn + ')(); parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576);',
      { eval: true, resourceLimits: { maxYoungGenerationSizeMb: spawn.WORKER_YOUNG_GENERATION_MB } });
    const worker = await new Promise((resolve) => probe.once('message', resolve));
    churn();
    console.log(JSON.stringify({ main: newSpace(), worker }));
    await processing.terminate();
    await probe.terminate();
  `;
  const out = execFileSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const { main, worker } = JSON.parse(out.trim().split('\n').pop()!) as { main: number; worker: number };
  // new_space reports both semi-spaces: the flag would have held the worker to 2 MB.
  expect(main).toBeLessThanOrEqual(2);
  expect(worker).toBeGreaterThan(2);
});
