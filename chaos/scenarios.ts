/**
 * The chaos scenarios. Each runs the real daemon against the chaos collector, makes trouble,
 * then waits until every line still on disk has arrived (or a deadline passes) and returns its
 * figures: lines written, delivered, missing, duplicates, messageId conflicts, abnormal exits,
 * peak RSS.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ChaosCollector } from './collector.js';
import { config, DaemonProcess, figures, jsonPipeline, LineWriter, sleep, waitUntil, Workspace, type Figures } from './harness.js';

const run = promisify(execFile);

export interface ChaosOptions {
  short: boolean;
  /** Seconds the outage scenario keeps the collector down. */
  outageSeconds: number;
}

/** How long a scenario waits for the last lines after the trouble stops. */
const DRAIN_MS = 180_000;

async function withSetup<T>(fn: (ws: Workspace, c: ChaosCollector, daemons: DaemonProcess[]) => Promise<T>): Promise<T> {
  const ws = new Workspace();
  const c = await new ChaosCollector().start();
  const daemons: DaemonProcess[] = [];
  try {
    return await fn(ws, c, daemons);
  } finally {
    for (const d of daemons) await d.close();
    await c.stop();
    ws.cleanup();
  }
}

/** `app.log` (with its rotated copies when `rotated`), its line writer, and a config that ships it to the collector. */
function appLog(ws: Workspace, c: ChaosCollector, pipeline: string, rotated: boolean): { log: string; w: LineWriter; cfg: string } {
  const log = ws.file('app.log');
  const w = new LineWriter(log, 'app');
  const cfg = ws.file('tailship.yaml');
  writeFileSync(cfg, config(ws.file('state'), jsonPipeline(pipeline, [rotated ? `${log}*` : log], c.url)));
  return { log, w, cfg };
}

/** A daemon on `cfg`, started, and closed with the scenario's setup. */
function startDaemon(daemons: DaemonProcess[], cfg: string): DaemonProcess {
  const d = new DaemonProcess(cfg);
  daemons.push(d);
  d.start();
  return d;
}

/** Waits until every line 1..w.n of the writer has arrived; returns how many are missing. */
async function drain(c: ChaosCollector, w: LineWriter, ms = DRAIN_MS): Promise<number> {
  await waitUntil(() => c.missing(w.id, w.n).length === 0, ms, 500);
  return c.missing(w.id, w.n).length;
}

/** SIGKILLs at random moments under load, with rename rotations between them. */
export function kills(o: ChaosOptions): Promise<Figures> {
  const total = o.short ? 8 : 100;
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const { log, w, cfg } = appLog(ws, c, 'kills', true);
    w.write(1);
    const d = startDaemon(daemons, cfg);
    let done = false;
    const writing = w.run(o.short ? 2000 : 3500, () => done);
    for (let k = 1; k <= total; k++) {
      await sleep(300 + Math.random() * 2200);
      if (Math.random() < 0.3) w.rotate();
      await d.stop('SIGKILL');
      d.start();
    }
    done = true;
    await writing;
    const missing = await drain(c, w);
    await d.stop('SIGTERM');
    const f = figures('100 SIGKILLs under load with rename rotations', started, c, w.n, missing, daemons);
    f.scenario = `${total} SIGKILLs under load with rename rotations`;
    f.notes.push(`${total} kills, ${w.rotations} rename rotations`);
    return f;
  });
}

/** Finds logrotate, installing it with apt-get when missing (as root), as the lifecycle tests do. */
function ensureLogrotate(): string {
  const find = (): string | undefined => ['/usr/sbin/logrotate', '/sbin/logrotate', '/usr/bin/logrotate'].find((p) => existsSync(p));
  const found = find();
  if (found) return found;
  const opts = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'pipe' as const, timeout: 240_000 };
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], opts);
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends', 'logrotate'], opts);
  const bin = find();
  if (!bin) throw new Error('apt-get installed logrotate but its binary was not found');
  return bin;
}

