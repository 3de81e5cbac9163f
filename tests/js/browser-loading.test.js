'use strict';
// The browser bundle (dist/conv-transpose-wasm.js) in a simulated page (a
// vm context with the browser globals it touches): a worker script or a pool
// worker that cannot be loaded is reported with its URL and the fix, at once,
// not as "worker: undefined" or after a 60 s timeout.
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const BUNDLE = fs.readFileSync(path.resolve(__dirname, '../../dist/conv-transpose-wasm.js'), 'utf8');
const PAGE = 'https://app.example/deep/page.html';
const SCRIPT = 'https://cdn.example/lib/conv-transpose-wasm.js';

// A page whose Worker scripts all fail to load the way Chromium and Firefox
// report it (an error event without a message), and whose fetch answers 404
// for worker scripts.
function page({ isolated = true } = {}) {
  const fetched = [];
  class FailingWorker {
    constructor(url) {
      this.url = url;
      setTimeout(() => this.onerror && this.onerror({ type: 'error', preventDefault() {} }), 1);
    }
    postMessage() {}
    terminate() {}
  }
  const context = {
    document: { currentScript: { src: SCRIPT }, baseURI: PAGE, head: { appendChild() {} }, createElement: () => ({}) },
    location: { href: PAGE },
    navigator: { hardwareConcurrency: 4 },
    crossOriginIsolated: isolated,
    SharedArrayBuffer,
    Worker: FailingWorker,
    fetch: async (url) => {
      fetched.push(url);
      return /worker\.js$/.test(url) ? { ok: false, status: 404 } : { ok: true, status: 200 };
    },
    setTimeout,
    clearTimeout,
    console: { warn() {}, log() {}, error() {} },
    URL,
    WebAssembly,
  };
  context.globalThis = context;
  context.self = context;
  vm.createContext(context);
  vm.runInContext(BUNDLE, context);
  return { lib: context.convTransposeWasm, fetched };
}

test('a worker script that cannot be loaded names its URL and the fix', async () => {
  const { lib } = page();
  const t0 = Date.now();
  const err = await lib.initWorker().then(() => null, (e) => e);
  expect(err.message).not.toMatch(/undefined/);
  expect(err.message).toMatch('https://cdn.example/lib/conv-transpose-wasm.worker.js could not be loaded');
  expect(err.message).toMatch(/Fix: .*dist\/conv-transpose-wasm\.worker\.js.*initWorker\(\{ workerUrl \}\)/);
  expect(Date.now() - t0).toBeLessThan(5000);
  // A call waiting on that start is rejected too, and a later call tries again.
  const call = await lib.convTransposeAsync({ data: new Float32Array(4), shape: [1, 2, 2, 1] }, { data: new Float32Array(1), shape: [1, 1, 1, 1] }, [1, 4, 4, 1], 2)
    .then(() => null, (e) => e);
  expect(call.message).toMatch(/could not be loaded/);
});

test('init() with the threaded build forced fails at once when its pool worker is not served', async () => {
  const { lib, fetched } = page();
  const t0 = Date.now();
  const err = await lib.init({ backend: 'wasm-simd-threads', wasmPaths: '/static/wasm/' }).then(() => null, (e) => e);
  expect(fetched[0]).toBe('https://app.example/static/wasm/ctw-simd-threads.worker.js');
  expect(err.message).toMatch('pool worker https://app.example/static/wasm/ctw-simd-threads.worker.js (HTTP 404) could not be loaded');
  expect(err.message).toMatch(/Fix: .*dist\/wasm\/.*wasmPaths/);
  expect(Date.now() - t0).toBeLessThan(5000);
});
