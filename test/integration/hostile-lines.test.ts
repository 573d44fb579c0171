/**
 * Hostile lines never stop a pipeline: a JSON line nested 10,000 deep, a 100 MiB line and a
 * line of 1,000,000 keys (and a record of 20,000 fields, within max_line_bytes) each become a
 * counted parse dead letter with its reason, while the lines around them are delivered once
 * each; the daemon keeps running, and lines read = queued + dead letters, in `tailship status`
 * and in /metrics. On the worker threads and with `workers: 0`.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ops/status.js';
import { Collector } from '../helpers/collector.js';
import { type Child, killIfRunning, runTailship, startTailship } from '../helpers/daemon.js';
import { freePort } from '../helpers/port.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'k' }).start();
});
afterEach(async () => {
  await killIfRunning(child);
  child = undefined;
  await collector.stop();
  tmp.cleanup();
});

const normal = (n: number): string => JSON.stringify({ user: `u${n}`, n });

/** Writes the file: 50 normal lines, then each hostile line followed by 50 more normal lines. */
async function writeHostileFile(file: string): Promise<number> {
  const out = createWriteStream(file);
  const write = (s: string): Promise<void> => new Promise((resolve, reject) => out.write(s, (err) => (err ? reject(err) : resolve())));
  let n = 0;
  const fifty = async (): Promise<void> => {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(normal(++n));
    await write(lines.join('\n') + '\n');
  };
  await fifty();
  await write('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n');
  await fifty();
  const mib = 'x'.repeat(1 << 20);
  await write('{"big":"');
  for (let i = 0; i < 100; i++) await write(mib);
  await write('"}\n');
  await fifty();
  const keys: string[] = [];
  for (let i = 0; i < 1_000_000; i++) keys.push(`"k${i}":${i}`);
  await write(`{${keys.join(',')}}\n`);
  await fifty();
  const fields: string[] = [];
  for (let i = 0; i < 20_000; i++) fields.push(`"f${i}":1`);
  await write(`{${fields.join(',')}}\n`);
  await fifty();
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return n;
}

describe.each([{ workers: 'auto' }, { workers: 0 }])('hostile lines (workers: $workers)', ({ workers }) => {
  it('each becomes a counted dead letter; the lines around them are delivered; accounting closes', async () => {
    const log = path.join(tmp.dir, 'app.log');
    const cfg = path.join(tmp.dir, 'tailship.yaml');
    const port = await freePort();
    const normals = await writeHostileFile(log);
    writeFileSync(
      cfg,
      `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
log_level: warn
server: { listen: "127.0.0.1:${port}" }
pipelines:
  - name: app
    workers: ${workers}
    inputs: [{ paths: [${JSON.stringify(log)}], start_at: beginning, poll_interval: 50ms }]
    parser: { type: json }
    events:
      - type: track
        event: "Line"
        anonymousId: "{{ user }}"
        properties: { n: "{{ n }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: k, flush_interval: 50ms }
`,
    );
    child = startTailship(['run', '--config', cfg]);
    await collector.waitFor(() => collector.accepted >= normals, 120_000, `${normals} normal lines`);
    expect(child.proc.exitCode).toBeNull();
    expect(collector.seen.size).toBe(normals);
    expect([...collector.seen.values()].every((c) => c === 1)).toBe(true);
    expect(new Set(collector.messages.map((m) => (m['properties'] as { n: number }).n)).size).toBe(normals);

    const list = await runTailship(['dead-letter', 'list', '--config', cfg, '--json']);
    expect(list.code).toBe(0);
    const letters = JSON.parse(list.stdout) as Array<{ kind: string; reason: string; offset: number }>;
    expect(letters.map((l) => l.kind)).toEqual(['parse', 'parse', 'parse', 'parse']);
    expect(letters[0]!.reason).toContain('nested deeper than 64 levels');
    expect(letters[1]!.reason).toMatch(/line of 10485\d{4} bytes is longer than max_line_bytes/);
    expect(letters[2]!.reason).toContain('longer than max_line_bytes');
    expect(letters[3]!.reason).toContain('more than 10000 fields');

    const status = await runTailship(['status', '--config', cfg, '--json']);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(report.accounting).toEqual([
      expect.objectContaining({ pipeline: 'app', path: log, read: normals + 4, gap: 0, outcomes: expect.objectContaining({ queued: normals, dead_letter_parse: 4 }) }),
    ]);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (re: RegExp): number => Number(re.exec(metrics)?.[1]);
    expect(value(/^tailship_file_lines_read_total\{pipeline="app",file="[^"]+"\} (\d+)$/m)).toBe(normals + 4);
    expect(value(/^tailship_line_outcomes_total\{pipeline="app",file="[^"]+",outcome="dead_letter_parse"\} (\d+)$/m)).toBe(4);
    expect(value(/^tailship_line_accounting_gap\{pipeline="app"\} (-?\d+)$/m)).toBe(0);
    expect(child.proc.exitCode).toBeNull();
  });
});
