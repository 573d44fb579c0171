/** docs/operations.md lists every tailship_ metric the daemon exports, and no metric that does not exist. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { Observer } from '../../src/ops/observer.js';
import { ROOT } from '../helpers/daemon.js';

it('documents each metric', async () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
  const observer = new Observer(createLogger({ level: 'silent', secrets: [], pretty: false }));
  const exported = (await observer.metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('tailship_'));
  expect(exported.length).toBeGreaterThan(20);
  const documented = [...doc.matchAll(/^\| `(tailship_\w+)` \|/gm)].map((m) => m[1]);
  expect([...documented].sort()).toEqual([...exported].sort());
});