/** Line numbers of `id` on disk in `dir` now (rotations gunzipped). */
function linesOnDisk(dir: string, id: string): Set<number> {
  const nums = new Set<number>();
  const re = new RegExp(`"id":"${id}/(\\d+)"`, 'g');
  for (const name of readdirSync(dir)) {
    const raw = readFileSync(path.join(dir, name));
    const text = name.endsWith('.gz') ? gunzipSync(raw).toString() : raw.toString();
    for (const m of text.matchAll(re)) nums.add(Number(m[1]));
  }
  return nums;
}

/** copytruncate rotations with Debian's logrotate while the file is written. */
export function copytruncate(o: ChaosOptions): Promise<Figures> {
  const rotations = o.short ? 3 : 20;
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const bin = ensureLogrotate();
    const dir = ws.file('logs');
    mkdirSync(dir);
    const log = path.join(dir, 'app.log');
    const conf = ws.file('logrotate.conf');
    writeFileSync(conf, `${log} {\n  rotate 50\n  missingok\n  compress\n  delaycompress\n  copytruncate\n}\n`);
    const w = new LineWriter(log, 'app');
    w.write(1);
    const cfg = ws.file('tailship.yaml');
    writeFileSync(cfg, config(ws.file('state'), jsonPipeline('copytruncate', [`${log}*`], c.url)));
    const d = new DaemonProcess(cfg);
    daemons.push(d);
    d.start();
    let done = false;
    const writing = w.run(3000, () => done);
    for (let r = 0; r < rotations; r++) {
      await sleep(1500 + Math.random() * 1500);
      await run(bin, ['-f', '-s', ws.file('logrotate.state'), conf], { timeout: 60_000 });
    }
    done = true;
    await writing;
    const onDisk = linesOnDisk(dir, 'app');
    await waitUntil(() => c.missing('app', w.n, onDisk).length === 0, DRAIN_MS, 500);
    const missing = c.missing('app', w.n, onDisk).length;
    await d.stop('SIGTERM');
    const f = figures(`copytruncate rotations with logrotate (${rotations})`, started, c, w.n, missing, daemons);
    f.notes.push(`${w.n - onDisk.size} lines written between logrotate's copy and its truncation are on no disk (logrotate's own window), not counted missing`);
    return f;
  });
}

/** The state directory on a 16 MiB tmpfs, filled while the collector refuses; then the collector comes back. */
export function diskFull(o: ChaosOptions): Promise<Figures> {
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const state = ws.file('state');
    mkdirSync(state);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', state], { stdio: 'pipe' });
    } catch (err) {
      const f = figures('state directory on a full 16 MiB tmpfs', started, c, 0, 0, daemons);
      f.failures.push(`could not mount a tmpfs (needs root): ${String(err).split('\n')[0]}`);
      return f;
    }
    try {
      const log = ws.file('app.log');
      const w = new LineWriter(log, 'app');
      const cfg = ws.file('tailship.yaml');
      writeFileSync(cfg, config(state, jsonPipeline('diskfull', [log], c.url)));
      c.down = true;
      const d = new DaemonProcess(cfg);
      daemons.push(d);
      d.start();
      // Writes until the daemon stops reading (the store is full): its log says so.
      let done = false;
      const writing = w.run(o.short ? 8000 : 10000, () => done || w.n >= 2_000_000);
      const full = await waitUntil(() => /state store full|state store cannot write|SQLITE_FULL|disk full/i.test(d.stderrTail), o.short ? 120_000 : 300_000, 500);
      await sleep(3000);
      done = true;
      await writing;
      c.down = false;
      const missing = await drain(c, w, o.short ? 120_000 : DRAIN_MS);
      const running = d.running;
      await d.stop('SIGTERM');
      const f = figures('state directory on a full 16 MiB tmpfs, collector refusing, then back', started, c, w.n, missing, daemons);
      if (!full) f.failures.push('the store never reported itself full');
      if (!running) f.failures.push(`the daemon exited: ${d.exits.join(', ')}; ${d.stderrTail.slice(-500)}`);
      return f;
    } finally {
      for (const d of daemons) await d.close();
      execFileSync('umount', ['-l', state], { stdio: 'pipe' });
    }
  });
}

