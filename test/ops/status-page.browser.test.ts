/**
 * The status page in Debian's headless Chromium (driven by playwright-core) against a daemon
 * under load: it loads, shows both files and the output, its three charts get data, there is
 * no console error, it fits a phone's width; screenshots go to test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyDaemon, type BusyDaemon } from '../helpers/busy-daemon.js';
import { ROOT } from '../helpers/daemon.js';
import { ensureDebianPackage } from '../helpers/debian.js';

const browser = ensureDebianPackage('chromium', '/usr/bin/chromium');
if (!browser.bin) console.warn(`SKIPPING status page browser test: ${browser.why}`);
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!browser.bin)('status page in headless Chromium', () => {
  let daemon: BusyDaemon;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    daemon = await startBusyDaemon();
    mkdirSync(ARTIFACTS, { recursive: true });
    // A fresh profile each run: nothing cached from an earlier page.
    profile = mkdtempSync(path.join(tmpdir(), 'tailship-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: browser.bin!, headless: true, args: ['--headless', ...FLAGS], viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await daemon?.stop();
  });

  it('loads, fills its tables and charts, logs no error, and fits a phone', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(daemon.base + '/');
    for (const f of daemon.files) await page.locator('#files td', { hasText: f }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#outputs tbody tr').first().textContent(), { timeout: 30_000 }).toContain('rudderstack');
    // Two history samples at least in each chart (the daemon samples every 2 s).
    for (const chart of ['lag', 'delivered', 'queue']) {
      await expect.poll(async () => Number(await page.locator(`#chart-${chart}`).getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    }
    expect(await page.locator('#chart-delivered polyline').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#dead-letters li').first().textContent(), { timeout: 30_000 }).toContain('parse');
    expect(await page.locator('#summary').textContent()).toMatch(/CPU [\d.]+%/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    // Nothing wider than the phone but the tables, which scroll inside their own box.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });

    expect(errors).toEqual([]);
    // Self-contained: every request went to the daemon itself.
    expect(requests.filter((u) => !u.startsWith(daemon.base))).toEqual([]);
  });
});
