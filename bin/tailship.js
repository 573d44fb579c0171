#!/usr/bin/env node
// The package's command: runs the compiled CLI (built by `npm install` / `npm ci` via `prepare`).
// `run` first starts its processing threads, so that they load their modules while this thread
// loads its own (src/pipeline/worker-spawn.ts).
if (process.argv[2] === 'run') (await import('../dist/src/pipeline/worker-spawn.js')).prestartWorkers();
const { main } = await import('../dist/src/cli.js');

main();
