/**
 * Process tuning (src/tuning/undici-parts.ts, wasm-liftoff.ts) gives the HTTP code undici's parts
 * from their files instead of the package entry, and keeps undici's HTTP parser on Liftoff. These
 * tests fail if an upgrade moves those files, if the request API is no longer put on the
 * dispatchers, if the entry gets loaded anyway with the tuning applied, or if V8 recompiles
 * undici's HTTP parser with TurboFan.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as undici from 'undici';
import { expect, it } from 'vitest';
import { undiciParts } from '../../src/tuning/undici-parts.js';
import { WASM_LIFTOFF_ONLY } from '../../src/tuning/wasm-liftoff.js';
import { ROOT } from '../helpers/daemon.js';

it('the parts are the classes the package exports', () => {
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = undiciParts();
  expect(Agent).toBe(undici.Agent);
  expect(ProxyAgent).toBe(undici.ProxyAgent);
  expect(EnvHttpProxyAgent).toBe(undici.EnvHttpProxyAgent);
});

const NO_PROXY_ENV = { ...process.env, HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '' };

/** Posts once through the daemon's HTTP code in a process of its own, with or without the process tuning. */
function postOnce(tuned: boolean): { status: number; body: unknown; loaded: string[] } {
  // In a process of its own: this file imports the entry, which would put the request API on the
  // dispatchers whatever the tuning does.
  const script = `
    import { createServer } from 'node:http';
    import { createRequire } from 'node:module';
    ${tuned ? `(await import(${JSON.stringify(path.join(ROOT, 'dist/src/tuning/index.js'))})).applyProcessTuning();` : ''}
    const { makeDispatcher, post } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/emit/http.js'))});
    const server = createServer((req, res) => {
      let n = 0;
      req.on('data', (d) => (n += d.length));
      req.on('end', () => res.end(JSON.stringify({ path: req.url, method: req.method, bytes: n })));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dispatcher = makeDispatcher({ timeoutMs: 5000, concurrency: 1 });
    const answer = await post(dispatcher, 'http://127.0.0.1:' + server.address().port + '/v1/batch?x=1', 'hello', { 'content-type': 'text/plain' }, 5000, AbortSignal.timeout(5000));
    await dispatcher.close();
    server.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/undici/'));
    console.log(JSON.stringify({ status: answer.status, body: JSON.parse(answer.text), loaded }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: NO_PROXY_ENV });
  return JSON.parse(out.trim().split('\n').pop()!) as { status: number; body: unknown; loaded: string[] };
}

const isEntry = (f: string): boolean => f.endsWith('/undici/index.js') || f.includes('/undici/lib/web/');

it("the daemon's HTTP code posts without undici's package entry, which it never loads", () => {
  const { status, body, loaded } = postOnce(true);
  expect(status).toBe(200);
  expect(body).toEqual({ path: '/v1/batch?x=1', method: 'POST', bytes: 5 });
  expect(loaded.some((f) => f.endsWith('/undici/lib/dispatcher/agent.js'))).toBe(true);
  expect(loaded.filter(isEntry)).toEqual([]);
});

it('without the process tuning the same code posts through the package entry', () => {
  const { status, body, loaded } = postOnce(false);
  expect(status).toBe(200);
  expect(body).toEqual({ path: '/v1/batch?x=1', method: 'POST', bytes: 5 });
  expect(loaded.filter(isEntry)).not.toEqual([]);
});

it.runIf(WASM_LIFTOFF_ONLY)("undici's WebAssembly HTTP parser stays on Liftoff: V8 never tiers it up to TurboFan", () => {
  // Without the flags process tuning sets (src/tuning/wasm-liftoff.ts), V8 recompiles llhttp's
  // parser function with TurboFan within the first hundred answers, a transient that set the daemon's peak RSS.
  // --trace-wasm-compilation-times prints one line per compiled function, with its compiler.
  const script = `
    import { createServer } from 'node:http';
    (await import(${JSON.stringify(path.join(ROOT, 'dist/src/tuning/index.js'))})).applyProcessTuning();
    const { makeDispatcher, post } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/emit/http.js'))});
    const server = createServer((req, res) => { req.resume(); req.on('end', () => res.end('{"ok":true}')); });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dispatcher = makeDispatcher({ timeoutMs: 5000, concurrency: 1 });
    const url = 'http://127.0.0.1:' + server.address().port + '/v1/batch';
    for (let i = 0; i < 300; i++) await post(dispatcher, url, 'x'.repeat(1000), { 'content-type': 'text/plain' }, 5000, AbortSignal.timeout(5000));
    await dispatcher.close();
    server.close();
  `;
  const out = execFileSync(process.execPath, ['--trace-wasm-compilation-times', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: NO_PROXY_ENV });
  const compiled = out.split('\n').filter((l) => l.startsWith('Compiled function'));
  expect(compiled.filter((l) => l.includes('using Liftoff')).length).toBeGreaterThan(0);
  expect(compiled.filter((l) => l.includes('using TurboFan'))).toEqual([]);
});
