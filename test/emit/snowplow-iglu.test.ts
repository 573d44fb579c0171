/**
 * Snowplow events checked against their Iglu schemas before they are queued: schemas resolved
 * from a real static registry on 127.0.0.1 (and a local one), a failing event dead-lettered
 * with the schema and the failing path, the on-disk cache that keeps checking through a
 * registry outage, and `tailship validate` / `tailship parse` showing the same.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import type { Daemon } from '../../src/daemon.js';
import { CONTEXTS_SCHEMA } from '../../src/emit/snowplow/snowplow-encoder.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { IGLU_FIXTURES, IgluRegistry } from '../helpers/iglu-registry.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from '../delivery/harness.js';

const official = (p: string): Record<string, unknown> => {
  const { $schema: _m, self: _s, ...schema } = JSON.parse(readFileSync(path.join(IGLU_FIXTURES, 'schemas', p), 'utf8')) as Record<string, unknown>;
  return schema;
};
const ajv = new Ajv({ strict: false, validateFormats: false });
const validateContexts = ajv.compile(official('com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1'));
const validateRequest = ajv.compile(official('com.example/request/jsonschema/1-0-0'));

const SERVER_ERROR = 'iglu:com.example/server_error/jsonschema/1-0-0';
const REQUEST = 'iglu:com.example/request/jsonschema/1-0-0';

// Every 4xx/5xx claims to be a server_error, whose schema takes 500-599 only: the 404 fails it.
const RULES = `
      - when: "status >= 400"
        type: track
        event: "Server Error"
        schema: "${SERVER_ERROR}"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}" }
      - type: track
        event: "Item Viewed"
        anonymousId: "{{ remote_addr }}"
        contexts:
          - schema: "${REQUEST}"
            data: { method: "{{ request_method }}", bytes: "{{ body_bytes_sent }}" }`;

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let registry: IgluRegistry;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector().start();
  registry = await new IgluRegistry().start();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  await registry.stop();
  tmp.cleanup();
});

function yaml(registries = `[{ url: "${registry.url}" }]`): string {
  return pipelineYaml({
    dir: tmp.dir,
    rules: RULES,
    extraTop: `iglu: { registries: ${registries}, timeout: 2s }`,
    outputs: `
      - type: snowplow
        url: ${collector.url}
        batch_size: 100
        flush_interval: 100ms
        retry: { base: 20ms, cap: 200ms }`,
  });
}

type Item = Record<string, string>;
const items = (): Item[] => collector.messages as unknown as Item[];
const LINES = [nginxLine(1), nginxLine(2, 503), nginxLine(3, 404)];

async function runOnce(config: string): Promise<Daemon> {
  writeFileSync(path.join(tmp.dir, 'access.log'), LINES.join('\n') + '\n');
  const d = await startDaemon(config, tmp.dir);
  await until(() => collector.accepted + d.store.deadLetters.counts().reduce((n, c) => n + c.count, 0) >= 3, 15_000, '3 events accounted for');
  return d;
}

describe('Iglu schema checks (snowplow)', () => {
  it('dead-letters the event whose data fails its schema, naming the schema and the path; sends the rest with their entities', async () => {
    daemon = await runOnce(yaml());
    expect(collector.accepted).toBe(2);
    const letters = daemon.store.deadLetters.list({});
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'mapping', output: 'snowplow', payload: LINES[2] });
    expect(letters[0]!.reason).toBe(`output snowplow: event fails ${SERVER_ERROR}: at /status: must be >= 500`);

    // The entity went as cx (base64url, the default), a contexts 1-0-1 array the schemas accept.
    const viewed = items().find((i) => i.e === 'se')!;
    expect(viewed.co).toBeUndefined();
    const contexts = JSON.parse(Buffer.from(viewed.cx!, 'base64url').toString('utf8')) as { schema: string; data: Array<{ schema: string; data: unknown }> };
    expect(contexts.schema).toBe(CONTEXTS_SCHEMA);
    expect(validateContexts(contexts.data)).toBe(true);
    expect(contexts.data).toEqual([{ schema: REQUEST, data: { method: 'GET', bytes: 1 } }]);
    expect(validateRequest(contexts.data[0]!.data)).toBe(true);
    expect(registry.asked).toEqual(expect.arrayContaining([`/schemas/com.example/server_error/jsonschema/1-0-0`, `/schemas/com.example/request/jsonschema/1-0-0`]));
  });

  it('refuses the event for the Snowplow output only: the pipeline\'s other outputs still get it', async () => {
    const out = path.join(tmp.dir, 'events.ndjson');
    const config = yaml().replace('    outputs:\n', `    outputs:\n      - { type: file, path: ${JSON.stringify(out)}, flush_interval: 50ms }\n`);
    daemon = await runOnce(config);
    await until(() => existsSync(out) && readFileSync(out, 'utf8').trim().split('\n').length === 3, 10_000, '3 events in the file');
    expect(daemon.store.deadLetters.list({}).map((l) => l.output)).toEqual(['snowplow']);
    expect(collector.accepted).toBe(2);
  });

  it('keeps checking from its cache while the registry is down', async () => {
    daemon = await runOnce(yaml());
    await daemon.stop();
    daemon = undefined;
    registry.down = true;
    const askedBefore = registry.asked.length;
    // Same state directory, new lines: the schemas come from {state_dir}/iglu-cache.
    writeFileSync(path.join(tmp.dir, 'more.log'), [nginxLine(4, 404), nginxLine(5, 502)].join('\n') + '\n');
    daemon = await startDaemon(yaml(), tmp.dir);
    await until(() => daemon!.store.deadLetters.counts().reduce((n, c) => n + c.count, 0) >= 2 && collector.accepted >= 3, 15_000, 'second run');
    expect(registry.asked.length).toBe(askedBefore);
    const reasons = daemon.store.deadLetters.list({}).map((l) => l.reason);
    expect(reasons.filter((r) => r.includes(`${SERVER_ERROR}: at /status`))).toHaveLength(2);
  });

  it('delivers unchecked, never stops, when the registry is down and nothing is cached', async () => {
    registry.down = true;
    daemon = await runOnce(yaml());
    await collector.waitFor(() => collector.accepted >= 3, 10_000, 'all 3 events');
    expect(daemon.store.deadLetters.counts()).toEqual([]);
  });

  it('reads a local registry directory', async () => {
    daemon = await runOnce(yaml(`[{ path: ${JSON.stringify(IGLU_FIXTURES)} }]`));
    expect(collector.accepted).toBe(2);
    expect(daemon.store.deadLetters.list({})[0]!.reason).toContain(`${SERVER_ERROR}: at /status`);
    expect(registry.asked).toEqual([]);
  });

  it('refuses to start on a schema no registry has', async () => {
    const config = yaml().replace(SERVER_ERROR, 'iglu:com.example/no_such_event/jsonschema/1-0-0');
    await expect(startDaemon(config, tmp.dir)).rejects.toThrow(/iglu:com\.example\/no_such_event\/jsonschema\/1-0-0 is in none of the registries/);
  });

  it('refuses identify, group and alias rules without a schema for a Snowplow output', () => {
    const config = yaml().replace('type: track\n        event: "Server Error"\n        schema: "' + SERVER_ERROR + '"', 'type: identify');
    expect(() => loadConfigText(config, 'test.yaml', tmp.dir, {})).toThrow(/an identify rule needs `schema` with a Snowplow output/);
  });

  it('tailship validate lists the schemas and where they came from; tailship parse shows the refusal', async () => {
    const cfg = path.join(tmp.dir, 'tailship.yaml');
    writeFileSync(cfg, yaml());
    // Written first, so that the input's glob matches a file and validate has no warning to give.
    const sample = path.join(tmp.dir, 'sample.log');
    writeFileSync(sample, LINES.join('\n') + '\n');
    const v = await runTailship(['validate', '--config', cfg]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`web: ${SERVER_ERROR} from ${registry.url}/schemas/com.example/server_error/jsonschema/1-0-0`);
    expect(v.stdout).toContain(`web: ${REQUEST} from`);

    const p = await runTailship(['parse', '--config', cfg, sample]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`refused by output snowplow: event fails ${SERVER_ERROR}: at /status: must be >= 500`);
    expect(p.stdout.match(/refused by output/g)).toHaveLength(1);
  });
});
