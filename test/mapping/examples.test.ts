/**
 * The worked examples in config/examples/ must load, compile and map their sample lines as
 * their comments say: config loader → real parser → mapper.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildParser } from '../../parsers/index.js';
import { isParseError, type LogRecord } from '../../parsers/types.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { AnalyticsEvent } from '../../src/mapping/event.js';
import { compileMapper } from '../../src/mapping/mapping.js';

const dir = path.resolve(import.meta.dirname, '../../config/examples');
const env = { RUDDER_WRITE_KEY: 'wk', TAILSHIP_HASH_SALT: 'pepper' };
const READ = Date.UTC(2024, 5, 1, 12, 0, 0);

function load(name: string) {
  const { config, configDir } = loadConfigFile(path.join(dir, name), env);
  const p = config.pipelines[0]!;
  const parser = buildParser(p.parser, { configDir, keyPath: 'pipelines[0].parser' });
  const mapper = compileMapper(p, { pipelineIndex: 0, host: 'web-1', version: '0.1.0' });
  return (line: string, offset = 0): AnalyticsEvent[] => {
    const rec = parser.parse(line, { file: '/var/log/x.log', offset: offset + line.length + 1 });
    if (isParseError(rec)) throw new Error(`parse error: ${rec.reason}`);
    return mapper.map(rec as LogRecord, { fileKey: 'k', file: '/var/log/x.log', offset, readAtMs: READ }).map((o) => {
      if (!o.ok) throw new Error(o.reason);
      return o.event;
    });
  };
}

describe('config/examples', () => {
  test('nginx-pages-and-errors.yaml', () => {
    const map = load('nginx-pages-and-errors.yaml');
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    const page = map(`203.0.113.7 - - [01/Mar/2024:10:00:00 +0100] "GET /products/42?uid=u-1&utm_source=mail HTTP/1.1" 200 512 "https://www.google.com/search?q=shoes" "${ua}"`);
    expect(page).toHaveLength(1);
    expect(page[0]).toMatchObject({
      type: 'page',
      name: '/products/42',
      userId: 'u-1',
      originalTimestamp: '2024-03-01T09:00:00.000Z',
      properties: { path: '/products/42', referrer: 'https://www.google.com/search?q=shoes', bytes: 512 },
      context: {
        app: { name: 'shop-web' },
        source: { host: 'web-1', file: '/var/log/x.log' },
        campaign: { source: 'mail' },
        userAgentData: { browser: { name: 'Chrome' }, os: { name: 'Windows' } },
        referrer: { host: 'www.google.com', path: '/search' },
        library: { name: 'tailship', version: '0.1.0' },
      },
    });
    expect(page[0]?.context).not.toHaveProperty('ip');
    expect(JSON.stringify(page)).not.toContain('203.0.113.7');

    const err = map(`203.0.113.7 - - [01/Mar/2024:10:00:01 +0100] "POST /api/cart HTTP/1.1" 502 0 "-" "${ua}"`);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatchObject({ type: 'track', event: 'Server Error', properties: { path: '/api/cart', method: 'POST', status: 502 } });
    expect(err[0]?.anonymousId).toMatch(/^[0-9a-f-]{36}$/);

    expect(map(`10.0.0.1 - - [01/Mar/2024:10:00:02 +0100] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`)).toEqual([]);
    expect(map(`10.0.0.1 - - [01/Mar/2024:10:00:02 +0100] "GET /static/app.js HTTP/1.1" 200 9000 "-" "${ua}"`)).toEqual([]);
  });

  test('app-json-signup-purchase.yaml', () => {
    const map = load('app-json-signup-purchase.yaml');
    const signup = map('{"ts":"2024-03-01T10:00:00.123Z","level":"info","msg":"user.signup","user":{"id":1042,"email":"Ada@Example.com","plan":"pro"},"utm":{"source":"newsletter"}}', 100);
    expect(signup.map((e) => e.type)).toEqual(['identify', 'track']);
    expect(signup[0]).toMatchObject({
      userId: '1042',
      traits: { email: createHash('sha256').update('pepper').update('ada@example.com').digest('hex'), plan: 'pro' },
      originalTimestamp: '2024-03-01T10:00:00.123Z',
      context: { campaign: { source: 'newsletter' }, app: { name: 'shop-api', environment: 'production' } },
    });
    expect(JSON.stringify(signup)).not.toMatch(/ada@example\.com/i);
    expect(signup[1]).toMatchObject({ event: 'Signed Up', userId: '1042', properties: { plan: 'pro', source: 'newsletter' } });
    expect(signup[0]?.messageId).not.toBe(signup[1]?.messageId);

    const paid = map('{"ts":1709287200123,"level":"info","msg":"order.paid","user_id":1042,"order":{"id":"o-77","total":"59.90","currency":"eur","items":[{"sku":"A1","qty":2}]}}');
    expect(paid).toEqual([
      expect.objectContaining({
        type: 'track',
        event: 'Order Completed',
        userId: '1042',
        originalTimestamp: '2024-03-01T10:00:00.123Z',
        properties: { order_id: 'o-77', revenue: 59.9, currency: 'EUR', products: [{ sku: 'A1', qty: 2 }] },
        integrations: { All: true },
      }),
    ]);
    expect(map('{"level":"debug","msg":"order.paid","order":{"total":"1"}}')).toEqual([]);
  });

  test('login-alias.yaml', () => {
    const map = load('login-alias.yaml');
    const ok = map('Mar  1 10:00:00 auth[311]: login ok user=1042 anon=9f1c2e7a ip=203.0.113.7 method=password');
    expect(ok.map((e) => e.type)).toEqual(['alias', 'identify', 'track']);
    expect(ok[0]).toMatchObject({ type: 'alias', userId: '1042', previousId: '9f1c2e7a', originalTimestamp: '2024-03-01T10:00:00.000Z' });
    expect(ok[1]).toMatchObject({ traits: { lastLoginMethod: 'password' } });
    expect(ok[2]).toMatchObject({ event: 'Logged In', properties: { method: 'password' } });
    expect(JSON.stringify(ok)).not.toContain('203.0.113.7');

    const noAnon = map('Mar  1 10:00:01 auth[311]: login ok user=1042 ip=203.0.113.7');
    expect(noAnon.map((e) => e.type)).toEqual(['identify', 'track']);
    expect(noAnon[0]).toMatchObject({ traits: { lastLoginMethod: 'unknown' } });

    const failed = map('Mar  1 10:00:05 auth[311]: login failed user=Ada@Example.com ip=203.0.113.8 reason=bad_password');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ event: 'Login Failed', properties: { reason: 'bad_password' } });
    expect(failed[0]?.anonymousId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
