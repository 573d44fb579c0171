/** File output: NDJSON, size-based rotation with a bounded number of kept files, nothing lost. */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml, startDaemon, until } from '../delivery/harness.js';

let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon | undefined;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  tmp.cleanup();
});

function fileYaml(maxFiles: number): string {
  return pipelineYaml({
    dir: tmp.dir,
    outputs: `
      - type: file
        path: out/events.ndjson
        max_file_bytes: 8KiB
        max_files: ${maxFiles}
        batch_size: 10
        flush_interval: 50ms`,
  });
}

const outFiles = (): string[] => readdirSync(path.join(tmp.dir, 'out')).sort();
const linesWritten = (): number => outFiles().reduce((n, f) => n + readFileSync(path.join(tmp.dir, 'out', f), 'utf8').split('\n').length - 1, 0);
const emitter = () => daemon!.emitters[0]!;

it('appends NDJSON and rotates by size without losing or repeating an event', async () => {
  const N = 150;
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(tmp.dir, 'out'));
  daemon = await startDaemon(fileYaml(100), tmp.dir);
  await until(() => daemon!.store.queue.depthByOutput().length === 0 && linesWritten() >= N, 15_000, 'all written');

  const files = outFiles();
  expect(files.length).toBeGreaterThan(5);
  const paths: string[] = [];
  // Oldest first: .k … .1, then the live file.
  const ordered = files.filter((f) => f !== 'events.ndjson').sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()));
  for (const f of [...ordered, 'events.ndjson']) {
    const full = path.join(tmp.dir, 'out', f);
    expect(statSync(full).size).toBeLessThanOrEqual(8 * 1024);
    const text = readFileSync(full, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) {
      const e = JSON.parse(line) as { type: string; messageId: string; properties: { path: string } };
      expect(e.type).toBe('track');
      paths.push(e.properties.path);
    }
  }
  expect(paths).toEqual(Array.from({ length: N }, (_, i) => `/items/${i + 1}`));
});

it('keeps at most max_files rotated files', async () => {
  const N = 150;
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(tmp.dir, 'out'));
  daemon = await startDaemon(fileYaml(2), tmp.dir);
  await until(() => daemon!.store.queue.depthByOutput().length === 0 && outFiles().length === 3 && emitter().idle(), 15_000, 'all written');
  expect(outFiles()).toEqual(['events.ndjson', 'events.ndjson.1', 'events.ndjson.2']);
  expect(existsSync(path.join(tmp.dir, 'out', 'events.ndjson.3'))).toBe(false);
  const last = readFileSync(path.join(tmp.dir, 'out', 'events.ndjson'), 'utf8').trimEnd().split('\n').pop()!;
  expect((JSON.parse(last) as { properties: { path: string } }).properties.path).toBe(`/items/${N}`);
});

it('retries (keeps the rows) while the directory does not exist, then writes', async () => {
  writeFileSync(path.join(tmp.dir, 'access.log'), [1, 2, 3].map((n) => nginxLine(n)).join('\n') + '\n');
  daemon = await startDaemon(fileYaml(5), tmp.dir);
  await until(() => emitter().consecutiveFailures > 1, 10_000, 'failed writes');
  expect(emitter().lastError).toContain('ENOENT');
  expect(daemon.store.queue.depthByOutput()[0]!.events).toBe(3);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(tmp.dir, 'out'));
  await until(() => daemon!.store.queue.depthByOutput().length === 0, 15_000, 'queue drained');
  expect(readFileSync(path.join(tmp.dir, 'out', 'events.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(3);
});
