#!/usr/bin/env node
// The package's command: runs the compiled CLI. The packed package ships dist/; a checkout
// builds it with `npm ci` (its `prepare` compiles when TypeScript is installed) or `npm run build`.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'tailship: dist/src/cli.js is missing: this checkout is not built. Run `npm ci && npm run build`\n' +
      '(the build needs the dev dependencies), or install the packed package: `npm pack` then\n' +
      '`npm install -g ./tailship-<version>.tgz`.\n',
  );
  process.exit(1);
}
// `run` first starts its processing threads, so that they load their modules while this thread
// loads its own (src/pipeline/worker-spawn.ts).
if (process.argv[2] === 'run') (await import('../dist/src/pipeline/worker-spawn.js')).prestartWorkers();
const { main } = await import(cli.href);

main();
