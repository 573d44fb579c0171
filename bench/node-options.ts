/**
 * The start-up settings tailship runs with where it is deployed: the `NODE_OPTIONS` and
 * `MALLOC_*` environment of deploy/systemd/tailship.service (the container image sets the same;
 * test/ops/deploy.test.ts checks that they agree). The benchmarks and the chaos suite start the
 * daemon with them, as operators run it; `TAILSHIP_BENCH_NODE_OPTIONS=default` starts it with
 * node's and glibc's defaults instead, and the `node-options` section compares the two.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/systemd/tailship.service');

/** The unit's start-up environment: NODE_OPTIONS and glibc's MALLOC_* settings. */
export function deployedEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(UNIT, 'utf8').matchAll(/^Environment="?((?:NODE_OPTIONS|MALLOC_[A-Z_]+)=[^"\n]*)"?$/gm)) {
    const [name, ...value] = m[1]!.split('=');
    env[name!] = value.join('=').trim();
  }
  if (env.NODE_OPTIONS === undefined) throw new Error(`${UNIT} sets no NODE_OPTIONS`);
  return env;
}

/** The unit's start-up environment as one line, for reports: `NODE_OPTIONS="..." MALLOC_...=...`. */
export function deployedSettings(): string {
  return Object.entries(deployedEnvironment())
    .map(([name, value]) => (/\s/.test(value) ? `${name}="${value}"` : `${name}=${value}`))
    .join(' ');
}

/** How a benchmark's daemon is started: as deployed, or with node's defaults. */
export type NodeOptionsMode = 'deployed' | 'default';

export function nodeOptionsMode(): NodeOptionsMode {
  return process.env.TAILSHIP_BENCH_NODE_OPTIONS === 'default' ? 'default' : 'deployed';
}

/** The environment for a daemon child: this one's, with the start-up settings set for `mode`. */
export function daemonEnv(extra: Record<string, string> = {}, mode = nodeOptionsMode()): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const deployed = deployedEnvironment();
  for (const name of Object.keys(deployed)) {
    if (mode === 'deployed') env[name] = deployed[name];
    else delete env[name];
  }
  return env;
}
