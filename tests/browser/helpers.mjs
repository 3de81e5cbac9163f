// Shared by the browser tests, the package tests and the runtime tests: the
// static server with or without COOP/COEP (scripts/serve-example.mjs), the
// browser engines (engines.mjs), and the package installed as a user gets it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { CHROMIUM_ARGS, chromiumPath } from './engines.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export { startServer } from '../../scripts/serve-example.mjs';
export { CHROMIUM_ARGS, chromiumPath };

const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

/**
 * Headless Chromium through playwright-core, as tests/package uses it
 * (Playwright's own page API). The browser tests use engines.mjs instead,
 * whose pages are the same in every engine.
 */
// For the tests that drive Chromium alone (launchBrowser): scripts/test-browser.sh
// runs tests/browser/ once per engine with BROWSER_ENGINES set to it, so these
// run in the Chromium pass and are skipped (with this reason) in the others.
const engines = (process.env.BROWSER_ENGINES || 'chromium').split(',').map((s) => s.trim());
export const chromiumOnlySkip = engines.includes('chromium') ? false : 'Chromium not among BROWSER_ENGINES';

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
  const r = await page.waitFor(
    (n) => {
      const r = window.__results;
      return r && (r.error || (r.ready && r.runs >= n)) ? r : null;
    },
    minRuns,
    { timeout }
  );
  if (r.error) throw new Error(`the page reported an error: ${r.error}`);
  return r;
}

/** base64 of float32 bytes -> Float32Array */
export function f32(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/**
 * `npm pack` of the repository, installed (offline: the package has no
 * dependencies) into dir/app, an empty project. Returns the app's folder.
 */
export function packAndInstall(dir) {
  const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } };
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, ...quiet }));
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ctw-consumer', version: '1.0.0', private: true }, null, 2));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, packed[0].filename)], { cwd: app, ...quiet });
  return app;
}
