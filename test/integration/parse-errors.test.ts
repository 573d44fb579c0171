/** on_parse_error: a line that does not parse never stops the pipeline; each policy is counted. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { counters } from '../helpers/observer-counters.js';
import { useTestBed } from '../helpers/test-bed.js';

const bed = useTestBed({ writeKey: 'k' });

async function run(policy: 'dead_letter' | 'drop' | 'raw'): Promise<Daemon> {
  const log = path.join(bed.tmp.dir, 'app.log');
  writeFileSync(log, '{"user":"u1","n":1}\n{broken json\n{"user":"u2","n":2}\n');
  const text = `state_dir: ${JSON.stringify(path.join(bed.tmp.dir, 'state'))}
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
    output: { type: rudderstack, url: ${bed.collector.url}, write_key: k, flush_interval: 50ms }
`;
  const loaded = loadConfigText(text, 'test.yaml', bed.tmp.dir, {});
  bed.daemon = await Daemon.create(loaded, createLogger({ level: 'silent', secrets: [], pretty: false }));
  await bed.daemon.start();
  return bed.daemon;
}

describe('on_parse_error', () => {
  it('dead_letter (default): the line is kept with the reason; the others are delivered', async () => {
    const d = await run('dead_letter');
    await bed.collector.waitFor(() => bed.collector.accepted >= 2, 10_000);
    const letters = d.store.deadLetters.list({});
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ kind: 'parse', payload: '{broken json', offset: 20 });
    expect(letters[0]!.reason.length).toBeGreaterThan(5);
    expect(bed.collector.messages.map((m) => m.event)).toEqual(['Line', 'Line']);
  });

  it('drop: the line is counted and gone', async () => {
    const d = await run('drop');
    await bed.collector.waitFor(() => bed.collector.accepted >= 2, 10_000);
    expect(d.store.deadLetters.counts()).toEqual([]);
    expect(counters(d.observer).get('lines_parsed_error')).toBe(1);
  });

  it('raw: the raw line is mapped under raw_field', async () => {
    const d = await run('raw');
    await bed.collector.waitFor(() => bed.collector.accepted >= 3, 10_000);
    expect(bed.collector.messages.find((m) => m.event === 'Unparsed Line')).toMatchObject({ properties: { line: '{broken json' } });
    expect(counters(d.observer).get('lines_parsed_raw')).toBe(1);
  });
});
