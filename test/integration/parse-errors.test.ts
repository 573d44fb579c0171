/** on_parse_error: a line that does not parse never stops the pipeline; each policy is counted. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { Collector } from '../helpers/collector.js';
import { counters } from '../helpers/observer-counters.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let daemon: Daemon | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'k' }).start();
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await collector.stop();
  tmp.cleanup();
});

async function run(policy: 'dead_letter' | 'drop' | 'raw'): Promise<Daemon> {
  const log = path.join(tmp.dir, 'app.log');
  writeFileSync(log, '{"user":"u1","n":1}\n{broken json\n{"user":"u2","n":2}\n');
  const text = `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
log_level: silent
pipelines:
  - name: app
    inputs: [{ paths: [${JSON.stringify(log)}], start_at: beginning, poll_interval: 50ms }]
    parser: { type: json }
    on_parse_error: ${policy}
    raw_field: raw
    events:
      - when: "has(raw)"
        type: track
        event: "Unparsed Line"
        anonymousId: "tailship"
        properties: { line: "{{ raw }}" }
      - type: track
        event: "Line"
        anonymousId: "{{ user }}"
        properties: { n: "{{ n }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: k, flush_interval: 50ms }
`;
  const loaded = loadConfigText(text, 'test.yaml', tmp.dir, {});
  daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: [], pretty: false }));
  await daemon.start();
  return daemon;
}

describe('on_parse_error', () => {
  it('dead_letter (default): the line is kept with the reason; the others are delivered', async () => {
    const d = await run('dead_letter');
    await collector.waitFor(() => collector.accepted >= 2, 10_000);
    const letters = d.store.deadLetters.list({});
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'parse', payload: '{broken json', offset: 20 });
    expect(letters[0]!.reason.length).toBeGreaterThan(5);
    expect(collector.messages.map((m) => m.event)).toEqual(['Line', 'Line']);
  });

  it('drop: the line is counted and gone', async () => {
    const d = await run('drop');
    await collector.waitFor(() => collector.accepted >= 2, 10_000);
    expect(d.store.deadLetters.counts()).toEqual([]);
    expect(counters(d.observer).get('lines_parsed_error')).toBe(1);
  });

  it('raw: the raw line is mapped under raw_field', async () => {
    const d = await run('raw');
    await collector.waitFor(() => collector.accepted >= 3, 10_000);
    expect(collector.messages.find((m) => m.event === 'Unparsed Line')).toMatchObject({ properties: { line: '{broken json' } });
    expect(counters(d.observer).get('lines_parsed_raw')).toBe(1);
  });
});
