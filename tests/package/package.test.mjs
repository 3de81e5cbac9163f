// Package tests: the npm tarball as a user gets it.
//
//   node --test tests/package/            (needs npm run build; about a minute)
//
// 1. `npm pack` into a temp dir; check what the tarball holds.
// 2. An empty project installs the tarball (offline: it has no dependencies).
// 3. CommonJS (require) and ES module (import) scripts compute known cases,
//    synchronously and with convTransposeAsync (a worker_thread); the .d.ts
//    types compile with TypeScript (nodenext resolution).
// 4. A Vite project (index.html + main.js importing 'conv-transpose-wasm')
//    builds with `vite build` (the repository's own Vite, by path). The wasm
//    files are found at run time by copying the package's dist/wasm/ and its
//    worker bundle into Vite's public/ folder and passing
//      init({ wasmPaths: '/wasm/' })
//      initWorker({ workerUrl: '/conv-transpose-wasm.worker.js', wasmPaths: '/wasm/' })
//    The built site is served with and without COOP/COEP and loaded in
//    headless Chromium, which must compute the same numbers with the
//    threaded and the single-threaded build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, startServer, repoRoot } from '../browser/helpers.mjs';

const KEEP = process.env.KEEP_TMP === '1';
let tmp;
let app;
let tarball;
let packFiles;

function run(cmd, args, cwd, extraEnv = {}) {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extraEnv },
    maxBuffer: 64 << 20,
  });
}

// The known cases every consumer computes (exact small integers).
//  1-D: [1, 2, 3] * filter [1, 10, 100], stride 2, VALID
//  2-D: [[1, 2], [3, 4]] * filter [[1, 2], [3, 4]], stride 2, VALID: the Kronecker product
const KNOWN = `
const oneD = {
  input: { data: new Float32Array([1, 2, 3]), shape: [1, 3, 1] },
  filters: { data: new Float32Array([1, 10, 100]), shape: [3, 1, 1] },
  outputShape: [1, 7, 1], strides: 2, padding: 'VALID',
  expected: [1, 10, 102, 20, 203, 30, 300],
};
const twoD = {
  input: { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] },
  filters: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1, 1] },
  outputShape: [1, 4, 4, 1], strides: 2, padding: 'VALID',
  expected: [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16],
};
const same = (a, b) => a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
`;

