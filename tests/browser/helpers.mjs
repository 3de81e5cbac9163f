// Shared by the browser tests and the package tests: start headless Debian
// Chromium through playwright-core, and a static server with or without
// COOP/COEP (scripts/serve-example.mjs).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export { startServer } from '../../scripts/serve-example.mjs';

// The flags TOOLCHAIN.md lists: without the networking ones Chromium keeps
// trying hosts this machine cannot reach.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('no Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  return found;
}

const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

/**
 * Launches headless Chromium (Playwright gives it a fresh temporary profile
 * and removes it on close). newPage() reports page errors on stderr.
 */
export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  return {
    browser,
    context,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') console.error(`[page console.error] ${m.text()}`);
      });
      return page;
    },
    async close() {
      await withTimeout(context.close().catch(() => {}), 10000);
      await withTimeout(browser.close().catch(() => {}), 10000);
    },
  };
}

/** Waits until window.__results is ready (or has an error); throws with the page's error. */
export async function waitForResults(page, { minRuns = 1, timeout = 60000 } = {}) {
  await page.waitForFunction(
    (n) => window.__results && (window.__results.error || (window.__results.ready && window.__results.runs >= n)),
    minRuns,
    { timeout, polling: 100 }
  );
  const r = await page.evaluate(() => window.__results);
  if (r.error) throw new Error(`the page reported an error: ${r.error}`);
  return r;
}

/** base64 of float32 bytes -> Float32Array */
export function f32(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
