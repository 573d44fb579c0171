/**
 * The node flags tailship runs with where it is deployed: the `NODE_OPTIONS` of
 * deploy/systemd/tailship.service (the container image sets the same; test/ops/deploy.test.ts
 * checks that they agree). The benchmarks start the daemon with them, as operators run it;
 * `TAILSHIP_BENCH_NODE_OPTIONS=default` starts it with node's defaults instead, and the
 * `node-options` section compares the two.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/systemd/tailship.service');

/** The unit's NODE_OPTIONS (`Environment="NODE_OPTIONS=..."`). */
export function deployedNodeOptions(): string {
  const m = /^Environment="?NODE_OPTIONS=([^"\n]*)"?$/m.exec(readFileSync(UNIT, 'utf8'));
  if (!m) throw new Error(`${UNIT} sets no NODE_OPTIONS`);
  return m[1]!.trim();
}

/** How a benchmark's daemon is started: as deployed, or with node's defaults. */
export type NodeOptionsMode = 'deployed' | 'default';

export function nodeOptionsMode(): NodeOptionsMode {
  return process.env.TAILSHIP_BENCH_NODE_OPTIONS === 'default' ? 'default' : 'deployed';
}

/** The environment for a daemon child: this one's, with NODE_OPTIONS set for `mode`. */
export function daemonEnv(extra: Record<string, string> = {}, mode = nodeOptionsMode()): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (mode === 'deployed') env.NODE_OPTIONS = deployedNodeOptions();
  else delete env.NODE_OPTIONS;
  return env;
}
