// Browser tests: the example page and the library's browser paths in every
// engine of engines.mjs (Chromium, Firefox, WebKit, and WebKit with
// SharedArrayBuffer), headless, checked against the same computation in Node.
// The test bodies are the same for each engine; each test's name starts with
// the engine's.
//
//   node --test tests/browser/          (or: bash scripts/test-browser.sh)
//   BROWSER_ENGINES=firefox node --test tests/browser/browser.test.mjs
//
// Needs `npm run build` (dist/), the Debian packages of each engine
// (scripts/test-browser.sh installs them), playwright-core and puppeteer-core.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startServer, waitForResults, f32, repoRoot } from './helpers.mjs';
import { ENGINES, launchEngine, selectedEngines, threadedBackend } from './engines.mjs';
import * as U from '../../examples/browser/upsample.mjs';
import { asyncCases, heavyCase } from './cases.mjs';

const require = createRequire(import.meta.url);
// Self-reference: the package's own dist/, as a user would load it in Node.
const ctw = require('conv-transpose-wasm');

const artifacts = join(repoRoot, 'tests', 'artifacts');
let isolated;
let plain;

before(async () => {
  await ctw.init();
  [isolated, plain] = await Promise.all([startServer({ port: 0, isolation: true }), startServer({ port: 0, isolation: false })]);
});

after(async () => {
  await isolated?.close();
  await plain?.close();
  await ctw.terminateWorker?.();
});

// ------------------------------------------------------------------ helpers

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Equal bits, or within 1e-6 (and say which). */
function assertClose(actual, expected, what) {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= 1e-6, `${what}: max |browser - node| = ${d}`);
  return d;
}

/** The page's fixed test case, recomputed in Node. */
function nodeFixed(fixed) {
  const img = U.fixedImage(fixed.image.height, fixed.image.width, fixed.image.seed);
  const a = U.upsampleArgs(img.rgb, img.height, img.width, {
    factor: fixed.factor,
    kernel: fixed.kernel,
    layout: fixed.layout,
    amount: fixed.amount,
  });
  return ctw.convTranspose(a.input, a.filters, a.outputShape, a.strides, a.padding);
}

/** The page's picture outputs (raw bytes), recomputed in Node from the page's own input pixels. */
async function checkPicture(page, label) {
  const exp = await page.evaluate(() => window.__demo.exportPicture());
  const { factor, layout, amount, width, height } = exp.settings;
  const rgb = f32(exp.rgb);
  if ((await page.evaluate(() => window.__results.picture.source)) === 'bundled') {
    const mine = U.makePicture(width);
    assert.equal(maxAbsDiff(rgb, mine.rgb), 0, `${label}: the page drew the bundled picture differently from Node`);
  }
  const diffs = {};
  for (const kernel of ['bilinear', 'sharp']) {
    const a = U.upsampleArgs(rgb, height, width, { factor, kernel, layout, amount });
    const y = ctw.convTranspose(a.input, a.filters, a.outputShape, a.strides, a.padding);
    const page = exp.outputs[kernel];
    assert.deepEqual(page.shape, y.shape, `${label} ${kernel}: shape`);
    diffs[kernel] = assertClose(f32(page.data), y.data, `${label} ${kernel} ${factor}x ${layout}`);
  }
  return { settings: exp.settings, diffs };
}

async function openExample(browser, server) {
  const page = await browser.newPage();
  try {
    await page.goto(server.url);
    const results = await waitForResults(page, { timeout: 90000 });
    return { page, results };
  } catch (e) {
    await page.close().catch(() => {});
    throw e;
  }
}

/** The build init() should choose in this engine on an isolated page. */
function expectIsolated(engine, info, what) {
  if (engine.threadsWhenIsolated) {
    assert.equal(info.backend, threadedBackend(engine), `${what}: ${JSON.stringify(info)}`);
    assert.ok(info.threads > 1, `${what}: threads = ${info.threads}, expected > 1`);
  } else {
    // No SharedArrayBuffer although isolated (WebKitGTK's default): one thread, and init() says so.
    assert.equal(info.backend, 'wasm-simd', `${what}: ${JSON.stringify(info)}`);
    assert.equal(info.threads, 1, `${what}: ${JSON.stringify(info)}`);
  }
  assert.equal(info.simd, true);
}

// ------------------------------------------------------------------ tests