const CONSUMER = (importLine) => `${importLine}
${KNOWN}
async function main() {
  const info = await init();
  const out = { info };
  for (const [name, c] of Object.entries({ oneD, twoD })) {
    const y = convTranspose(c.input, c.filters, c.outputShape, c.strides, c.padding);
    if (!same(y.data, c.expected)) throw new Error(name + ': got ' + Array.from(y.data));
    const ya = await convTransposeAsync(c.input, c.filters, c.outputShape, c.strides, c.padding);
    if (!same(ya.data, c.expected)) throw new Error(name + ' (async): got ' + Array.from(ya.data));
    out[name] = Array.from(y.data);
  }
  let message = '';
  try {
    convTranspose(oneD.input, oneD.filters, [1, 9, 1], 2, 'VALID');
  } catch (e) {
    message = e.message;
  }
  if (!/output_shape/.test(message)) throw new Error('no ArgumentError for a bad output shape: ' + message);
  await terminateWorker();
  console.log(JSON.stringify(out));
}
main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ctw-package-'));
  assert.ok(existsSync(join(repoRoot, 'dist', 'index.js')), 'dist/ is missing: npm run build first');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], repoRoot));
  tarball = join(tmp, packed[0].filename);
  packFiles = packed[0].files.map((f) => f.path);
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ctw-consumer', version: '1.0.0', private: true }, null, 2));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], app);
});

after(() => {
  if (KEEP) console.log(`# kept ${tmp}`);
  else if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds the built package and nothing else', () => {
  for (const f of [
    'package.json',
    'README.md',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'dist/worker-entry.js',
    'dist/conv-transpose-wasm.js',
    'dist/conv-transpose-wasm.worker.js',
    'dist/wasm/ctw-relaxed-simd-threads.js',
    'dist/wasm/ctw-relaxed-simd-threads.wasm',
    'dist/wasm/ctw-relaxed-simd-threads.worker.js',
    'dist/wasm/ctw-simd-threads.js',
    'dist/wasm/ctw-simd-threads.wasm',
    'dist/wasm/ctw-simd-threads.worker.js',
    'dist/wasm/ctw-simd.js',
    'dist/wasm/ctw-simd.wasm',
  ]) {
    assert.ok(packFiles.includes(f), `${f} missing from the tarball`);
  }
  const stray = packFiles.filter((f) => !/^(dist\/|docs\/[\w-]+\.md$|package\.json$|README\.md$|LICENSE)/.test(f));
  assert.deepEqual(stray, [], 'files outside dist/ and docs/ in the tarball');
  // Every file the README links to is in the package (no link leads outside it).
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#\s]+)/g)].map((m) => m[1].replace(/^\.\//, ''));
  assert.ok(links.length > 0, 'the README links into docs/');
  for (const l of links) assert.ok(packFiles.includes(l), `README links to ${l}, which is not in the tarball`);
  const installed = readdirSync(join(app, 'node_modules', 'conv-transpose-wasm', 'dist', 'wasm')).sort();
  assert.deepEqual(installed, ['ctw-relaxed-simd-threads.js', 'ctw-relaxed-simd-threads.wasm', 'ctw-relaxed-simd-threads.worker.js', 'ctw-simd-threads.js', 'ctw-simd-threads.wasm', 'ctw-simd-threads.worker.js', 'ctw-simd.js', 'ctw-simd.wasm']);
});

test('CommonJS: require("conv-transpose-wasm")', () => {
  writeFileSync(
    join(app, 'consumer.cjs'),
    CONSUMER("const { init, convTranspose, convTransposeAsync, terminateWorker } = require('conv-transpose-wasm');")
  );
  const out = JSON.parse(run(process.execPath, ['consumer.cjs'], app).trim());
  assert.equal(out.info.backend, 'wasm-simd-threads');
  assert.deepEqual(out.twoD, [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16]);
});

test('ES module: import { init, convTranspose } from "conv-transpose-wasm"', () => {
  writeFileSync(
    join(app, 'consumer.mjs'),
    CONSUMER(
      "import { init, convTranspose, convTransposeAsync, terminateWorker } from 'conv-transpose-wasm';\n" +
        "import ctw from 'conv-transpose-wasm';\n" +
        "if (ctw.convTranspose !== convTranspose) throw new Error('default export differs');"
    )
  );
  const out = JSON.parse(run(process.execPath, ['consumer.mjs'], app).trim());
  assert.equal(out.info.backend, 'wasm-simd-threads');
  assert.deepEqual(out.oneD, [1, 10, 102, 20, 203, 30, 300]);
});

test('TypeScript: the types resolve (nodenext) and type-check a use', () => {
  writeFileSync(
    join(app, 'consumer.mts'),
    `import { init, convTranspose, createConvTranspose, convTransposeAsync, ArgumentError } from 'conv-transpose-wasm';
import type { InitResult, Tensor } from 'conv-transpose-wasm';
const info: InitResult = await init({ numThreads: 2 });
const backend: 'wasm-relaxed-simd-threads' | 'wasm-simd-threads' | 'wasm-simd' = info.backend;
const x = { data: new Float32Array(16), shape: [1, 4, 4, 1] };
const w = { data: new Float32Array(9), shape: [3, 3, 1, 1] };
const y: Tensor = convTranspose(x, w, [1, 8, 8, 1], 2, 'SAME');
const layer = createConvTranspose(w, { strides: 2, padding: 'SAME' });
const y2: Tensor = layer.run(x, [1, 8, 8, 1]);
layer.dispose();
const y3: Promise<Tensor> = convTransposeAsync(x, w, [1, 8, 8, 1], 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
const e: Error = new ArgumentError('x');
console.log(backend, y.shape, y2.dtype, y3, e);
`
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['consumer.mts'],
    })
  );
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  } catch (e) {
    assert.fail(`tsc: ${e.stdout}${e.stderr}`);
  }
});