/** The collector down for `outageSeconds` while lines are written; then back. */
export function outage(o: ChaosOptions): Promise<Figures> {
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const { log, w, cfg } = appLog(ws, c, 'outage', false);
    const d = startDaemon(daemons, cfg);
    c.down = true;
    const until = Date.now() + o.outageSeconds * 1000;
    await w.run(o.short ? 2000 : 1700, () => Date.now() >= until);
    c.down = false;
    const missing = await drain(c, w, Math.max(DRAIN_MS, o.outageSeconds * 1000));
    await d.stop('SIGTERM');
    const f = figures(`a ${o.outageSeconds}-second outage`, started, c, w.n, missing, daemons);
    f.notes.push(`${w.n} lines queued while the collector answered 503`);
    return f;
  });
}

/** SIGSTOP / SIGCONT of the daemon while lines are written and rotated. */
export function stopCont(o: ChaosOptions): Promise<Figures> {
  const cycles = o.short ? 3 : 15;
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const { log, w, cfg } = appLog(ws, c, 'stopcont', true);
    w.write(1);
    const d = startDaemon(daemons, cfg);
    let done = false;
    const writing = w.run(2500, () => done);
    for (let i = 0; i < cycles; i++) {
      await sleep(500 + Math.random() * 1500);
      d.signal('SIGSTOP');
      await sleep(1000 + Math.random() * (o.short ? 1000 : 4000));
      if (i % 3 === 0) w.rotate();
      d.signal('SIGCONT');
    }
    done = true;
    await writing;
    const missing = await drain(c, w);
    await d.stop('SIGTERM');
    const f = figures('SIGSTOP / SIGCONT', started, c, w.n, missing, daemons);
    f.notes.push(`${cycles} stops of 1–${o.short ? 2 : 5} s, ${w.rotations} rename rotations while stopped`);
    return f;
  });
}

/** Two daemons on one state directory: the second is refused while the first runs, and takes over after it dies. */
export function twoDaemons(o: ChaosOptions): Promise<Figures> {
  return withSetup(async (ws, c, daemons) => {
    const started = Date.now();
    const { log, w, cfg } = appLog(ws, c, 'two', false);
    const a = new DaemonProcess(cfg);
    const b = new DaemonProcess(cfg);
    daemons.push(a, b);
    a.start();
    let done = false;
    const writing = w.run(2000, () => done);
    const notes: string[] = [];
    const failures: string[] = [];
    for (let round = 0; round < (o.short ? 2 : 6); round++) {
      await sleep(1500);
      // The second daemon must refuse to start (the store's lock), with a clear message and a non-zero exit.
      const second = new DaemonProcess(cfg);
      second.start();
      const exited = await waitUntil(() => !second.running, 20_000, 100);
      const code = second.proc!.exitCode;
      if (!exited || code === 0 || code === null) failures.push(`round ${round}: the second daemon was not refused (exit ${String(code)})`);
      else if (!/lock|already|another/i.test(second.stderrTail)) failures.push(`round ${round}: refused without saying why: ${second.stderrTail.slice(-300)}`);
      else if (round === 0) notes.push(`second daemon refused: ${second.stderrTail.trim().split('\n').pop()!.slice(0, 200)}`);
      await second.close();
      // The running one dies; the other takes over the same state.
      const [dying, next] = round % 2 === 0 ? [a, b] : [b, a];
      await dying.stop('SIGKILL');
      next.start();
    }
    done = true;
    await writing;
    const missing = await drain(c, w);
    for (const d of daemons) await d.stop('SIGTERM');
    const f = figures('two daemons on one state directory', started, c, w.n, missing, daemons);
    f.notes.push(...notes);
    f.failures.push(...failures);
    return f;
  });
}