for (const name of selectedEngines()) {
  const engine = ENGINES[name];
  describe(engine.label, { concurrency: 1 }, () => {
    let browser;
    before(async () => {
      browser = await launchEngine(name);
      console.log(`${name}: ${browser.version}`);
    });
    after(async () => {
      await browser?.close();
    });
    engineTests(name, engine, () => browser);
  });
}

// The tests, the same in every engine; their names start with the engine's.
function engineTests(name, engine, getBrowser) {
  test(`${name}: example page, cross-origin isolated: ${engine.threadsWhenIsolated ? 'threaded build' : 'no SharedArrayBuffer, one thread'}, numbers equal Node`, { timeout: 180000 }, async (t) => {
    const { page, results } = await openExample(getBrowser(), isolated);
    try {
      assert.equal(results.crossOriginIsolated, true, 'the page should be cross-origin isolated');
      assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), engine.threadsWhenIsolated ? 'function' : 'undefined');
      expectIsolated(engine, results.init, 'init()');
      t.diagnostic(`init(): ${JSON.stringify(results.init)}`);

      // The fixed case: the page's whole output against Node's.
      const y = nodeFixed(results.fixed);
      assert.deepEqual(results.fixed.outputShape, y.shape);
      assertClose(results.fixed.output, y.data, 'fixed case');
      assert.equal(results.fixed.fnv, U.fnv1a(y.data), 'fixed case: the bits differ from Node');

      // The picture, as loaded: 4x, planes as a batch.
      const p1 = await checkPicture(page, 'default picture');
      t.diagnostic(`picture 4x batch: max |browser - node| = ${JSON.stringify(p1.diffs)}`);
      assert.equal(p1.settings.factor, 4);
      assert.equal(p1.settings.layout, 'batch');

      // The tfjs comparison ran and agreed.
      for (const k of ['bilinear', 'sharp']) {
        const tm = results.timings[k];
        assert.ok(tm && tm.ours > 0 && tm.tfjs > 0, `timings for ${k}: ${JSON.stringify(tm)}`);
        assert.ok(tm.maxDiffVsTfjs < 1e-5, `${k}: max |ours - tfjs| = ${tm.maxDiffVsTfjs}`);
        t.diagnostic(`${k}: ours ${tm.ours.toFixed(2)} ms, tfjs cpu ${tm.tfjs.toFixed(2)} ms`);
      }

      // Change the controls as a person would: 2x, RGB as 3 channels, less sharpening.
      const before = results.runs;
      await page.click('label:has(input[name="factor"][value="2"]) span');
      await page.click('label:has(input[name="layout"][value="channels"]) span');
      await page.fill('#amount', '0.5');
      await page.waitFor(
        (n) => {
          const r = window.__results;
          return r.error || (r.runs > n && r.picture.factor === 2 && r.picture.layout === 'channels' && r.picture.amount === 0.5 && r.lastRunId === r.picture.runId);
        },
        before,
        { timeout: 60000 }
      );
      const p2 = await checkPicture(page, 'after the controls');
      t.diagnostic(`picture 2x channels: max |browser - node| = ${JSON.stringify(p2.diffs)}`);
      assert.deepEqual([p2.settings.factor, p2.settings.layout, p2.settings.amount], [2, 'channels', 0.5]);
      // Both layouts are the same computation: 'channels' output equals 'batch' output rearranged.
      const a = await page.evaluate(() => {
        const U = window.__demo.lib;
        const img = U.fixedImage(6, 4, 3);
        const api = window.__demo.api;
        const out = {};
        for (const layout of ['batch', 'channels']) {
          const args = U.upsampleArgs(img.rgb, 6, 4, { factor: 4, kernel: 'sharp', layout });
          const y = api.convTranspose(args.input, args.filters, args.outputShape, args.strides, args.padding);
          out[layout] = Array.from(U.toRgb(y.data, layout, 24, 16));
        }
        return out;
      });
      assert.deepEqual(a.batch, a.channels, 'batch and channels layouts should give the same pixels');

      // A user's image through the file input (a PNG made by the page's own canvas).
      const png = await page.evaluate(async () => {
        const c = document.createElement('canvas');
        c.width = 40;
        c.height = 30;
        const g = c.getContext('2d');
        const grad = g.createLinearGradient(0, 0, 40, 30);
        grad.addColorStop(0, '#2a9d8f');
        grad.addColorStop(1, '#e9c46a');
        g.fillStyle = grad;
        g.fillRect(0, 0, 40, 30);
        g.fillStyle = '#e76f51';
        g.fillRect(10, 8, 12, 12);
        const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
        return Array.from(new Uint8Array(await blob.arrayBuffer()));
      });
      const runsBefore = await page.evaluate(() => window.__results.runs);
      await page.setInputFiles('#file', { name: 'tiles.png', mimeType: 'image/png', buffer: Buffer.from(png) });
      await page.waitFor(
        (n) => window.__results.error || (window.__results.runs > n && window.__results.picture.source === 'tiles.png' && window.__results.lastRunId === window.__results.picture.runId),
        runsBefore,
        { timeout: 60000 }
      );
      const p3 = await checkPicture(page, 'uploaded image');
      assert.deepEqual([p3.settings.width, p3.settings.height], [40, 30]);
      assert.equal(await page.evaluate(() => window.__results.error), null);
    } finally {
      await page.close();
    }
  });

  test(`${name}: async worker mode: the page stays responsive, and calls in flight get their own answers`, { timeout: 240000 }, async (t) => {
    const { page } = await openExample(getBrowser(), isolated);
    try {
      const worker = await page.evaluate(() => window.__demo.api.initWorker());
      expectIsolated(engine, worker, 'initWorker()');

      // One large call in the worker; meanwhile the page's animation frames and
      // a 20 ms interval must keep running.
      const measure = (mode) =>
        page.evaluate(async (mode) => {
          const { heavyCase } = await import('/tests/browser/cases.mjs');
          const { api, lib } = window.__demo;
          const c = heavyCase();
          await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)));
          const ticks = [];
          const iv = setInterval(() => ticks.push(performance.now()), 20);
          const f0 = window.__frames();
          const t0 = performance.now();
          // The worker mode repeats the call until 600 ms have passed, so that
          // a fast machine still gives a span worth measuring.
          let y;
          let calls = 0;
          do {
            y = mode === 'worker' ? await api.convTransposeAsync(...c.args) : api.convTranspose(...c.args);
            calls++;
          } while (mode === 'worker' && performance.now() - t0 < 600);
          const t1 = performance.now();
          await new Promise((r) => setTimeout(r, 30));
          clearInterval(iv);
          const f1 = window.__frames();
          let maxGap = 0;
          let prev = t0;
          for (const tk of ticks) {
            if (tk > t1) break;
            maxGap = Math.max(maxGap, tk - prev);
            prev = tk;
          }
          const firstAfter = ticks.find((tk) => tk > t1) ?? performance.now();
          maxGap = Math.max(maxGap, firstAfter - prev);
          return { ms: t1 - t0, calls, frames: f1 - f0, ticks: ticks.filter((tk) => tk <= t1).length, maxGap, fnv: lib.fnv1a(y.data), shape: y.shape };
        }, mode);

      const heavy = heavyCase();
      const expected = ctw.convTranspose(...heavy.args);
      const w = await measure('worker');
      t.diagnostic(
        `worker: ${w.calls} call(s) in ${w.ms.toFixed(0)} ms (${((heavy.flops * w.calls) / w.ms / 1e6).toFixed(1)} GFLOP/s), ` +
          `${w.frames} frames, ${w.ticks} interval ticks, longest pause ${w.maxGap.toFixed(0)} ms`
      );
      assert.deepEqual(w.shape, expected.shape);
      assert.equal(w.fnv, U.fnv1a(expected.data), 'the worker result differs from Node');
      assert.ok(w.maxGap < 300, `the main thread paused ${w.maxGap.toFixed(0)} ms during the async call`);
      assert.ok(w.frames >= Math.max(3, w.ms / 100), `${w.frames} animation frames in ${w.ms.toFixed(0)} ms`);
      assert.ok(w.ticks >= Math.max(3, w.ms / 100), `${w.ticks} interval ticks in ${w.ms.toFixed(0)} ms`);

      // Control: the same call on the main thread does freeze the page, so the
      // measurement above can tell the difference.
      const m = await measure('main');
      t.diagnostic(`main thread: ${m.ms.toFixed(0)} ms, ${m.frames} frames, longest pause ${m.maxGap.toFixed(0)} ms`);
      assert.equal(m.fnv, w.fnv, 'main thread and worker results differ');
      assert.ok(m.maxGap >= 0.8 * m.ms, `the sync call should block: pause ${m.maxGap} of ${m.ms} ms`);

      // Several calls in flight at once (and one invalid), each with its own answer.
      const outs = await page.evaluate(async () => {
        const { asyncCases } = await import('/tests/browser/cases.mjs');
        const { api } = window.__demo;
        const cases = asyncCases();
        const f0 = window.__frames();
        const settled = await Promise.all(
          cases.map((c) =>
            api.convTransposeAsync(...c.args).then(
              (y) => ({ shape: y.shape, dtype: y.dtype, data: Array.from(y.data) }),
              (e) => ({ error: String(e.message), argumentError: e instanceof api.ArgumentError })
            )
          )
        );
        // The same calls on the main thread, for comparison.
        const sync = cases.map((c) => {
          try {
            return Array.from(api.convTranspose(...c.args).data);
          } catch (e) {
            return String(e.message);
          }
        });
        return { settled, sync, frames: window.__frames() - f0 };
      });
      const cases = asyncCases();
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        const got = outs.settled[i];
        if (c.invalid) {
          assert.ok(got.error, `${c.name}: should reject`);
          assert.equal(got.argumentError, true, `${c.name}: should reject with an ArgumentError`);
          assert.throws(() => ctw.convTranspose(...c.args), (e) => e.message === got.error, `${c.name}: same message as Node`);
          assert.equal(outs.sync[i], got.error);
          continue;
        }
        assert.ok(!got.error, `${c.name}: rejected: ${got.error}`);
        const y = ctw.convTranspose(...c.args);
        assert.deepEqual(got.shape, y.shape, `${c.name}: shape`);
        assert.equal(got.dtype, y.dtype, `${c.name}: dtype`);
        assertClose(got.data, y.data, `${c.name} (worker)`);
        assertClose(outs.sync[i], y.data, `${c.name} (main thread)`);
      }
      t.diagnostic(`${cases.length} calls in flight settled, each with its own answer`);
    } finally {
      await page.close();
    }
  });

  test(`${name}: example page without COOP/COEP: single-threaded SIMD fallback, same numbers`, { timeout: 180000 }, async (t) => {
    const { page, results } = await openExample(getBrowser(), plain);
    try {
      assert.equal(results.crossOriginIsolated, false);
      // WebKitGTK with JSC_useSharedArrayBuffer=1 has it on every page; the
      // library must still not start threads on a page that is not isolated.
      assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), engine.sabWithoutIsolation ? 'function' : 'undefined');
      assert.equal(results.init.backend, 'wasm-simd');
      assert.equal(results.init.threads, 1);
      t.diagnostic(`init(): ${JSON.stringify(results.init)}`);
      const y = nodeFixed(results.fixed);
      assertClose(results.fixed.output, y.data, 'fixed case');
      const p = await checkPicture(page, 'picture (no isolation)');
      t.diagnostic(`picture, single-threaded build: max |browser - node| = ${JSON.stringify(p.diffs)}`);
      // The worker mode falls back too and still computes the right thing.
      const r = await page.evaluate(async () => {
        const { asyncCases } = await import('/tests/browser/cases.mjs');
        const { api } = window.__demo;
        const info = await api.initWorker();
        const c = asyncCases()[0];
        const y = await api.convTransposeAsync(...c.args);
        return { info, data: Array.from(y.data) };
      });
      assert.equal(r.info.backend, 'wasm-simd');
      assertClose(r.data, ctw.convTranspose(...asyncCases()[0].args).data, 'worker, no isolation');
    } finally {
      await page.close();
    }
  });

  test(`${name}: the example page's buttons, and a screenshot`, { timeout: 180000 }, async (t) => {
    const { page } = await openExample(getBrowser(), isolated);
    try {
      await page.waitFor(() => window.__results.worker, null, { timeout: 60000 });
      await page.click('#btn-worker-upscale');
      await page.waitFor(() => document.querySelectorAll('#log li').length >= 2, null, { timeout: 60000 });
      await page.click('#btn-heavy-worker');
      await page.waitFor(() => document.querySelectorAll('#log li').length >= 3, null, { timeout: 120000 });
      const log = await page.evaluate(() => document.querySelector('#log').innerText);
      assert.match(log, /identical to the main thread ✓/);
      assert.match(log, /Worker: .*frames drawn meanwhile/);
      mkdirSync(artifacts, { recursive: true });
      const path = join(artifacts, name === 'chromium' ? 'example-page.png' : `example-page-${name}.png`);
      await page.screenshot(path);
      t.diagnostic(`screenshot: ${path}`);
      assert.equal(await page.evaluate(() => window.__results.error), null);
    } finally {
      await page.close();
    }
  });
}
