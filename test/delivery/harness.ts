/** In-process daemons for the delivery tests: one nginx pipeline, any outputs given as YAML. */
import path from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createLogger } from '../../src/ops/logger.js';
import { scaled } from '../helpers/time.js';

export interface PipelineYaml {
  dir: string;
  /** YAML of the `outputs:` list items, indented by 6 spaces. */
  outputs: string;
  /** YAML of the `events:` rules (indented by 6); default: one track rule per line. */
  rules?: string;
  extraTop?: string;
  pollInterval?: string;
}

export const DEFAULT_RULES = `
      - type: track
        event: "Page Requested"
        userId: "{{ query.uid }}"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}" }
        context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
        timestamp: "{{ time_local }}"`;

export function pipelineYaml(o: PipelineYaml): string {
  return `
state_dir: ${JSON.stringify(path.join(o.dir, 'state'))}
log_level: ${process.env.TAILSHIP_TEST_LOG ?? 'silent'}
shutdown_timeout: 2s
${o.extraTop ?? ''}
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(path.join(o.dir, '*.log'))}]
        start_at: beginning
        poll_interval: ${o.pollInterval ?? '50ms'}
        rescan_interval: 1s
    parser: { type: nginx, format: combined }
    events:${o.rules ?? DEFAULT_RULES}
    outputs:
${o.outputs}
`;
}

export async function startDaemon(yaml: string, dir: string, options: DaemonOptions = {}): Promise<Daemon> {
  const loaded = loadConfigText(yaml, 'test.yaml', dir, {});
  const daemon = await Daemon.create(loaded, createLogger({ level: process.env.TAILSHIP_TEST_LOG ?? 'silent', secrets: loaded.secrets, pretty: false }), options);
  await daemon.start();
  return daemon;
}

/** Polls until `predicate` holds; throws after `timeoutMs` (scaled, helpers/time.ts). */
export async function until(predicate: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  timeoutMs = scaled(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
