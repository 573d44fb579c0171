/** Runs a tailship command (the compiled CLI) to completion, for `status` and `dead-letter` in the chaos scenarios. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './harness.js';

export async function runTailship(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/tailship.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  return { code, stdout: out, stderr: err };
}
