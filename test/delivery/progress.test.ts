/**
 * `run --once` in a real terminal (tmux): the status line counts delivered events, log lines
 * written during the run start at column 0 and are not overwritten, the run ends with a
 * summary line and no bar left behind. Without a terminal: no bar, the summary as a log line.
 * The exit codes: 0 all delivered, 3 some dead letters, 4 no file matched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine } from '../helpers/config.js';
import { assertBuilt, BIN, runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { pipelineYaml } from './harness.js';

/** Finds tmux, installing it with apt-get when missing and possible; otherwise says why not. */
function ensureTmux(): { why?: string } {
  const find = (): boolean => ['/usr/bin/tmux', '/bin/tmux', '/usr/local/bin/tmux'].some((p) => existsSync(p));
  if (find()) return {};
  if (process.getuid?.() !== 0) return { why: 'tmux is not installed and the tests do not run as root (apt-get install -y tmux)' };
  try {
    const opts = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'pipe' as const, timeout: 240_000 };
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], opts);
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends', 'tmux'], opts);
  } catch (err) {
    return { why: `tmux could not be installed with apt-get: ${String(err).split('\n')[0]}` };
  }
  return find() ? {} : { why: 'apt-get installed tmux but its binary was not found' };
}

const tmux = ensureTmux();
if (tmux.why) console.warn(`SKIPPING the terminal tests: ${tmux.why}`);

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let cfg = '';
let refused = 0;
const N = 20_000;
const REFUSE_FIRST = 3;

beforeEach(async () => {
  tmp = tempDir();
  refused = 0;
  // The first requests are refused (503): their warnings are logged while the bar is shown.
  collector = await new Collector({ keep: false, respond: () => (refused++ < REFUSE_FIRST ? { status: 503, body: 'not yet' } : undefined) }).start();
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: N }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(
    cfg,
    pipelineYaml({ dir: tmp.dir, outputs: `      - type: rudderstack\n        url: ${collector.url}\n        write_key: wk\n        batch_size: 500\n        retry: { base: 300ms, cap: 300ms }` }).replace(
      /log_level: \w+/,
      'log_level: info',
    ),
  );
});

afterEach(async () => {
  await collector.stop();
  tmp.cleanup();
});

it('without a terminal: no bar, a summary log line, exit 0 when everything was delivered', async () => {
  const r = await runTailship(['run', '--once', '--config', cfg]);
  expect(r.code).toBe(0);
  expect(collector.seen.size).toBe(N);
  expect(r.stderr).not.toContain('█');
  expect(r.stdout).toBe('');
  const summary = r.stderr.split('\n').filter((l) => l.includes('"msg":"tailship: done in')).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatchObject({ linesRead: N, delivered: N, deadLetters: 0, leftQueued: 0 });
  expect(summary[0]!.msg).toContain(`${N.toLocaleString('en-US')} events delivered`);
});

it('exits 3 when events became dead letters (every request refused with 404)', async () => {
  collector.respond = () => ({ status: 404, body: 'no such route' });
  // Few lines: a refused batch is split in halves down to single events to find the bad ones.
  writeFileSync(path.join(tmp.dir, 'access.log'), Array.from({ length: 20 }, (_, i) => nginxLine(i + 1)).join('\n') + '\n');
  const r = await runTailship(['run', '--once', '--config', cfg]);
  expect(r.code).toBe(3);
  expect(collector.accepted).toBe(0);
  expect(r.stderr).toContain('20 dead letters (see `tailship dead-letter list`)');
});

it('warns about a glob matching no file, and exits 4 when no input matched any', async () => {
  writeFileSync(cfg, pipelineYaml({ dir: path.join(tmp.dir, 'nowhere'), outputs: `      - type: rudderstack\n        url: ${collector.url}\n        write_key: wk` }).replace(/log_level: \w+/, 'log_level: info'));
  const r = await runTailship(['run', '--once', '--config', cfg]);
  expect(r.code).toBe(4);
  expect(r.stderr).toContain('no file matches these paths');
  expect(r.stderr).toContain(path.join(tmp.dir, 'nowhere'));
  expect(r.stderr).toContain('tailship: no file matches the paths of any input: nothing was read (exit code 4)');
});

