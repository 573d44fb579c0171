/**
 * A crash in the middle of a multiline event neither loses nor splits it: the committed offset
 * stays before a group that is still open, so the restarted daemon reads the whole group again.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { startTailship, type Child } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'k' }).start();
});
afterEach(async () => {
  if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
  await child?.exited;
  await collector.stop();
  tmp.cleanup();
});

it('keeps a Java stack trace whole across a SIGKILL in its middle', async () => {
  const log = path.join(tmp.dir, 'app.log');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(
    cfg,
    `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
log_level: silent
pipelines:
  - name: app
    inputs: [{ paths: [${JSON.stringify(log)}], start_at: beginning, poll_interval: 50ms }]
    multiline: { preset: java, timeout: 2s }
    parser: { type: regex, pattern: '^(?<ts>\\S+ \\S+) (?<level>[A-Z]+) (?<msg>[\\s\\S]*)$' }
    events:
      - type: track
        event: "Log"
        anonymousId: "app"
        properties: { level: "{{ level }}", msg: "{{ msg }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: k, flush_interval: 50ms }
`,
  );
  writeFileSync(log, '2025-03-12 14:05:31 INFO started\n2025-03-12 14:05:32 ERROR request failed\njava.lang.IllegalStateException: boom\n\tat com.example.A.run(A.java:10)\n');
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.accepted >= 1, 10_000, 'the first event');
  // The stack trace is still open (its group may go on for 2 s): kill now, finish it, restart.
  await new Promise((r) => setTimeout(r, 300));
  child.proc.kill('SIGKILL');
  await child.exited;
  appendFileSync(log, '\tat com.example.B.call(B.java:20)\n2025-03-12 14:05:33 INFO recovered\n');
  child = startTailship(['run', '--config', cfg]);
  await collector.waitFor(() => collector.messages.some((m) => JSON.stringify(m).includes('recovered')), 10_000, 'the last event');
  child.proc.kill('SIGTERM');
  await child.exited;

  const msgs = collector.messages.map((m) => (m.properties as { msg: string }).msg);
  const traces = msgs.filter((m) => m.startsWith('request failed'));
  expect(traces.length).toBeGreaterThanOrEqual(1);
  for (const t of traces) expect(t).toBe('request failed\njava.lang.IllegalStateException: boom\n\tat com.example.A.run(A.java:10)\n\tat com.example.B.call(B.java:20)');
  expect(new Set(collector.messages.filter((m) => (m.properties as { msg: string }).msg.startsWith('request failed')).map((m) => m.messageId)).size).toBe(1);
  expect(msgs.filter((m) => m === 'started')).toHaveLength(1);
  expect(msgs).toContain('recovered');
});
