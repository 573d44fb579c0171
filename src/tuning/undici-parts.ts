/**
 * undici's parts, loaded from their own files, for the HTTP code (src/emit/undici.ts). undici's
 * package entry loads all of it (fetch, WebSocket, EventSource, cache stores, mocks,
 * interceptors), which costs the main thread heap and peak RSS for nothing tailship uses
 * (docs/decisions/0020-undici-s-parts-not-its-package-entry.md). The package has no `exports`
 * map, so these files are reachable; the lockfile pins the version, and
 * test/emit/undici-parts.test.ts fails if an upgrade moves them. Like the entry, this puts the
 * request API (`request`, `connect`, ...; ProxyAgent calls `connect` itself) on undici's
 * Dispatcher prototype.
 *
 * Remove when undici's entry no longer loads what tailship does not use, or when undici offers
 * these classes through an entry of their own.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import { setUndiciClasses, type UndiciClasses } from '../emit/undici.js';

const load = createRequire(import.meta.url);

export function undiciParts(): UndiciClasses {
  const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
  Object.assign(Dispatcher.prototype, load('undici/lib/api/index.js'));
  return {
    Agent: load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent,
    ProxyAgent: load('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent,
    EnvHttpProxyAgent: load('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof Undici.EnvHttpProxyAgent,
  };
}

export function useUndiciParts(): void {
  setUndiciClasses(undiciParts());
}
