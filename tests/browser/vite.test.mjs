// The package as a Vite app uses it, in every engine of engines.mjs: `npm
// pack`, installed into an empty project whose main.js imports
// 'conv-transpose-wasm', built once with `vite build`, then the built site
// served with and without COOP/COEP and loaded in each engine. The page runs
// the calls of cases.mjs on its main thread and in the worker mode; Node
// checks every result against the float64 reference of
// tests/runtime/reference.mjs (tolerances stated there).
//
//   node --test tests/browser/vite.test.mjs      (BROWSER_ENGINES=... to pick)
//
// tests/package/ covers the rest of the package (tarball, CJS, ESM, types,
// Vite's default wasmPaths) in Chromium.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAndInstall, repoRoot, startServer } from './helpers.mjs';
import { ENGINES, launchEngine, selectedEngines, threadedBackend } from './engines.mjs';
import { asyncCases } from './cases.mjs';
import { compare, reference } from '../runtime/reference.mjs';

const KEEP = process.env.KEEP_TMP === '1';

const HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>conv-transpose-wasm in a Vite app</title><link rel="icon" href="data:,"></head>
<body><pre id="out">computing…</pre><script type="module" src="/main.js"></script></body>
</html>
`;

// The wasm builds and the worker bundle are copied to public/ (the site's
// root), so the app says where they are.
const MAIN = `import { init, initWorker, convTranspose, convTransposeAsync, ArgumentError } from 'conv-transpose-wasm';
import { asyncCases } from './cases.mjs';

function b64(a) {
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}
const out = (y) => ({ shape: y.shape, dtype: y.dtype, data: b64(y.data) });
const failed = (e) => ({ error: String(e && e.message), argumentError: e instanceof ArgumentError });

async function main() {
  const info = await init({ wasmPaths: '/wasm/' });
  const worker = await initWorker({ workerUrl: '/conv-transpose-wasm.worker.js', wasmPaths: '/wasm/' });
  const cases = asyncCases();
  const sync = cases.map((c) => {
    try {
      return out(convTranspose(...c.args));
    } catch (e) {
      return failed(e);
    }
  });
  const inWorker = await Promise.all(cases.map((c) => convTransposeAsync(...c.args).then(out, failed)));
  window.__results = { info, worker, crossOriginIsolated: self.crossOriginIsolated === true, sync, inWorker };
  document.getElementById('out').textContent = JSON.stringify({ info, worker });
}
main().catch((e) => {
  window.__results = { error: String((e && e.stack) || e) };
});
`;

let tmp;
let site;
const servers = {};

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ctw-vite-'));
  const app = packAndInstall(tmp);
  writeFileSync(join(app, 'index.html'), HTML);
  writeFileSync(join(app, 'main.js'), MAIN);
  copyFileSync(join(repoRoot, 'tests', 'browser', 'cases.mjs'), join(app, 'cases.mjs'));
  const pkgDist = join(app, 'node_modules', 'conv-transpose-wasm', 'dist');
  mkdirSync(join(app, 'public'));
  cpSync(join(pkgDist, 'wasm'), join(app, 'public', 'wasm'), { recursive: true });
  copyFileSync(join(pkgDist, 'conv-transpose-wasm.worker.js'), join(app, 'public', 'conv-transpose-wasm.worker.js'));
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error'], {
      cwd: app,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new Error(`vite build failed:\n${e.stdout}\n${e.stderr}`);
  }
  site = join(app, 'dist');
  servers.isolated = await startServer({ root: site, port: 0, isolation: true });
  servers.plain = await startServer({ root: site, port: 0, isolation: false });
});

after(async () => {
  await servers.isolated?.close();
  await servers.plain?.close();
  if (KEEP) console.log(`# kept ${tmp}`);
  else if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function decode(r) {
  const buf = Buffer.from(r.data, 'base64');
  const Type = r.dtype === 'float64' ? Float64Array : Float32Array;
  return new Type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

// The float64 reference of each case (computed once).
let refs;
function references() {
  refs ??= asyncCases().map((c) => {
    if (c.invalid) return null;
    const [x, w, out, strides, padding, dataFormat, dilations] = c.args;
    return reference(x.data, x.shape, w.data, w.shape, out, strides, padding, dataFormat, dilations);
  });
  return refs;
}

function checkResults(label, got) {
  const cases = asyncCases();
  assert.equal(got.length, cases.length, `${label}: ${got.length} results`);
  cases.forEach((c, i) => {
    const r = got[i];
    if (c.invalid) {
      assert.equal(r.argumentError, true, `${label} ${c.name}: should fail with an ArgumentError: ${JSON.stringify(r)}`);
      return;
    }
    assert.equal(r.error, undefined, `${label} ${c.name}: ${r.error}`);
    assert.deepEqual(r.shape, c.args[2], `${label} ${c.name}: shape`);
    assert.equal(r.dtype, c.args[0].data instanceof Float64Array ? 'float64' : 'float32', `${label} ${c.name}: dtype`);
    const cmp = compare(decode(r), references()[i], r.dtype);
    assert.ok(cmp.worst <= 1, `${label} ${c.name}: |result - reference| = ${cmp.maxErr}, ${cmp.worst}x the allowed ${cmp.rel} * sum|terms|`);
  });
}

for (const name of selectedEngines()) {
  const engine = ENGINES[name];
  describe(`${engine.label}: Vite`, { concurrency: 1 }, () => {
    let browser;
    before(async () => {
      browser = await launchEngine(name);
    });
    after(async () => {
      await browser?.close();
    });
    for (const isolation of [true, false]) {
      const threads = isolation && engine.threadsWhenIsolated;
      test(
        `${name}: the Vite-built site ${isolation ? 'with' : 'without'} COOP/COEP: ${threads ? 'threaded' : 'single-thread'} build, main thread and worker agree with the float64 reference`,
        { timeout: 120000 },
        async (t) => {
          const page = await browser.newPage();
          try {
            await page.goto(servers[isolation ? 'isolated' : 'plain'].url);
            const r = await page.waitFor(() => window.__results, null, { timeout: 60000 });
            assert.equal(r.error, undefined, `${engine.label}: the page failed: ${r.error}`);
            t.diagnostic(`init(): ${JSON.stringify(r.info)}; initWorker(): ${JSON.stringify(r.worker)}`);
            assert.equal(r.crossOriginIsolated, isolation);
            for (const [what, info] of [['init()', r.info], ['initWorker()', r.worker]]) {
              assert.equal(info.backend, threads ? threadedBackend(engine) : 'wasm-simd', `${what}: ${JSON.stringify(info)}`);
              if (threads) assert.ok(info.threads > 1, `${what}: ${JSON.stringify(info)}`);
              else assert.equal(info.threads, 1, `${what}: ${JSON.stringify(info)}`);
            }
            checkResults(`${name} main thread`, r.sync);
            checkResults(`${name} worker`, r.inWorker);
          } finally {
            await page.close();
          }
        }
      );
    }
  });
}