// ------------------------------------------------------------------ Vite

const VITE_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>conv-transpose-wasm in a Vite app</title><link rel="icon" href="data:,"></head>
<body>
  <h1>conv-transpose-wasm in a Vite app</h1>
  <pre id="out">computing…</pre>
  <script type="module" src="/main.js"></script>
</body>
</html>
`;

const VITE_MAIN = `import { init, convTranspose, convTransposeAsync, initWorker } from 'conv-transpose-wasm';
${KNOWN}
// The package's wasm builds and worker bundle are copied to public/ (served at
// the site's root), so tell the library where they are.
async function main() {
  const info = await init({ wasmPaths: '/wasm/' });
  const y = convTranspose(twoD.input, twoD.filters, twoD.outputShape, twoD.strides, twoD.padding);
  const worker = await initWorker({ workerUrl: '/conv-transpose-wasm.worker.js', wasmPaths: '/wasm/' });
  const [a, b] = await Promise.all([
    convTransposeAsync(oneD.input, oneD.filters, oneD.outputShape, oneD.strides, oneD.padding),
    convTransposeAsync(twoD.input, twoD.filters, twoD.outputShape, twoD.strides, twoD.padding),
  ]);
  const results = {
    info, worker, crossOriginIsolated: self.crossOriginIsolated === true,
    twoD: Array.from(y.data), asyncOneD: Array.from(a.data), asyncTwoD: Array.from(b.data),
    ok: same(y.data, twoD.expected) && same(a.data, oneD.expected) && same(b.data, twoD.expected),
  };
  window.__results = results;
  document.getElementById('out').textContent = JSON.stringify(results, null, 2);
}
main().catch((e) => {
  window.__results = { error: String((e && e.stack) || e) };
  document.getElementById('out').textContent = window.__results.error;
});
`;

let viteBuilt = false;

test('Vite: a project importing the package builds with vite build', { timeout: 120000 }, () => {
  writeFileSync(join(app, 'index.html'), VITE_HTML);
  writeFileSync(join(app, 'main.js'), VITE_MAIN);
  const pkgDist = join(app, 'node_modules', 'conv-transpose-wasm', 'dist');
  mkdirSync(join(app, 'public'), { recursive: true });
  cpSync(join(pkgDist, 'wasm'), join(app, 'public', 'wasm'), { recursive: true });
  cpSync(join(pkgDist, 'conv-transpose-wasm.worker.js'), join(app, 'public', 'conv-transpose-wasm.worker.js'));
  const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const build = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8' });
  const log = `${build.stdout}${build.stderr}`;
  if (build.status !== 0) assert.fail(`vite build failed:\n${log}`);
  // The package's browser entry names no Node module: Vite has nothing to externalize.
  assert.doesNotMatch(log, /externalized for browser compatibility/);
  const files = readdirSync(join(app, 'dist'), { recursive: true }).map(String);
  assert.ok(files.includes('index.html'), `vite output: ${files}`);
  assert.ok(files.some((f) => /^assets\/.*\.js$/.test(f)), `no JS bundle in ${files}`);
  for (const f of ['wasm/ctw-relaxed-simd-threads.wasm', 'wasm/ctw-relaxed-simd-threads.worker.js', 'wasm/ctw-simd-threads.wasm', 'wasm/ctw-simd.wasm',
    'wasm/ctw-simd-threads.worker.js', 'conv-transpose-wasm.worker.js']) {
    assert.ok(files.includes(f), `${f} not in the built site`);
  }
  if (log.trim()) console.log(log.trim().replace(/^/gm, '# vite: '));
  viteBuilt = true;
});

for (const isolation of [true, false]) {
  const label = isolation ? 'with COOP/COEP: threaded build' : 'without COOP/COEP: single-threaded build';
  test(`Vite: the built site computes in headless Chromium, ${label}`, { timeout: 120000 }, async (t) => {
    if (!viteBuilt) return t.skip('the Vite build failed');
    const server = await startServer({ root: join(app, 'dist'), port: 0, isolation });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => window.__results, null, { timeout: 60000 });
      const r = await page.evaluate(() => window.__results);
      assert.equal(r.error, undefined, r.error);
      t.diagnostic(`init(): ${JSON.stringify(r.info)}; worker: ${JSON.stringify(r.worker)}`);
      assert.equal(r.crossOriginIsolated, isolation);
      if (isolation) {
        // Chromium validates relaxed SIMD: its threaded build is the relaxed one.
        assert.equal(r.info.backend, 'wasm-relaxed-simd-threads');
        assert.ok(r.info.threads > 1, `threads ${r.info.threads}`);
        assert.equal(r.worker.backend, 'wasm-relaxed-simd-threads');
      } else {
        assert.equal(r.info.backend, 'wasm-simd');
        assert.equal(r.info.threads, 1);
        assert.equal(r.worker.backend, 'wasm-simd');
      }
      assert.deepEqual(r.twoD, [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16]);
      assert.deepEqual(r.asyncOneD, [1, 10, 102, 20, 203, 30, 300]);
      assert.deepEqual(r.asyncTwoD, r.twoD);
      assert.equal(r.ok, true);
    } finally {
      await browser.close();
      await server.close();
    }
  });
}

// Regression: loaded through a bundler (no document.currentScript) the loader
// once passed the threaded build's script URL to Emscripten as a relative URL
// ('wasm/ctw-simd-threads.js'); the pthread pool workers in /wasm/ resolved it
// against themselves (/wasm/wasm/ctw-simd-threads.js, a 404) and init() never
// settled. The loader now makes every URL absolute against the page.
test(
  'Vite: init() with the default wasmPaths (files in public/wasm/) on an isolated page',
  { timeout: 120000 },
  async (t) => {
    if (!viteBuilt) return t.skip('the Vite build failed');
    writeFileSync(
      join(app, 'main.js'),
      `import { init, convTranspose } from 'conv-transpose-wasm';