/** A tmux server of its own, a 150×40 terminal running `command`, then `EXIT=<code>`. */
function terminal(command: string): { screen: () => string; keys: (...k: string[]) => void; close: () => void } {
  const socket = `tailship-test-${process.pid}-${Date.now()}`;
  const t = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  t('new-session', '-d', '-x', '150', '-y', '40', `${command}; echo "EXIT=$?"; sleep 600`);
  return {
    // The whole scrollback plus the screen, as the user would see it now.
    screen: () => t('capture-pane', '-p', '-J', '-S', '-1000'),
    keys: (...k) => void t('send-keys', ...k),
    close: () => {
      try {
        t('kill-server');
      } catch {
        // already gone
      }
    },
  };
}

async function waitForScreen(term: ReturnType<typeof terminal>, pred: (s: string) => boolean, what: string, onPoll?: (s: string) => void): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = term.screen();
    onPoll?.(s);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it.skipIf(!!tmux.why)('in a terminal: a status line of delivered events; logs above it, whole; a summary at the end', async () => {
  assertBuilt();
  const quote = (a: string): string => `'${a}'`;
  const term = terminal(['cd', quote(tmp.dir), '&&', quote(process.execPath), quote(BIN), 'run', '--once', '--config', quote(cfg)].join(' '));
  try {
    const bars: string[] = [];
    const screen = await waitForScreen(term, (s) => /EXIT=\d+/.test(s), 'the run to end', (s) => bars.push(...s.split('\n').filter((l) => l.includes('events delivered |'))));
    expect(screen).toContain('EXIT=0');
    expect(collector.seen.size).toBe(N);
    const lines = screen.split('\n');

    // The bar was shown while the run went on, counting events.
    expect(bars.length).toBeGreaterThan(0);
    for (const b of bars) expect(b).toMatch(/^tailship [█░]{20} \d+% \| [\d,]+ of ~?[\d,]+ events delivered \| read [\d.]+ \w?i?B of [\d.]+ \w?i?B \| [\d,]+ events\/s \| ETA /);
    // It never showed 100% before every event was delivered.
    for (const b of bars.filter((x) => x.includes(' 100% '))) expect(b).toContain(`${N.toLocaleString('en-US')} of ${N.toLocaleString('en-US')} events delivered`);

    // Every log line written during the run starts at column 0 (pino-pretty's "[time]"), none
    // starts mid-bar, and none was overwritten: the refused requests' warnings are there (a
    // retry's own failure is logged at debug, so there is at least one, at most one per request).
    const logLines = lines.filter((l) => /INFO|WARN|ERROR/.test(l));
    expect(logLines.length).toBeGreaterThan(3);
    for (const l of logLines) expect(l).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR)/);
    const warnings = logLines.filter((l) => l.includes('delivery failed (retry)')).length;
    expect(warnings).toBeGreaterThanOrEqual(1);
    expect(warnings).toBeLessThanOrEqual(REFUSE_FIRST);
    // Logged after the bar appeared, so they were written while it was on the screen.
    expect(bars.length).toBeGreaterThan(0);

    // No bar is left on the screen; the summary replaced it.
    expect(lines.filter((l) => /[█░]/.test(l))).toEqual([]);
    const summary = lines.filter((l) => l.startsWith('tailship: done in'));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toContain(`${N.toLocaleString('en-US')} lines read, ${N.toLocaleString('en-US')} events delivered`);
    expect(summary[0]).toContain('no dead letters');
    // The shell's next output starts on a line of its own.
    expect(lines.find((l) => l.includes('EXIT='))).toMatch(/^EXIT=0/);
  } finally {
    term.close();
  }
});

it.skipIf(!!tmux.why)('parse on a terminal says it is waiting for lines on standard input', async () => {
  assertBuilt();
  const quote = (a: string): string => `'${a}'`;
  const term = terminal([quote(process.execPath), quote(BIN), 'parse', '--config', quote(cfg)].join(' '));
  try {
    await waitForScreen(term, (s) => s.includes('reading sample lines from standard input; end with Ctrl-D'), 'the waiting notice');
    term.keys('-l', nginxLine(7));
    term.keys('Enter');
    term.keys('C-d');
    const screen = await waitForScreen(term, (s) => /EXIT=\d+/.test(s), 'parse to end');
    expect(screen).toContain('EXIT=0');
    expect(screen).toContain('"event":"Page Requested"');
  } finally {
    term.close();
  }
});
