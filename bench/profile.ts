/**
 * CPU profile of one end-to-end run (`node --cpu-prof` on the daemon, which writes one profile
 * per thread) summarised per thread as the functions with the most self time, grouped by
 * function and file, so a reader sees where the main thread and each processing worker spend
 * their time. Run alone: `node dist/bench/profile.js [lines] [top]`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runE2e, ROOT } from './e2e.js';
import { generateLog } from './gen.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Self time per function (summed over the nodes of the same function and place). */
export function summarise(profile: CpuProfile, top = 25): { totalMs: number; hot: HotFunction[] } {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byNode.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!n) continue;
    total += dt;
    const url = n.callFrame.url.replace(pathToFileURL(ROOT).href + '/', '').replace(/^file:\/\//, '');
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '(native)';
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const e = self.get(key) ?? { name, where, us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const hot = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / total }));
  return { totalMs: total / 1000, hot };
}

export function formatHot(s: { totalMs: number; hot: HotFunction[] }, thread = 'Main thread'): string {
  return [
    `${thread}: ${(s.totalMs / 1000).toFixed(1)} s sampled.`,
    '',
    '| self % | self ms | function | where |',
    '|---:|---:|---|---|',
    ...s.hot.map((h) => `| ${(h.share * 100).toFixed(1)} | ${h.selfMs.toFixed(0)} | ${h.name} | ${h.where} |`),
  ].join('\n');
}

export async function benchProfile(lines = 1_000_000, top = 25): Promise<{ title: string; markdown: string }> {
  const log = generateLog(lines);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tailship-prof-'));
  try {
    const r = await runE2e(log, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ f, thread: Number(f.split('.').at(-3)) }))
      .sort((a, b) => a.thread - b.thread);
    if (files.length === 0) throw new Error('no .cpuprofile written');
    const tables = files.map(({ f, thread }) =>
      formatHot(summarise(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile, top), thread === 0 ? 'Main thread' : `Thread ${thread} (processing worker)`),
    );
    return {
      title: `CPU profile of one end-to-end run (${lines.toLocaleString('en-US')} lines, ${r.linesPerSec.toLocaleString('en-US')} lines/s under the profiler)`,
      markdown: tables.join('\n\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(log.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchProfile(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 25));
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
