/**
 * A full disk, on a real small file system (a tmpfs mounted for the test; skipped with the
 * reason where mounting is impossible). The queue fills the disk while the collector refuses;
 * once it answers, the queue drains (acknowledging works on a full disk thanks to the reserve,
 * src/store/reserve.ts) and reading resumes by itself; every line arrives once. Also: a rename
 * rotation on a full disk does not stop the daemon, the held commit is retried on its own delay
 * (not at every rescan), and start-up on a full disk is one clear line and exit code 1.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { fillDisk, mountSmallFs, type SmallFs } from '../helpers/small-fs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/time.js';
import { storeConnection } from '../helpers/store-connection.js';
import { Store, type QueueChunk } from '../../src/store/store.js';

const MIB = 1024 * 1024;
const probe = mountSmallFs(MIB);
const skip = 'skip' in probe ? probe.skip : undefined;
if (!('skip' in probe)) probe.cleanup();
if (skip) console.warn(`disk-full tests skipped: ${skip}`);

interface LogLine {
  msg: string;
  level: number;
  code?: string;
  err?: { type?: string };
}

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function small(bytes: number): SmallFs {
  const fs = mountSmallFs(bytes) as SmallFs;
  cleanups.push(fs.cleanup);
  return fs;
}

/** Lines that compress poorly, so that a few tens of thousands fill a few MiB. */
const line = (n: number): string => nginxLine(n).replace('/items/', `/items/${randomBytes(40).toString('hex')}/`);
const lines = (from: number, count: number): string => Array.from({ length: count }, (_, i) => line(from + i)).join('\n') + '\n';

async function startDaemon(stateDir: string, logDir: string, collector: Collector, logs: LogLine[], level = 'info'): Promise<Daemon> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const yaml = `
state_dir: ${JSON.stringify(stateDir)}
shutdown_timeout: 2s
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(path.join(logDir, '*.log'))}], start_at: beginning, poll_interval: 50ms, rescan_interval: 100ms }]
    parser: { type: nginx, format: combined }
    events:
      - type: track
        event: "Page Requested"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: wk, batch_size: 500, flush_interval: 50ms, retry: { base: 20ms, cap: 200ms } }
`;
  const daemon = await Daemon.create(loadConfigText(yaml, 'test.yaml', logDir, {}), pino({ level }, sink));
  cleanups.push(() => daemon.stop());
  await daemon.start();
  return daemon;
}

async function refusingCollector(): Promise<{ collector: Collector; accept: () => void }> {
  let refuse = true;
  const collector = await new Collector({ keep: false, respond: () => (refuse ? { status: 503 } : undefined) }).start();
  cleanups.push(() => collector.stop());
  return { collector, accept: () => (refuse = false) };
}

