'use strict';
// A prepared operator's runs: into a caller's output array, and over input
// shapes that change between runs.

const R = require('./helpers/reference');
const { loadLibrary, withData, args, checkAgainstReference, smallCases } = require('./helpers/calls');

let lib;

beforeAll(async () => {
  lib = await loadLibrary();
});

describe('prepared run into a caller\'s output array', () => {
  // The result lands in the given array (returned as the tensor's data) with
  // the same values as a run that allocates, every dtype, against the
  // float64 reference with the dtype's tolerance; the array is reused.
  const cases = smallCases(520, 24);
  test.each(cases.map((c, i) => [i, `${R.describeCase(c)} ${c.dtype}`, c]))('case %i: %s', (_i, _d, c) => {
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    try {
      const x = { data: c.xd, shape: c.xShape, dtype: c.dtype };
      const fresh = op.run(x, c.outShape);
      const out = new c.xd.constructor(fresh.data.length).fill(7);
      for (let r = 0; r < 2; r++) {
        const y = op.run(x, c.outShape, { output: out });
        expect(y.data).toBe(out);
        expect(y.shape).toEqual(c.outShape);
        expect(Array.from(out)).toEqual(Array.from(fresh.data));
        checkAgainstReference(c, y, 'into output');
      }
    } finally {
      op.dispose();
    }
  });

  test('options that are not an object are an ArgumentError; the operator still runs', () => {
    const c = cases[0];
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    try {
      const x = { data: c.xd, shape: c.xShape, dtype: c.dtype };
      expect(() => op.run(x, c.outShape, 5)).toThrow(lib.ArgumentError);
      expect(() => op.run(x, c.outShape, 5)).toThrow(/options to be an object like \{ output \}, got 5/);
      expect(() => op.run(x, c.outShape, { output: [1, 2, 3] })).toThrow(/options\.output must be a \w+ for dtype \w+, got Array/);
      checkAgainstReference(c, op.run(x, c.outShape), 'after bad options');
    } finally {
      op.dispose();
    }
  });
});

describe('a prepared operator over changing shapes', () => {
  // The operator keeps the core's plan of its last shapes; a call with other
  // shapes (or a failing one) must neither reuse it nor lose it.
  test('input sizes A, B, failing, A, B: each result matches the float64 reference', () => {
    const rng = R.mulberry32(530);
    const spec = (inSp, outSp) => ({ channelsFirst: false, batch: 1, cin: 3, cout: 2, kSp: [3, 3], strides: [2, 2], dilations: [1, 1], padding: 'SAME', inSp, outSp });
    const a = withData(R.makeCase(rng, spec([4, 5], [8, 10])), 'float32');
    const b = withData({ ...R.makeCase(rng, spec([7, 3], [13, 6])), w: a.w }, 'float32');
    const op = lib.createConvTranspose({ data: a.wd, shape: a.wShape }, args(a));
    try {
      const runCase = (c) => checkAgainstReference(c, op.run({ data: c.xd, shape: c.xShape }, c.outShape), 'changing shapes');
      runCase(a);
      runCase(b);
      expect(() => op.run({ data: a.xd, shape: a.xShape }, [1, 9, 10, 2])).toThrow(/output_shape/);
      runCase(a);
      runCase(a);
      runCase(b);
    } finally {
      op.dispose();
    }
  });
});
