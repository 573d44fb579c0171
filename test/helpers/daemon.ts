/**
 * Runs the real CLI (`bin/tailship.js`, the compiled build) as a child process, for tests that
 * kill it with signals. `npm test` builds before running the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, expect } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/tailship.js');

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
}

export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Every child still running, killed with its process group (its own processes included) after
 * the test that started it, whatever the test did; one started by a beforeAll (a daemon the
 * file's tests share) after the file's last test; and any left when the test process exits
 * (a timeout, an interrupted run): no daemon outlives its test or its file.
 */
const live = new Set<ChildProcess>();
const startedInTest = new WeakSet<ChildProcess>();

function killGroup(proc: ChildProcess): void {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
}

async function killAndWait(procs: ChildProcess[]): Promise<void> {
  procs.forEach(killGroup);
  await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
}

process.on('exit', () => live.forEach(killGroup));
afterEach(() => killAndWait([...live].filter((p) => startedInTest.has(p))));
afterAll(() => killAndWait([...live]));

/** Spawns the CLI in its own process group, tracked for killing. */
function spawnTailship(args: string[], env: Record<string, string>): ChildProcess {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(proc);
  if (expect.getState().currentTestName !== undefined) startedInTest.add(proc);
  proc.on('exit', () => live.delete(proc));
  return proc;
}

export function startTailship(args: string[], env: Record<string, string> = {}): Child {
  assertBuilt();
  const proc = spawnTailship(args, env);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stderr: () => err, exited };
}

/** Runs the CLI to completion and returns its output. */
export async function runTailship(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  const proc = spawnTailship(args, env);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  return { code, stdout: out, stderr: err };
}

/** After a test: SIGKILL the child (and its process group) if it still runs, and wait for it to exit. */
export async function killIfRunning(child: Child | undefined): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  killGroup(child.proc);
  await child.exited;
}