function logDir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe.skipIf(skip !== undefined)('on a full disk (16 MiB tmpfs)', () => {
  it('drains the queue that filled the disk once the collector answers, and reading resumes by itself', async () => {
    const fs = small(16 * MIB);
    // Most of the disk is taken by something else: a few MiB of queue fill the rest.
    writeFileSync(path.join(fs.dir, 'other-data'), Buffer.alloc(10 * MIB, 1));
    const dir = logDir();
    const N = 80_000;
    writeFileSync(path.join(dir, 'access.log'), lines(1, N));
    const { collector, accept } = await refusingCollector();
    const logs: LogLine[] = [];
    const daemon = await startDaemon(path.join(fs.dir, 'state'), dir, collector, logs);
    // queue.max_bytes (1 GiB by default) cannot hold before this disk does: said at start.
    expect(logs.some((l) => l.msg.startsWith("queue.max_bytes is more than the state directory's disk can hold"))).toBe(true);
    await waitUntil(() => logs.some((l) => l.msg.includes('state store full')), 60_000, 'the disk to fill');
    expect(logs.find((l) => l.msg.includes('state store full'))).toMatchObject({ code: 'SQLITE_FULL', level: 50 });
    expect(collector.seen.size).toBe(0);

    accept();
    await collector.waitFor(() => collector.seen.size >= N, 60_000, 'every line after the collector answers');
    expect([...collector.seen.values()].every((n) => n === 1)).toBe(true);
    expect(logs.some((l) => l.msg.includes('reading resumed'))).toBe(true);
    expect(daemon.store.deadLetters.counts()).toEqual([]);
    expect(daemon.failure).toBeUndefined();
  });

  it('takes the reserve back after the last acknowledgement, even one that lands just after a try', async () => {
    const fs = small(16 * MIB);
    const store = new Store(path.join(fs.dir, 'state'));
    cleanups.push(() => store.close());
    let restored = 0;
    store.onRoomRestored(() => restored++);
    // Rows that do not compress, a few MiB of them.
    const chunk = (n: number): QueueChunk => {
      const payload = randomBytes(48 * 1024).toString('base64');
      return { output: 'out', fileKey: 'k', startOffset: n, endOffset: n + 1, eventCount: 1, bytes: payload.length + 1, payload };
    };
    for (let n = 0; n < 40; n++) store.commit({ pipeline: 'p', chunks: [chunk(n)], deadLetters: [] });
    const rows = store.queue.next('p', 'out', 0, 100);
    expect(rows).toHaveLength(40);
    // An empty WAL on a full disk: the acknowledgement needs room.
    storeConnection(store).pragma('wal_checkpoint(TRUNCATE)');
    const filler = fillDisk(fs.dir);
    // The first acknowledgement spends the reserve; the disk is still too full to take it back.
    store.ack('p', 'out', rows.slice(0, 1));
    expect(store.hasRoom).toBe(false);
    // Room comes back, and the last acknowledgement lands within the window after that try:
    // no write follows it, yet the reserve must come back by itself. (On a machine slow enough to
    // leave the window first, this acknowledgement takes the reserve back itself.)
    unlinkSync(filler);
    store.ack('p', 'out', rows.slice(1));
    await waitUntil(() => restored === 1, 5_000, 'the reserve to be taken back');
    expect(store.hasRoom).toBe(true);
  });

  it('survives a rename rotation on a full disk and retries the held commit on its delay, not at each rescan', async () => {
    const fs = small(16 * MIB);
    const dir = logDir();
    const file = path.join(dir, 'access.log');
    writeFileSync(file, lines(1, 100));
    const { collector, accept } = await refusingCollector();
    const logs: LogLine[] = [];
    const daemon = await startDaemon(path.join(fs.dir, 'state'), dir, collector, logs, 'debug');
    await waitUntil(() => (daemon.store.queue.depthByOutput()[0]?.events ?? 0) >= 100, 10_000, 'the first lines queued');
    // An empty WAL on a full disk: the next write of any kind needs room.
    storeConnection(daemon.store).pragma('wal_checkpoint(TRUNCATE)');
    const filler = fillDisk(fs.dir);
    // Rotation while full: the new file's state is decided now and waits with the held commit.
    renameSync(file, path.join(dir, 'access.log.1'));
    writeFileSync(file, lines(101, 2000));
    await waitUntil(() => logs.some((l) => l.msg.includes('state store full')), 20_000, 'the store-full line');
    const firstFull = logs.findIndex((l) => l.msg.includes('state store full'));
    // New files found by each rescan (every 100 ms) used to wake the held commit each time.
    for (let i = 0; i < 5; i++) {
      writeFileSync(path.join(dir, `extra-${i}.log`), lines(10_000 + i * 10, 10));
      await new Promise((r) => setTimeout(r, 500));
    }
    // Retries after 1 s, then 2 s: at most 3 attempts in these 2.5 s, not one per rescan.
    const attempts = logs.slice(firstFull).filter((l) => l.msg.includes('state store full')).length;
    expect(attempts).toBeLessThanOrEqual(3);
    expect(daemon.failure).toBeUndefined();

    accept();
    unlinkSync(filler);
    const total = 100 + 2000 + 50;
    await collector.waitFor(() => collector.seen.size >= total, 60_000, 'every line after room comes back');
    expect([...collector.seen.values()].every((n) => n === 1)).toBe(true);
    expect(daemon.failure).toBeUndefined();
  });

  it('refuses to start on a full disk with one clear line and exit code 1', async () => {
    const fs = small(MIB);
    fillDisk(fs.dir);
    const dir = logDir();
    const config = path.join(dir, 'tailship.yaml');
    writeFileSync(config, `
state_dir: ${JSON.stringify(path.join(fs.dir, 'state'))}
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(path.join(dir, '*.log'))}] }]
    parser: { type: nginx, format: combined }
    events: [{ type: track, event: "x", anonymousId: "{{ remote_addr }}" }]
    output: { type: stdout }
`);
    const r = await runTailship(['run', '--config', config]);
    expect(r.code).toBe(1);
    const out = r.stderr.trim().split('\n');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^tailship: state directory .*: no room left on its file system \(ENOSPC\); free some space and start tailship again \[TAILSHIP_STORE_FULL\]$/);
  });
});
