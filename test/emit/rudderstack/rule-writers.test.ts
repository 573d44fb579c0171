/**
 * The processing stages get their fast writers from the outputs' protocol (decision 16): a
 * pipeline whose outputs all take RudderStack / Segment JSON writes its simple rules' events
 * straight from the record; a pipeline with another output builds event objects.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { loadConfigText, pipelineOutputs } from '../../../src/config/load.js';
import { encoderSpec } from '../../../src/emit/registry.js';
import { buildStages } from '../../../src/run/stages.js';
import { tempDir } from '../../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.cleanup();
});

async function stagesFor(outputs: string) {
  const yaml = `
state_dir: ${JSON.stringify(tmp.dir)}
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(tmp.dir + '/x.log')}] }]
    parser: { type: json }
    events:
      - type: track
        event: Page Viewed
        userId: "{{ user }}"
        properties: { path: "{{ path }}" }
    ${outputs}
`;
  const p = loadConfigText(yaml, 'test.yaml', tmp.dir, {}).config.pipelines[0]!;
  const { output: _o, outputs: _os, ...pipeline } = p;
  return buildStages({
    pipeline, pipelineIndex: 0, configDir: tmp.dir, host: 'h', version: '1.2.3',
    outputs: pipelineOutputs(p).map((o) => ({ name: o.name, encoder: encoderSpec(o, { schemas: {} }), maxEvents: 100, maxBytes: 1 << 20 })),
  });
}

const meta = { fileKey: 'k', file: 'x.log', offset: 0, readAtMs: 1_700_000_000_000 };

test('RudderStack outputs: the rule is written straight to its message JSON', async () => {
  const stages = await stagesFor('output: { type: rudderstack, url: "http://127.0.0.1:9", write_key: wk }');
  expect(stages.writers?.[0]).toBeTypeOf('function');
  const [out] = stages.mapper.mapWith({ user: 'u1', path: '/a' }, meta, stages.writers);
  expect(out && 'json' in out ? JSON.parse(out.json) : out).toMatchObject({ type: 'track', event: 'Page Viewed', userId: 'u1', properties: { path: '/a' } });
});

test('a stdout output beside it: no writers, event objects for every output', async () => {
  const stages = await stagesFor('outputs: [{ type: rudderstack, url: "http://127.0.0.1:9", write_key: wk }, { type: stdout }]');
  expect(stages.writers).toBeUndefined();
});
