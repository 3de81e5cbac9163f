'use strict';
// Prepared operators hold wasm memory until dispose() (or until the garbage
// collector finalizes a dropped one, which it does not hurry: it does not
// see wasm memory). When memory runs out, the message says what holds it
// and what to do; small calls keep working where memory allows; `using`
// (Symbol.dispose) frees an operator at the end of its scope.
const { spawnSync } = require('child_process');
const path = require('path');

const LIB = path.resolve(__dirname, '../..');

test('out of memory with live prepared operators names them, their MiB and dispose()', () => {
  // In a child process: it fills the 2 GiB wasm memory.
  const src = `const lib = require(${JSON.stringify(LIB)});
(async () => {
  await lib.init({ numThreads: 1 });
  const f = { data: new Float32Array(3 * 3 * 256 * 512).fill(0.5), shape: [3, 3, 256, 512] };  // 4.5 MiB
  const ops = [];
  let error = null;
  for (let i = 0; i < 2000 && !error; i++) {
    try { ops.push(lib.createConvTranspose(f, { strides: 2 })); } catch (e) { error = e.message; }
  }
  // A 37 KB call in the nearly full memory.
  const x = { data: new Float32Array(16 * 16 * 8).fill(1), shape: [1, 16, 16, 8] };
  const w = { data: new Float32Array(9 * 8 * 8).fill(1), shape: [3, 3, 8, 8] };
  let small;
  try { small = lib.convTranspose(x, w, [1, 32, 32, 8], 2).shape; } catch (e) { small = e.message; }
  for (const op of ops) op.dispose();
  const after = lib.createConvTranspose(f, { strides: 2 });
  after.dispose();
  console.log(JSON.stringify({ created: ops.length, error, small, usedMiB: lib.heapStats().usedBytes / 2 ** 20 }));
})();`;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 120000 });
  expect(r.signal).toBe(null);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  expect(out.created).toBeGreaterThan(100);
  expect(out.error).toMatch(new RegExp(`${out.created} live prepared operators hold (\\d+) MiB; call dispose\\(\\)`));
  const mib = Number(out.error.match(/hold (\d+) MiB/)[1]);
  expect(mib).toBeGreaterThan(out.created * 4);  // each holds its packed 4.5 MiB filters
  expect(mib).toBeLessThan(2048);
  expect(out.small).toEqual([1, 32, 32, 8]);
  expect(out.usedMiB).toBeLessThan(64);
});

test('Symbol.dispose frees a prepared operator (`using op = createConvTranspose(...)`)', () => {
  // In a child process: Node defines Symbol.dispose in its main realm, not in Jest's test context.
  const src = `const lib = require(${JSON.stringify(LIB)});
lib.init().then(() => {
  const op = lib.createConvTranspose({ data: new Float32Array(9), shape: [3, 3, 1, 1] }, { strides: 2 });
  const before = lib.heapStats().usedBytes;
  const kind = typeof op[Symbol.dispose];
  op[Symbol.dispose]();
  let after = '';
  try { op.run({ data: new Float32Array(4), shape: [1, 2, 2, 1] }, [1, 4, 4, 1]); } catch (e) { after = e.message; }
  console.log(JSON.stringify({ symbol: typeof Symbol.dispose, kind, after, freed: before - lib.heapStats().usedBytes }));
});`;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 30000 });
  const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
  expect(out).toMatchObject({ symbol: 'symbol', kind: 'function' });
  expect(out.after).toMatch(/was disposed/);
  expect(out.freed).toBeGreaterThan(0);
});
