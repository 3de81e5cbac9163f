// The example page's tfjs panel (examples/browser/tfjs-panel.mjs) in
// headless Chromium: a tfjs Layers model whose conv2dTranspose layers are
// the page's upsampling kernels, run with tfjs's kernels and then with
// registerTfjsKernels. Both times must be shown, the plug-in must have
// computed every layer call, and the predictions must agree.
//
//   node --test tests/browser/tfjs-panel.test.mjs   (needs dist/ and Debian's chromium)
//
// Chromium only (playwright-core, tests/browser/helpers.mjs's launchBrowser):
// skipped when BROWSER_ENGINES names other engines only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumOnlySkip, launchBrowser, startServer } from './helpers.mjs';

const skip = chromiumOnlySkip;

let server;
let browser;

before(async () => {
  if (skip) return;
  server = await startServer({ port: 0 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('chromium: the tfjs panel runs the model with and without the plug-in', { skip, timeout: 180000 }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url); // the example page
  const handle = await page.waitForFunction(() => {
    const r = globalThis.__tfjsPanel;
    return r && (r.ready || r.error) ? r : null;
  }, null, { timeout: 150000 });
  const r = await handle.jsonValue();
  assert.equal(r.error, undefined, `the panel reported an error: ${r.error}`);
  // tfjs's cpu backend always; its wasm backend where the page started it.
  assert.ok(r.backends.cpu, `no cpu row: ${JSON.stringify(r)}`);
  for (const [backend, b] of Object.entries(r.backends)) {
    assert.ok(b.tfjsMs > 0 && b.pluginMs > 0, `${backend}: both times measured: ${JSON.stringify(b)}`);
    // Two layers a predict, two warm-up predicts and five timed ones: 14 calls.
    assert.equal(b.computed, 14, `${backend}: layer calls computed by the library`);
    assert.equal(b.fallbacks, 0);
    // Outputs are pixel values near 0..1 from sums of a few dozen products.
    assert.ok(b.maxDiff < 1e-4, `${backend}: max |difference| ${b.maxDiff}`);
    const cells = await page.$$eval(`#tp-${backend} td`, (tds) => tds.map((td) => td.textContent));
    assert.match(cells[1], /ms$/);
    assert.match(cells[2], /ms$/);
    console.log(`# tfjs panel, ${backend}: tfjs ${b.tfjsMs.toFixed(1)} ms, with the plug-in ${b.pluginMs.toFixed(1)} ms, max |diff| ${b.maxDiff.toExponential(1)}`);
  }
  await page.close();
});
