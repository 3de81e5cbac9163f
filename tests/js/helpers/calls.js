'use strict';
// Calls of the package on random small cases, checked against the float64
// reference (reference.js), for the test files that exercise the module as
// a whole: memory, sizes, result arrays, non-finite values, concurrency.
//
// Heap figures come from the public heapStats(): { heapBytes, usedBytes }
// (heapBytes: the wasm memory's size; usedBytes: bytes the core's allocator has
// handed out and not had back, mallinfo().uordblks).

const path = require('path');
const R = require('./reference');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HEAP_SLACK = 4096;

// The package, loaded by loadLibrary (the test file's own require of it
// gives the same module).
let lib = null;

// Loads the package and starts it on 2 threads.
async function loadLibrary() {
  lib = require(ROOT);
  await lib.init({ numThreads: 2 });
  if (typeof lib.heapStats !== 'function') {
    throw new Error('these tests need heapStats() in the public API: heapStats() -> { heapBytes, usedBytes }');
  }
  return lib;
}

function heap() {
  const h = lib.heapStats();
  return { heapBytes: h.heapBytes, usedBytes: h.usedBytes };
}

const DTYPES = ['float32', 'float64', 'float16', 'bfloat16'];

// Typed data of case c for dtype, and the float64 values the reference sees.
const { typed, decoded } = R;
function tolFor(dtype, absSum) {
  return { float32: R.f32Tol, float64: R.f64Tol, float16: R.f16Tol, bfloat16: R.bf16Tol }[dtype](absSum);
}

function withData(c, dtype) {
  return { ...c, dtype, xd: typed(c.x, dtype), wd: typed(c.w, dtype) };
}

function args(c) {
  const N = c.xShape.length - 2;
  return {
    strides: c.strides,
    padding: R.fullPadding(c.padding, c.channelsFirst),
    dataFormat: R.dataFormatFor(N, c.channelsFirst),
    dilations: c.dilations,
  };
}

function callOnce(c, overrides = {}) {
  const a = { ...args(c), ...overrides };
  const x = overrides.input || { data: c.xd, shape: c.xShape, dtype: c.dtype };
  const w = overrides.filters || { data: c.wd, shape: c.wShape, dtype: c.dtype };
  return lib.convTranspose(x, w, overrides.outShape || c.outShape, a.strides, a.padding, a.dataFormat, a.dilations);
}

function callPrepared(c, runs = 1) {
  const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
  try {
    let y;
    for (let r = 0; r < runs; r++) y = op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape);
    return y;
  } finally {
    op.dispose();
  }
}

function checkAgainstReference(c, y, label) {
  const ref = R.refFor(c, decoded(c.xd, c.dtype), decoded(c.wd, c.dtype));
  const got = c.dtype === 'float16' || c.dtype === 'bfloat16' ? R.decodeArray(y.data, c.dtype) : y.data;
  R.assertClose(got, ref.out, tolFor(c.dtype, ref.absSum), `${label}: ${R.describeCase(c)} ${c.dtype}`, c.outShape);
}

// A pool of small cases (1-D to 3-D, both layouts, all paddings and dtypes).
function smallCases(seed, count) {
  const rng = R.mulberry32(seed);
  const cases = [];
  for (let i = 0; i < count; i++) {
    const c = R.randomCase(rng, {
      N: 1 + (i % 3),
      channelsFirst: i % 4 === 3,
      dMax: 2,
      kMax: 3,
      inMax: 4,
      channels: [1, 2, 3, 5, 9],
      batchMax: 2,
    });
    cases.push(withData(c, DTYPES[i % 4]));
  }
  return cases;
}

module.exports = {
  ROOT,
  HEAP_SLACK,
  DTYPES,
  loadLibrary,
  heap,
  typed,
  decoded,
  tolFor,
  withData,
  args,
  callOnce,
  callPrepared,
  checkAgainstReference,
  smallCases,
};
