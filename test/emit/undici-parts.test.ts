/**
 * src/emit/undici.ts loads undici's parts from their files instead of the package entry. These
 * tests fail if an upgrade moves those files, or if the entry gets loaded again anyway.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as undici from 'undici';
import { expect, it } from 'vitest';
import { Agent, EnvHttpProxyAgent, ProxyAgent } from '../../src/emit/undici.js';
import { ROOT } from '../helpers/daemon.js';

it('the parts are the classes the package exports', () => {
  expect(Agent).toBe(undici.Agent);
  expect(ProxyAgent).toBe(undici.ProxyAgent);
  expect(EnvHttpProxyAgent).toBe(undici.EnvHttpProxyAgent);
});

it('an Agent loaded from its file posts with dispatcher.request', async () => {
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => res.end(JSON.stringify({ path: req.url, method: req.method, bytes: n })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new Agent();
  try {
    const { port } = server.address() as AddressInfo;
    const res = await agent.request({ origin: `http://127.0.0.1:${port}`, path: '/v1/batch?x=1', method: 'POST', body: 'hello' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ path: '/v1/batch?x=1', method: 'POST', bytes: 5 });
  } finally {
    await agent.close();
    server.close();
  }
});

it("the daemon's HTTP code does not load undici's package entry", () => {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(path.join(ROOT, 'dist/src/emit/http.js'))});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((f) => f.includes('/node_modules/undici/'))));
  `;
  const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }).trim()) as string[];
  expect(loaded.some((f) => f.endsWith('/undici/lib/dispatcher/agent.js'))).toBe(true);
  expect(loaded.filter((f) => f.endsWith('/undici/index.js') || f.includes('/undici/lib/web/'))).toEqual([]);
});
