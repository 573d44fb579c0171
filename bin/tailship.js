#!/usr/bin/env node
// The package's command: runs the compiled CLI (built by `npm install` / `npm ci` via `prepare`).
import { main } from '../dist/src/cli.js';

main();
