/**
 * SIGHUP reload of a real daemon (child process): a pipeline is added, one changed (restarted),
 * later one removed, and an invalid config is refused while the daemon keeps running. Lines
 * written while the reloads happen all arrive; offsets and queue rows survive the restarts.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { type Child, killIfRunning, startTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'reload-key' }).start();
});

afterEach(async () => {
  await killIfRunning(child);
  child = undefined;
  await collector.stop();
  tmp.cleanup();
});

function webPipeline(batchSize: number): string {
  return `
  - name: web
    inputs: [{ paths: [${JSON.stringify(path.join(tmp.dir, 'web.log'))}], start_at: beginning, poll_interval: 20ms }]
    parser: { type: nginx, format: combined }
    events:
      - type: track
        event: "Page Requested"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: reload-key, batch_size: ${batchSize}, flush_interval: 50ms, retry: { base: 20ms, cap: 200ms } }`;
}

function apiPipeline(): string {
  return `
  - name: api
    inputs: [{ paths: [${JSON.stringify(path.join(tmp.dir, 'api.log'))}], start_at: beginning, poll_interval: 20ms }]
    parser: { type: json }
    events:
      - type: track
        event: "Api Call"
        anonymousId: "{{ user }}"
        properties: { n: "{{ n }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: reload-key, batch_size: 20, flush_interval: 50ms, retry: { base: 20ms, cap: 200ms } }`;
}

function config(pipelines: string[]): string {
  return `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}\nlog_level: info\nshutdown_timeout: 2s\npipelines:${pipelines.join('')}\n`;
}

const webPaths = (): Set<string> =>
  new Set(collector.messages.filter((m) => m.event === 'Page Requested').map((m) => (m.properties as { path: string }).path));
const apiNs = (): Set<number> => new Set(collector.messages.filter((m) => m.event === 'Api Call').map((m) => Number((m.properties as { n: unknown }).n)));

/** Log lines of the child (pino JSON on stderr) with the given message. */
const logged = (msg: string): Array<Record<string, unknown>> =>
  child!
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

async function until(what: string, pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${child?.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('SIGHUP adds, restarts and removes pipelines without losing a line; an invalid config is refused', async () => {
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  const web = path.join(tmp.dir, 'web.log');
  const api = path.join(tmp.dir, 'api.log');
  writeFileSync(web, '');
  writeFileSync(api, '');
  writeFileSync(cfg, config([webPipeline(100)]));
  child = startTailship(['run', '--config', cfg]);
  await until('start', () => logged('tailship started').length === 1);

  let n = 0;
  const writeWeb = (count: number): void => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(nginxLine(++n));
    appendFileSync(web, lines.join('\n') + '\n');
  };
  // Writes keep going while each reload happens.
  const writeWhile = async (during: () => Promise<void>): Promise<void> => {
    let done = false;
    const writer = (async () => {
      for (let i = 0; i < 500 && !done; i++) {
        writeWeb(7);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await during();
    } finally {
      done = true;
      await writer;
    }
  };

  // 1. web changes (batch size) and api is added.
  await writeWhile(async () => {
    writeFileSync(cfg, config([webPipeline(30), apiPipeline()]));
    child!.proc.kill('SIGHUP');
    await until('reload 1', () => logged('config reloaded').length === 1);
  });
  expect(logged('config reloaded')[0]).toMatchObject({ added: ['api'], restarted: ['web'], removed: [] });
  appendFileSync(api, [1, 2, 3].map((i) => JSON.stringify({ user: `u${i}`, n: i })).join('\n') + '\n');

  // 2. An invalid config is refused and changes nothing.
  await writeWhile(async () => {
    writeFileSync(cfg, config([webPipeline(30), apiPipeline()]).replace('type: nginx', 'type: no-such-parser'));
    child!.proc.kill('SIGHUP');
    await until('refusal', () => logged('config reload refused: the running config stays').length === 1);
  });
  expect(String(logged('config reload refused: the running config stays')[0]!.err)).toContain('TAILSHIP_PARSER_UNKNOWN');
  expect(child.proc.exitCode).toBeNull();

  const written = n;
  if (process.env.TAILSHIP_TEST_VERBOSE) console.log(`web lines written across the reloads: ${written}`);
  await until(`all ${written} web lines`, () => webPaths().size === written);
  await until('3 api lines', () => apiNs().size === 3);

  // 3. web is removed: api keeps running.
  writeFileSync(cfg, config([apiPipeline()]));
  child.proc.kill('SIGHUP');
  await until('reload 3', () => logged('config reloaded').length === 2);
  expect(logged('config reloaded')[1]).toMatchObject({ added: [], restarted: [], removed: ['web'], unchanged: ['api'] });
  appendFileSync(api, JSON.stringify({ user: 'u4', n: 4 }) + '\n');
  await until('api line 4', () => apiNs().has(4));

  child.proc.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
  for (let i = 1; i <= written; i++) expect(webPaths().has(`/items/${i}`)).toBe(true);
  expect(webPaths().size).toBe(written);
});
