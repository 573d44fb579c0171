/** docs/configuration.md is generated from the schema; this fails when the committed file is stale. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { configSchema } from '../../src/config/schema.js';
import { ROOT } from '../helpers/daemon.js';

it('docs/configuration.md matches the schema (regenerate with `npm run docs:config`)', () => {
  const committed = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const fresh = renderConfigDocs();
  expect(committed === fresh, 'docs/configuration.md is stale: run `npm run docs:config` and commit it').toBe(true);
});

it('documents every top-level key and every server option', () => {
  const doc = renderConfigDocs();
  for (const key of Object.keys(configSchema.shape)) expect(doc).toContain(`\`${key}\``);
  for (const key of ['listen', 'max_file_labels', 'unready_after_failures', 'unready_after']) expect(doc).toContain(`| \`${key}\` |`);
});
