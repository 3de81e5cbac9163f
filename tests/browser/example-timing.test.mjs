// The example page's timing card and header (headless Chromium): our times
// are taken after a warm-up that runs until they settle, tfjs is timed on
// its wasm backend as well as its cpu one (and agrees), and the header's
// longest pause counts from the first interaction, not from page load; a
// worker script that is not served is named, with the fix.
//
// It drives Chromium only, so scripts/test-browser.sh runs it in its
// Chromium pass and skips it when BROWSER_ENGINES names other engines only.
//
//   node --test tests/browser/example-timing.test.mjs   (needs npm run build)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumOnlySkip, launchBrowser, startServer } from './helpers.mjs';

const skip = chromiumOnlySkip;

let server;
let browser;
before(async () => {
  if (skip) return;
  server = await startServer({ port: 0, isolation: true });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close?.();
});

test('chromium: example page: settled warm-up, tfjs wasm and cpu timed, pauses from the first interaction, a missing worker script named', { skip, timeout: 180000 }, async (t) => {
  const page = await browser.newPage();
  try {
    await page.goto(server.url);
    const results = await (await page.waitForFunction(() => {
      const r = window.__results;
      return r && (r.error || (r.ready && r.runs >= 1)) ? r : null;
    }, null, { timeout: 150000 })).jsonValue();
    assert.equal(results.error, null);
    for (const k of ['bilinear', 'sharp']) {
      const tm = results.timings[k];
      t.diagnostic(`${k}: ${JSON.stringify(tm)}`);
      assert.ok(tm.ours > 0 && tm.tfjs > 0 && tm.tfjsWasm > 0, `timings for ${k}: ${JSON.stringify(tm)}`);
      assert.ok(tm.maxDiffVsTfjs < 1e-5, `${k}: max |ours - tfjs| = ${tm.maxDiffVsTfjs}`);
      assert.ok(tm.warmup.runs >= 10, `${k}: warm-up of ${tm.warmup.runs} runs`);
    }
    assert.equal(await page.evaluate(() => window.__longestPause()), null);
    assert.equal(await page.textContent('#gap'), '–');
    await page.mouse.click(5, 5);
    await page.waitForTimeout(500);
    const pauseMs = await page.evaluate(() => window.__longestPause());
    t.diagnostic(`longest pause in the 0.5 s after a click: ${pauseMs} ms`);
    assert.equal(typeof pauseMs, 'number');
    assert.match(await page.textContent('#gap'), /^\d+$/);

    // A worker script that is not served: the error names its URL and the fix.
    const message = await page.evaluate(async () => {
      const api = window.convTransposeWasm;
      await api.terminateWorker();
      const e = await api.initWorker({ workerUrl: '/nowhere/conv-transpose-wasm.worker.js' }).then(() => null, (err) => err);
      return e && e.message;
    });
    t.diagnostic(message);
    assert.match(message, /\/nowhere\/conv-transpose-wasm\.worker\.js could not be loaded\. Fix: .*initWorker\(\{ workerUrl \}\)/);
  } finally {
    await page.close();
  }
});
