/**
 * The parts of undici tailship uses, loaded from their own files. undici's package entry loads
 * all of it (fetch, WebSocket, EventSource, cache stores, mocks, interceptors): ~8 MB more heap on
 * the main thread, and more peak RSS (docs/decisions/0020-undici-s-parts-not-its-package-entry.md). The package has no `exports` map, so these files are reachable; the
 * lockfile pins the version, and test/emit/undici-parts.test.ts fails if an upgrade moves them.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type * as Undici from 'undici';

// undici parses HTTP answers with llhttp compiled to WebAssembly. After a few hundred answers V8
// recompiles llhttp's parser function with TurboFan: ~130 ms of CPU and a ~30 MB transient,
// which set the daemon's peak RSS (docs/decisions/0021-memory-peaks-undici-s-parser-stays-on.md). Its baseline
// compiler, Liftoff, parses the collector's short answers just as well. V8 reads these flags
// when it compiles or tiers up a WebAssembly function, which undici first does at its first
// connection. Node 24 applies a flag's implications only at start-up, so the two that
// `--liftoff-only` implies are spelled out; NODE_OPTIONS refuses `--liftoff-only`. Only on x64
// and arm64, where Liftoff compiles all of WebAssembly: elsewhere it may bail out to TurboFan,
// which this flag turns into a fatal error.
export const WASM_LIFTOFF_ONLY = process.arch === 'x64' || process.arch === 'arm64';
if (WASM_LIFTOFF_ONLY) setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');

const load = createRequire(import.meta.url);

const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
// What the package entry does: the request API (`dispatcher.request(...)`) on every dispatcher.
Object.assign(Dispatcher.prototype, load('undici/lib/api/index.js'));

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const ProxyAgent = load('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
export const EnvHttpProxyAgent = load('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof Undici.EnvHttpProxyAgent;
export type { Dispatcher } from 'undici';