${KNOWN}
const timer = setTimeout(() => { window.__results = { error: 'init() did not settle in 15 s' }; }, 15000);
init().then((info) => {
  clearTimeout(timer);
  const y = convTranspose(twoD.input, twoD.filters, twoD.outputShape, twoD.strides, twoD.padding);
  window.__results = { info, ok: same(y.data, twoD.expected) };
}, (e) => { clearTimeout(timer); window.__results = { error: String(e) }; });
`
    );
    const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
    run(process.execPath, [vite, 'build', '--logLevel', 'error', '--outDir', 'dist-default'], app);
    const server = await startServer({ root: join(app, 'dist-default'), port: 0, isolation: true });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      page.removeAllListeners('console');
      page.removeAllListeners('pageerror');
      const failed = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      await page.goto(server.url);
      await page.waitForFunction(() => window.__results, null, { timeout: 30000 });
      const r = await page.evaluate(() => window.__results);
      if (failed.length) t.diagnostic(`failed requests: ${failed.join(', ')}`);
      assert.equal(r.error, undefined, `${r.error} (failed requests: ${failed.join(', ') || 'none'})`);
      assert.equal(r.info.backend, 'wasm-relaxed-simd-threads');
      assert.equal(r.ok, true);
    } finally {
      await browser.close();
      await server.close();
    }
  }
);
