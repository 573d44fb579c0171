/** The environment-only mode for containers: the whole config in TAILSHIP_CONFIG, with ${VAR} interpolation. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector({ writeKey: 'env-key-123' }).start();
});

afterEach(async () => {
  await collector.stop();
  tmp.cleanup();
});

function envConfig(): string {
  return testConfig({ stateDir: '${STATE_DIR}', logGlob: '${LOG_DIR}/*.log', url: '${RUDDER_URL}', writeKey: '${RUDDER_WRITE_KEY}' });
}

it('validates and runs from TAILSHIP_CONFIG alone, reading ${VAR}s from the environment', async () => {
  writeFileSync(path.join(tmp.dir, 'access.log'), [1, 2].map((n) => nginxLine(n)).join('\n') + '\n');
  const env = {
    TAILSHIP_CONFIG: envConfig(),
    STATE_DIR: path.join(tmp.dir, 'state'),
    LOG_DIR: tmp.dir,
    RUDDER_URL: collector.url,
    RUDDER_WRITE_KEY: 'env-key-123',
  };
  const v = await runTailship(['validate'], env);
  expect(v.stderr).toBe('');
  expect(v.stdout).toBe('<TAILSHIP_CONFIG>: OK (1 pipeline: web)\n');
  expect(v.code).toBe(0);

  const r = await runTailship(['run', '--once'], env);
  expect(r.code).toBe(0);
  expect(collector.accepted).toBe(2);
  expect(collector.requests[0]!.headers.authorization).toBe('Basic ' + Buffer.from('env-key-123:').toString('base64'));
});

it('names the missing variable, and fails without a config at all', async () => {
  const missing = await runTailship(['validate'], { TAILSHIP_CONFIG: envConfig(), STATE_DIR: tmp.dir, LOG_DIR: tmp.dir, RUDDER_URL: collector.url });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^tailship: <TAILSHIP_CONFIG>:\d+:\d+: environment variable \$RUDDER_WRITE_KEY is not set.*\[TAILSHIP_CONFIG_ENV_MISSING\]\n$/);

  const none = await runTailship(['validate'], { TAILSHIP_CONFIG: '' });
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('[TAILSHIP_CONFIG_NOT_FOUND]');
});
