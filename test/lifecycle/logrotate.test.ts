/**
 * End to end with Debian's real logrotate, in `create` (rename, writer reopens after postrotate)
 * and `copytruncate` configurations, against a file written at about 3,000 lines/s by a writer
 * in this process, through the real daemon to the loopback collector. logrotate is installed by
 * the test when missing (apt-get, as root); the tests are skipped, saying why, only where it
 * cannot be installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { startTailship, type Child } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { jsonLine, lifecycleConfig, lineId } from './setup.js';

const run = promisify(execFile);

/** Finds logrotate, installing it with apt-get when missing and possible; otherwise says why not. */
function ensureLogrotate(): { bin?: string; why?: string } {
  const find = (): string | undefined => ['/usr/sbin/logrotate', '/sbin/logrotate', '/usr/bin/logrotate'].find((p) => existsSync(p));
  const found = find();
  if (found) return { bin: found };
  if (process.getuid?.() !== 0) return { why: 'logrotate is not installed and the tests do not run as root (apt-get install -y logrotate)' };
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const opts = { env, stdio: 'pipe' as const, timeout: 240_000 };
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], opts);
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends', 'logrotate'], opts);
  } catch (err) {
    return { why: `logrotate could not be installed with apt-get: ${String(err).split('\n')[0]}` };
  }
  const bin = find();
  return bin ? { bin } : { why: 'apt-get installed logrotate but its binary was not found' };
}

const logrotate = ensureLogrotate();
if (!logrotate.bin) console.warn(`SKIPPING logrotate end-to-end tests: ${logrotate.why}`);

const RATE_PER_TICK = 30; // every 10 ms: about 3,000 lines/s
const WRITE_MS = 6_000;
const ROTATIONS = 3;

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir('tailship-logrotate-');
  collector = await new Collector({ writeKey: 'test-write-key' }).start();
});

afterEach(async () => {
  if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
  await child?.exited;
  child = undefined;
  await collector.stop();
  tmp.cleanup();
});

interface Written {
  total: number;
  dir: string;
  log: string;
}

/**
 * Writes numbered lines to `log` at ~3,000 lines/s for WRITE_MS while logrotate runs ROTATIONS
 * times; in `create` mode the writer reopens its file when postrotate leaves a marker, as nginx
 * does on USR1 (lines written in between go to the renamed file).
 */
async function writeAndRotate(mode: 'create' | 'copytruncate', glob: string): Promise<Written> {
  const dir = path.join(tmp.dir, 'logs');
  mkdirSync(dir);
  const log = path.join(dir, 'app.log');
  const marker = path.join(tmp.dir, 'reopen');
  const conf = path.join(tmp.dir, 'logrotate.conf');
  writeFileSync(
    conf,
    `${log} {
  rotate 10
  missingok
  compress
  delaycompress
  ${mode === 'create' ? `create 0644\n  postrotate\n    touch ${marker}\n  endscript` : 'copytruncate'}
}
`,
  );
  writeFileSync(log, '');
  const cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(cfg, lifecycleConfig({ stateDir: path.join(tmp.dir, 'state'), paths: [glob], url: collector.url }));
  child = startTailship(['run', '--config', cfg]);

  let fd = openSync(log, 'a');
  let n = 0;
  const started = Date.now();
  const writer = setInterval(() => {
    if (existsSync(marker)) {
      unlinkSync(marker);
      closeSync(fd);
      fd = openSync(log, 'a');
    }
    let text = '';
    for (let i = 0; i < RATE_PER_TICK; i++) text += jsonLine('app', ++n);
    writeSync(fd, text);
  }, 10);
  try {
    for (let r = 1; r <= ROTATIONS; r++) {
      await new Promise((res) => setTimeout(res, (WRITE_MS / (ROTATIONS + 1)) * r - (Date.now() - started)));
      await run(logrotate.bin!, ['-f', '-s', path.join(tmp.dir, 'logrotate.state'), conf], { timeout: 30_000 });
    }
    await new Promise((res) => setTimeout(res, Math.max(0, WRITE_MS - (Date.now() - started))));
  } finally {
    clearInterval(writer);
  }
  closeSync(fd);
  return { total: n, dir, log };
}

/** Line numbers found on disk now, in the log and every rotation (gunzipped). */
function linesOnDisk(dir: string): Set<number> {
  const nums = new Set<number>();
  for (const name of readdirSync(dir)) {
    const raw = readFileSync(path.join(dir, name));
    const text = name.endsWith('.gz') ? gunzipSync(raw).toString() : raw.toString();
    for (const m of text.matchAll(/"n":(\d+)/g)) nums.add(Number(m[1]));
  }
  return nums;
}

function arrivals(): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const m of collector.messages) {
    const id = lineId(m);
    if (!ids.has(id)) ids.set(id, new Set());
    ids.get(id)!.add(m.messageId);
  }
  return ids;
}

it.skipIf(!logrotate.bin)(
  'logrotate create: every line arrives once per messageId, including those written to the renamed file before the writer reopened',
  async () => {
    // The glob matches the rotations too: app.log.1 must be recognised by identity, app.log.2.gz ignored.
    const w = await writeAndRotate('create', path.join(tmp.dir, 'logs', 'app.log*'));
    await collector.waitFor(() => arrivals().size >= w.total, 60_000, `${w.total} lines`).catch((err: Error) => {
      throw new Error(`${err.message}; got ${arrivals().size} of ${w.total}\n${child!.stderr().slice(-3000)}`);
    });
    const ids = arrivals();
    for (let n = 1; n <= w.total; n++) expect(ids.has(`app/${n}`), `line ${n}`).toBe(true);
    for (const [id, mids] of ids) expect(mids.size, `messageIds of ${id}`).toBe(1);
    expect(readdirSync(w.dir).some((f) => f.endsWith('.gz'))).toBe(true);
    console.log(`logrotate create: ${w.total} lines, ${ROTATIONS} rotations, ${collector.messages.length} arrivals`);
  },
  120_000,
);

it.skipIf(!logrotate.bin)(
  'logrotate copytruncate: every line still on disk arrives (the .1 copy is recognised by content), none under two messageIds',
  async () => {
    // The glob matches the uncompressed copy (delaycompress): lines not read before the truncation
    // are read from it, under the original's key; the .gz copies are ignored.
    const w = await writeAndRotate('copytruncate', path.join(tmp.dir, 'logs', 'app.log*'));
    const onDisk = linesOnDisk(w.dir);
    await collector.waitFor(() => {
      const got = arrivals();
      return [...onDisk].every((n) => got.has(`app/${n}`));
    }, 60_000, `${onDisk.size} lines on disk`).catch((err: Error) => {
      const got = arrivals();
      const missing = [...onDisk].filter((n) => !got.has(`app/${n}`));
      throw new Error(`${err.message}: ${missing.length} missing (${missing.slice(0, 10).join(' ')})\n${child!.stderr().slice(-3000)}`);
    });
    const ids = arrivals();
    const twice = [...ids].filter(([, mids]) => mids.size > 1).map(([id]) => id);
    expect(twice, `lines under two messageIds\n${child!.stderr().slice(-4000)}`).toEqual([]);
    const gone = w.total - onDisk.size; // written between a copy and its truncation: on no disk
    console.log(`logrotate copytruncate: ${w.total} lines, ${ROTATIONS} rotations, ${ids.size} arrived, ${gone} lost between copy and truncate (on no disk)`);
  },
  120_000,
);
