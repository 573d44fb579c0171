/**
 * Start-up benchmark: time from spawning `tailship run` to its first read of a log file, with an
 * empty queue and with a large backlog already queued (the emitter drains it while reading
 * starts; neither waits for the other). The first read is seen on the daemon's /metrics
 * (tailship_input_lines_total > 0), polled every 2 ms; the first delivery on the collector.
 * Run alone: `node dist/bench/startup.js [backlogEvents] [runs]`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from '../src/store/queue.js';
import { openDatabase } from '../src/store/sqlite.js';
import { Store, STORE_FILE } from '../src/store/store.js';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { generateLog } from './gen.js';
import { daemonEnv } from './node-options.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, '../../bin/tailship.js');
const EVENTS_PER_ROW = 25;

interface StartupRun {
  backlogEvents: number;
  firstReadMs: number;
  firstDeliveryMs: number;
  /** Backlog events the collector had received when the first read was seen. */
  deliveredAtFirstRead: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Fills the queue of pipeline web / output rudderstack with `events` ready-to-send events. */
function queueBacklog(stateDir: string, events: number): void {
  new Store(stateDir).close(); // creates the store and its schema
  // Its queue on a connection of our own, to insert the backlog in large transactions.
  const db = openDatabase(path.join(stateDir, STORE_FILE), {});
  const queue = new Queue(db);
  try {
    const event = (i: number): string =>
      JSON.stringify({ type: 'track', event: 'Backlog', messageId: `backlog-${i}`, anonymousId: `a${i % 977}`, properties: { path: `/items/${i}`, status: 200 } });
    let i = 0;
    const commit = db.transaction(() => {
      for (let r = 0; r < 1000 && i < events; r++) {
        const batch: string[] = [];
        for (let k = 0; k < EVENTS_PER_ROW && i < events; k++) batch.push(event(i++));
        const payload = batch.join('\n');
        queue.insert('web', { output: 'rudderstack', fileKey: 'backlog', startOffset: 0, endOffset: 0, eventCount: batch.length, bytes: payload.length, payload }, Date.now());
      }
    });
    while (i < events) commit();
  } finally {
    db.close();
  }
}

async function once(backlogEvents: number, logFile: string): Promise<StartupRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tailship-startup-'));
  const collector = await new CountingCollector({ writeKey: WRITE_KEY }).start();
  try {
    const stateDir = path.join(dir, 'state');
    if (backlogEvents > 0) queueBacklog(stateDir, backlogEvents);
    const port = await freePort();
    const cfg = path.join(dir, 'tailship.yaml');
    writeFileSync(
      cfg,
      `state_dir: ${JSON.stringify(stateDir)}
log_level: warn
shutdown_timeout: 1s
server: { listen: "127.0.0.1:${port}" }
queue: { max_rows: 1000000 }
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(logFile)}], start_at: beginning }]
    parser: { type: nginx, format: combined }
    events:
      - type: track
        event: "Page Requested"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}" }
    output: { type: rudderstack, url: ${collector.url}, write_key: ${WRITE_KEY}, batch_size: 500, concurrency: 4 }
`,
    );
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: daemonEnv() });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    let firstReadMs = NaN;
    let deliveredAtFirstRead = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const m = /^tailship_input_lines_total\{pipeline="web"\} (\d+)/m.exec(text);
        if (m && Number(m[1]) > 0) {
          firstReadMs = performance.now() - t0;
          deliveredAtFirstRead = collector.messages;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await collector.waitFor(1, 30_000);
    const firstDeliveryMs = collector.firstAt - t0;
    child.kill('SIGTERM');
    await exited;
    return { backlogEvents, firstReadMs, firstDeliveryMs, deliveredAtFirstRead };
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchStartup(backlogEvents = 500_000, runs = 3): Promise<{ title: string; markdown: string }> {
  const log = generateLog(10_000);
  try {
    const rows: string[] = [];
    for (const backlog of [0, backlogEvents]) {
      const results: StartupRun[] = [];
      for (let i = 0; i < runs; i++) results.push(await once(backlog, log.file));
      rows.push(
        `| ${backlog.toLocaleString('en-US')} | ${median(results.map((r) => r.firstReadMs)).toFixed(0)} | ${median(results.map((r) => r.firstDeliveryMs)).toFixed(0)} | ${median(results.map((r) => r.deliveredAtFirstRead)).toLocaleString('en-US')} |`,
      );
    }
    return {
      title: `Start-up: spawn → first read, median of ${runs}`,
      markdown: [
        `Node ${process.version}, ${os.cpus().length} cores. The backlog is queued in the store before the start (${EVENTS_PER_ROW} events per row); the collector accepts everything. "Delivered at first read" counts events the collector already had when the first read was seen.`,
        '',
        '| queued backlog (events) | spawn → first read (ms) | spawn → first delivery (ms) | delivered at first read |',
        '|---:|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    };
  } finally {
    rmSync(log.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchStartup(Number(process.argv[2] ?? 500_000), Number(process.argv[3] ?? 3));
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
