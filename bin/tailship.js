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
// `run` wants settings that can only be given when node starts: small young-generation
// semi-spaces on the main thread and no V8 helper threads (docs/decisions/0026-no-prestarted-workers-the-backlog-s-last.md),
// and glibc's malloc handing large blocks back to the system when they are freed
// (docs/decisions/0035-malloc-and-young-generations-sized-for-hostile-input.md). Where node can
// replace its own process image (process.execve: Node 22.15+, 23.11+), a `run` started without
// them restarts itself with them, keeping its pid, stdio and environment. On older node they come
// from the environment, as the systemd unit and the container image set them.
const RUN_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=0'];
const RUN_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };
if (process.argv[2] === 'run' && typeof process.execve === 'function') {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = RUN_FLAGS.filter((flag) => !given.some((g) => g.startsWith(flag.split('=')[0])));
  const unset = Object.entries(RUN_ENV).filter(([name]) => !process.env[name]);
  if (missing.length > 0 || unset.length > 0) {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...Object.fromEntries(unset) });
  }
}
// Process-wide workarounds (V8 flags, undici's parts, SQLite on Node 24), before anything loads
// what they change: src/tuning/index.ts.
const { applyProcessTuning } = await import(new URL('../dist/src/tuning/index.js', import.meta.url).href);
applyProcessTuning();
const { main } = await import(cli.href);

main();
