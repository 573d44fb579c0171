/**
 * undici parses HTTP answers with llhttp compiled to WebAssembly. After a few hundred answers V8
 * recompiles llhttp's parser function with TurboFan, a CPU burst and a memory transient that set
 * the daemon's peak RSS (docs/decisions/0021-memory-peaks-undici-s-parser-stays-on.md). Its
 * baseline compiler, Liftoff, parses the collector's short answers just as well. V8 reads these
 * flags when it compiles or tiers up a WebAssembly function, which undici first does at its first
 * connection, so they must be set before it. Node 24 applies a flag's implications only at
 * start-up, so the two that `--liftoff-only` implies are spelled out; NODE_OPTIONS refuses
 * `--liftoff-only`, hence code. Only on x64 and arm64, where Liftoff compiles all of WebAssembly:
 * elsewhere it may hand a function to TurboFan, which this flag turns into a fatal error.
 *
 * Remove when tailship no longer parses HTTP with undici's WebAssembly llhttp, or when V8's
 * tier-up of it no longer raises the peak (test/emit/undici-parts.test.ts shows whether it
 * still tiers up: run it without this file).
 */
import { setFlagsFromString } from 'node:v8';

export const WASM_LIFTOFF_ONLY = process.arch === 'x64' || process.arch === 'arm64';

export function keepWasmOnLiftoff(): void {
  if (WASM_LIFTOFF_ONLY) setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');
}
