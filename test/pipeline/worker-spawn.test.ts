/**
 * Prestarted processing workers (src/pipeline/worker-spawn.ts): a pool takes them instead of
 * starting its own, they get their setup after they started, and the ones nobody takes are
 * stopped.
 */
import { afterEach, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { textBatch } from '../../src/pipeline/line-batch.js';
import type { StagesSetup } from '../../src/pipeline/stages.js';
import { prestartWorkers, spareWorkerCount, stopSpareWorkers } from '../../src/pipeline/worker-spawn.js';
import { startProcessing } from '../../src/pipeline/workers.js';

afterEach(() => stopSpareWorkers());

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
  return { pipeline, pipelineIndex: 0, configDir: '/tmp', host: 'h', version: '0', outputs: [{ name: 'stdout', type: 'stdout', maxEvents: 100, maxBytes: 100_000 }] };
}

const lines = ['{"what":"Signed Up","who":"a"}', '{"what":"Paid","who":"b"}', 'not json'].map((text, i) => ({ text, start: 100 * i, end: 100 * i + 99 }));

it('a pool takes a prestarted worker, which builds its stages from the setup sent afterwards', async () => {
  prestartWorkers(2);
  expect(spareWorkerCount()).toBe(2);
  const pool = await startProcessing(setup(), 1);
  try {
    expect(spareWorkerCount()).toBe(1);
    const result = await pool.run(textBatch(lines, '/tmp/none.log', 'k', Date.now()));
    expect(result.counts.events).toBe(2);
    expect(result.counts.parsed.error + result.counts.parsed.raw).toBe(1);
    expect(result.chunks.map((c) => c.eventCount)).toEqual([2]);
  } finally {
    await pool.close();
  }
  await stopSpareWorkers();
  expect(spareWorkerCount()).toBe(0);
});

it('without prestarted workers a pool starts its own', async () => {
  expect(spareWorkerCount()).toBe(0);
  const pool = await startProcessing(setup(), 2);
  try {
    const results = await Promise.all([0, 1, 2].map(() => pool.run(textBatch(lines, '/tmp/none.log', 'k', Date.now()))));
    expect(results.map((r) => r.counts.events)).toEqual([2, 2, 2]);
  } finally {
    await pool.close();
  }
});
