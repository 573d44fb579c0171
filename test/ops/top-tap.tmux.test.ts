/**
 * `tailship top` and `tailship tap` in a real terminal (tmux) against a daemon under load: top
 * shows both files and the output with figures that change from one screen to the next, sorts
 * on a key and quits on `q`; tap shows events under the lines they came from and stops on
 * Ctrl-C. The screens are saved under test-artifacts/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyDaemon, type BusyDaemon } from '../helpers/busy-daemon.js';
import { BIN, ROOT, runTailship } from '../helpers/daemon.js';
import { ensureDebianPackage } from '../helpers/debian.js';

const tmux = ensureDebianPackage('tmux', '/usr/bin/tmux');
if (!tmux.bin) console.warn(`SKIPPING tailship top/tap terminal tests: ${tmux.why}`);
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
// A server of its own, so the test never touches a user's tmux sessions.
const SOCKET = `tailship-test-${process.pid}`;

function tm(...args: string[]): string {
  return execFileSync(tmux.bin!, ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

function screen(session: string): string {
  return tm('capture-pane', '-p', '-t', session);
}

function sessionAlive(session: string): boolean {
  try {
    tm('has-session', '-t', session);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, pred: () => boolean, session: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${sessionAlive(session) ? screen(session) : '(session ended)'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SENT figure of the output's row in a top screen. */
function sent(text: string): number | undefined {
  const row = text.split('\n').find((l) => l.trimStart().startsWith('web/rudderstack'));
  const cells = row?.trim().split(/\s+/);
  return cells ? Number(cells[2]!.replace(/,/g, '')) : undefined;
}

describe.skipIf(!tmux.bin)('tailship top and tap in a terminal', () => {
  let daemon: BusyDaemon;

  beforeAll(async () => {
    daemon = await startBusyDaemon();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    try {
      tm('kill-server');
    } catch {
      // no session left
    }
    await daemon?.stop();
  });

  it('top shows the files and the output with changing figures, sorts on a key, quits on q', async () => {
    const s = 'top';
    tm('new-session', '-d', '-s', s, '-x', '150', '-y', '40', `${process.execPath} ${BIN} top --url ${daemon.base}`);
    await waitFor('both files and the output on screen', () => {
      const t = screen(s);
      return daemon.files.every((f) => t.includes(f)) && sent(t) !== undefined && sent(t)! > 0;
    }, s);
    const first = screen(s);
    expect(first).toMatch(/^tailship \S+ +up \S+ +CPU [\d.]+% +RSS [\d.]+ MiB/m);
    expect(first).toMatch(/tailing/);
    expect(first).toContain('sort: lag');
    await waitFor('the figures to change', () => {
      const n = sent(screen(s));
      return n !== undefined && n > sent(first)!;
    }, s);
    const later = screen(s);
    // The screen is redrawn in place: one header, not one per refresh.
    expect(later.match(/^tailship /gm)).toHaveLength(1);
    writeFileSync(path.join(ARTIFACTS, 'top.txt'), later);
    tm('send-keys', '-t', s, 'r');
    await waitFor('sort by rate', () => screen(s).includes('sort: rate'), s);
    tm('send-keys', '-t', s, 'q');
    await waitFor('top to quit', () => !sessionAlive(s), s);
  });

  it('top prints plain snapshots when stdout is not a terminal', async () => {
    const r = await runTailship(['top', '--url', daemon.base, '--iterations', '2', '--interval', '200ms']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^tailship /gm)).toHaveLength(2);
    for (const f of daemon.files) expect(r.stdout).toContain(f);
    expect(r.stdout).toContain('web/rudderstack');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('keys:');
  });

  it('tap shows events under their lines, filtered by type, and stops on Ctrl-C', async () => {
    const s = 'tap';
    tm('new-session', '-d', '-s', s, '-x', '200', '-y', '40', `${process.execPath} ${BIN} tap --url ${daemon.base} --type track --rate 5`);
    await waitFor('three tapped events', () => (screen(s).match(/^ {2}> /gm) ?? []).length >= 3, s);
    const t = screen(s);
    writeFileSync(path.join(ARTIFACTS, 'tap.txt'), t);
    expect(t).toMatch(/^\d\d:\d\d:\d\d\.\d{3} web rule \d track {2}\S+-access\.log:\d+$/m);
    expect(t).toMatch(/^ {2}< \S+ - - \[/m);
    expect(t).toMatch(/^ {2}> \{"type":"track"/m);
    expect(t).not.toMatch(/"type":"(page|identify)"/);
    tm('send-keys', '-t', s, 'C-c');
    await waitFor('tap to stop', () => !sessionAlive(s), s);
  });
});
