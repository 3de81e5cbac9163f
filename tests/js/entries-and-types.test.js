'use strict';
// What bundlers and TypeScript see: the "browser" export condition leads to
// an ES module that names no Node module (so Vite has nothing to
// externalize), and the types are as strict as the run-time checks, with
// overloads that give a float32 call a Float32Array result.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('the browser export condition is an ES module that names no Node module', () => {
  const entry = pkg.exports['.'].browser;
  expect(entry).toBe('./dist/index.browser.mjs');
  expect(Object.keys(pkg.exports['.']).indexOf('browser')).toBeLessThan(Object.keys(pkg.exports['.']).indexOf('import'));
  for (const file of [entry, './dist/conv-transpose-wasm.js', './dist/conv-transpose-wasm.worker.js']) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    expect(text).not.toMatch(/(require\(|from |import\()\s*["'](node:)?(os|path|fs|worker_threads|child_process|url)["']/);
  }
  const text = fs.readFileSync(path.join(ROOT, entry), 'utf8');
  for (const name of ['init', 'convTranspose', 'createConvTranspose', 'convTransposeAsync', 'initWorker', 'terminateWorker', 'ArgumentError']) {
    expect(text).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${name}\\b`));
  }
});

test('tsc --strict: the types refuse what the run time refuses, and results are typed by the dtype', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctw-types-'));
  try {
    const lib = JSON.stringify(path.join(ROOT, 'dist', 'index.js'));
    fs.writeFileSync(path.join(dir, 'use.ts'), `import { convTranspose, convTransposeAsync, createConvTranspose } from ${lib};
const x = { data: new Float32Array(16), shape: [1, 4, 4, 1] };
const w = { data: new Float32Array(9), shape: [3, 3, 1, 1] };
const y = convTranspose(x, w, [1, 8, 8, 1], 2, 'SAME', 'NHWC');
const f: Float32Array = y.data;
const d: Float64Array = convTranspose({ data: new Float64Array(16), shape: [1, 4, 4, 1] }, w, [1, 8, 8, 1], 2).data;
const h: Uint16Array = convTranspose({ data: new Uint16Array(16), shape: [1, 4, 4, 1], dtype: 'bfloat16' }, w, [1, 8, 8, 1], 2).data;
const plain: Float32Array = convTranspose({ data: [1, 2, 3, 4], shape: [1, 2, 2, 1] }, w, [1, 4, 4, 1], 2).data;
const op = createConvTranspose(w, { strides: 2, padding: [[0, 0], [1, 1], [1, 1], [0, 0]] });
const r: Float32Array = op.run(x, [1, 8, 8, 1]).data;
op[Symbol.dispose]();
async function later(): Promise<Float32Array> { return (await convTransposeAsync(x, w, [1, 8, 8, 1], 2)).data; }
// @ts-expect-error padding is upper case
convTranspose(x, w, [1, 8, 8, 1], 2, 'same');
// @ts-expect-error data formats are upper case
convTranspose(x, w, [1, 8, 8, 1], 2, 'SAME', 'nhwc');
// @ts-expect-error data is a float typed array or numbers, not any ArrayLike
convTranspose({ data: new Int32Array(16), shape: [1, 4, 4, 1] }, w, [1, 8, 8, 1], 2);
// @ts-expect-error a float64 call does not return a Float32Array
const wrong: Float32Array = convTranspose({ data: new Float64Array(16), shape: [1, 4, 4, 1] }, w, [1, 8, 8, 1], 2).data;
// @ts-expect-error options take upper-case padding too
createConvTranspose(w, { strides: 2, padding: 'valid' });
declare const console: { log(...values: unknown[]): void };
console.log(f, d, h, plain, r, later, wrong);
`);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', lib: ['es2022'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [], skipLibCheck: false },
      files: ['use.ts'],
    }));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    } catch (e) {
      out = `${e.stdout}${e.stderr}`;
    }
    expect(out).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
