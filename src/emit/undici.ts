/**
 * The undici classes the HTTP code uses (http.ts). By default they come from undici's package
 * entry, loaded at the first dispatcher; process tuning puts the same classes, loaded from their
 * own files, in their place (src/tuning/undici-parts.ts).
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

export interface UndiciClasses {
  readonly Agent: typeof Undici.Agent;
  readonly ProxyAgent: typeof Undici.ProxyAgent;
  readonly EnvHttpProxyAgent: typeof Undici.EnvHttpProxyAgent;
}

let classes: UndiciClasses | undefined;

export function setUndiciClasses(c: UndiciClasses): void {
  classes = c;
}

export function undiciClasses(): UndiciClasses {
  return (classes ??= createRequire(import.meta.url)('undici') as UndiciClasses);
}

export type { Dispatcher } from 'undici';
