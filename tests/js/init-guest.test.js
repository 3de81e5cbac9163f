'use strict';
// init() as a guest: numThreads is bounded by the machine's cores, a second
// init() racing the first gets its own thread count (or is refused), and
// build files that are missing fail fast, name the file and the fix, or fall
// back to the single-thread build and say so. Each case runs in a fresh
// child process (a process loads the module once).
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const LIB = path.resolve(__dirname, '../..');
const CORES = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

function runChild(body, lib = LIB) {
  const src = `const lib = require(${JSON.stringify(lib)});
(async () => { ${body} })().then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ error: e.message })));`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 30000 });
  if (r.signal) throw new Error(`the child did not finish in 30 s: ${r.stdout} ${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()), ms: Date.now() - t0, stderr: r.stderr };
}

test('numThreads: 64 runs as many threads as there are cores, and says so', () => {
  const r = runChild(`const info = await lib.init({ numThreads: 64 });
    return { info, rssMiB: process.memoryUsage().rss / 2 ** 20 };`);
  expect(r.info.threads).toBe(Math.min(64, CORES));
  expect(r.info.maxThreads).toBeLessThanOrEqual(CORES);
});

test('two init() calls racing with different numThreads: the second gets its own', () => {
  const r = runChild(`const [a, b] = await Promise.all([lib.init({ numThreads: 1 }), lib.init({ numThreads: 2 })]);
    return { a: a.threads, b: b.threads, now: lib.backendInfo().threads };`);
  expect(r).toMatchObject({ a: 1, b: Math.min(2, CORES), now: Math.min(2, CORES) });
});

test('init() with another backend than the loaded one is refused, not ignored', () => {
  const r = runChild(`await lib.init();
    return await lib.init({ backend: 'wasm-simd' }).then(() => ({ error: 'none' }), (e) => ({ error: e.message }));`);
  expect(r.error).toMatch(/wasm-simd-threads build was loaded/);
});

describe('build files that are not where init() looks', () => {
  let dir;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctw-wasm-'));
    for (const f of fs.readdirSync(path.join(LIB, 'dist', 'wasm'))) fs.copyFileSync(path.join(LIB, 'dist', 'wasm', f), path.join(dir, f));
    fs.rmSync(path.join(dir, 'ctw-simd-threads.worker.js'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a missing pool worker: the single-thread build runs at once and init() says why', () => {
    const r = runChild(`const info = await lib.init({ wasmPaths: ${JSON.stringify(dir + '/')} });
      const y = lib.convTranspose({ data: new Float32Array([1, 2]), shape: [1, 2, 1] }, { data: new Float32Array([1]), shape: [1, 1, 1] }, [1, 4, 1], 2);
      return { info, y: Array.from(y.data) };`);
    expect(r.info.backend).toBe('wasm-simd');
    expect(r.info.fallback).toMatch(/ctw-simd-threads\.worker\.js could not be loaded.*Fix: .*dist\/wasm\/.*single-thread build instead/);
    expect(r.y).toEqual([1, 0, 2, 0]);
    expect(r.ms).toBeLessThan(15000);
  });

  test('a missing pool worker with the threaded build forced fails at once, naming the file and the fix', () => {
    const r = runChild(`await lib.init({ backend: 'wasm-simd-threads', wasmPaths: ${JSON.stringify(dir + '/')} });`);
    expect(r.error).toMatch(/ctw-simd-threads\.worker\.js could not be loaded.*Fix: .*wasmPaths/);
    expect(r.ms).toBeLessThan(15000);
  });

  test('missing wasm files: the error names the file and the fix', () => {
    const r = runChild(`await lib.init({ wasmPaths: '/nowhere/' });`);
    expect(r.error).toMatch(/\/nowhere\/ctw-simd-threads\.js is missing.*Fix: keep the package's dist\/wasm\/ folder .* wasmPaths/);
  });
});
