'use strict';
// conv-transpose-wasm against the independent float64 reference
// (tests/js/helpers/reference.js) for everything tfjs lacks: 1-D, channels
// first, dilations, explicit padding, the int / list-of-1 / N / N+2 forms of
// strides and dilations, float64 / float16 / bfloat16, tfjs tensors as input,
// outputs no tap reaches, larger (blocked-kernel) sizes, and the ESM entry.
//
// Tolerances (all element-wise, from helpers/reference.js):
//  * float32: |got - ref| <= 1e-5 * sum|x*w| + 1e-6. Float32 accumulation of n
//    terms in any order errs by at most ~n * 2^-24 * sum|x*w| (typically
//    ~sqrt(n) * 2^-24 * sum|x*w|); n <= ~1600 here. Values drawn in [-1, 1).
//  * float64: |got - ref| <= 1e-12 * sum|x*w| (same argument with 2^-53).
//  * float16: the float32 bound plus half a float16 ulp of the result
//    (2^-11 relative, 2^-25 absolute in the subnormal range): the library
//    accumulates in float32 and rounds once to nearest-even float16.
//  * bfloat16: the float32 bound plus half a bfloat16 ulp (2^-8 relative).
//  * Exactly representable sums (hand-computed cases, rounding-tie cases, and
//    outputs no tap reaches, which must be exactly 0) are compared exactly.

const path = require('path');
const { spawnSync } = require('child_process');
const tf = require('@tensorflow/tfjs');
const R = require('./helpers/reference');

const ROOT = path.resolve(__dirname, '..', '..');
let lib;
let initResult;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  lib = require('../..');
  initResult = await lib.init({ numThreads: 2 });
});

// Calls the library on case c. opts override the arguments:
// { dtype, x, w, strides, dilations, padding, dataFormat, name, fn }
function run(c, opts = {}) {
  const N = c.xShape.length - 2;
  const dtype = opts.dtype || 'float32';
  const input = opts.input || { data: opts.x || c.x, shape: c.xShape, dtype };
  const filters = opts.filters || { data: opts.w || c.w, shape: c.wShape, dtype };
  const fn = opts.fn || lib.convTranspose;
  return fn(
    input,
    filters,
    c.outShape,
    'strides' in opts ? opts.strides : c.strides,
    'padding' in opts ? opts.padding : R.fullPadding(c.padding, c.channelsFirst),
    'dataFormat' in opts ? opts.dataFormat : R.dataFormatFor(N, c.channelsFirst),
    'dilations' in opts ? opts.dilations : c.dilations,
    'name' in opts ? opts.name : null,
  );
}

function expectShape(res, c, dtype = 'float32', Type = Float32Array) {
  expect(res.dtype).toBe(dtype);
  expect(res.data).toBeInstanceOf(Type);
  expect(Array.from(res.shape)).toEqual(c.outShape);
  expect(res.data.length).toBe(R.prod(c.outShape));
}

// Runs c in float32 and compares with the float64 reference.
function checkF32(c, opts = {}) {
  const res = run(c, opts);
  expectShape(res, c);
  const { out, absSum } = R.refFor(c);
  R.assertClose(res.data, out, R.f32Tol(absSum), R.describeCase(c), c.outShape);
  return res;
}

const rows = (cases) => cases.map((c, i) => [i, R.describeCase(c), c]);

// ---------------------------------------------------------------------------

describe('init', () => {
  test('resolves to { backend, threads, simd }', () => {
    expect(typeof initResult).toBe('object');
    expect(typeof initResult.backend).toBe('string');
    expect(Number.isInteger(initResult.threads)).toBe(true);
    expect(initResult.threads).toBeGreaterThanOrEqual(1);
    expect(initResult.threads).toBeLessThanOrEqual(2); // asked for numThreads: 2
    expect(typeof initResult.simd).toBe('boolean');
  });
  test('a second init() resolves too and the module still works', async () => {
    const again = await lib.init();
    expect(typeof again).toBe('object');
    const c = R.makeCase(R.mulberry32(1), {
      channelsFirst: false, batch: 1, cin: 3, cout: 2, inSp: [3, 3], kSp: [2, 2],
      strides: [2, 2], dilations: [1, 1], padding: 'SAME', outSp: [6, 5],
    });
    checkF32(c);
  });
});

describe('hand-computed 1-D results (exact)', () => {
  // x = [1, 2, 3] (1 channel), small integer filters: all sums exact in float32.
  const x = new Float32Array([1, 2, 3]);
  const go = (w, out, s, padding, extra = {}) =>
    Array.from(
      lib.convTranspose(
        { data: x, shape: extra.dataFormat === 'NCW' ? [1, 1, 3] : [1, 3, 1] },
        { data: new Float32Array(w), shape: [w.length, 1, 1] },
        extra.dataFormat === 'NCW' ? [1, 1, out] : [1, out, 1],
        s,
        padding,
        extra.dataFormat || null,
        extra.dilations || null,
      ).data,
    );
  test('VALID stride 2 kernel 2, both legal output sizes', () => {
    expect(go([1, 10], 6, 2, 'VALID')).toEqual([1, 10, 2, 20, 3, 30]);
    expect(go([1, 10], 7, 2, 'VALID')).toEqual([1, 10, 2, 20, 3, 30, 0]);
  });
  test('SAME stride 2 kernel 2, outputs 5 and 6', () => {
    expect(go([1, 10], 5, 2, 'SAME')).toEqual([1, 10, 2, 20, 3]);
    expect(go([1, 10], 6, 2, 'SAME')).toEqual([1, 10, 2, 20, 3, 30]);
  });
  test('SAME stride 1 kernel 3 (pad before 1)', () => {
    expect(go([1, 10, 100], 3, 1, 'SAME')).toEqual([12, 123, 230]);
  });
  test('SAME stride 1 kernel 4 (total pad 3, before 1)', () => {
    // o = i + k - 1
    expect(go([1, 10, 100, 1000], 3, 1, 'SAME')).toEqual([
      1 * 10 + 2 * 1, 1 * 100 + 2 * 10 + 3 * 1, 1 * 1000 + 2 * 100 + 3 * 10,
    ]);
  });
  test('explicit [[0,0],[2,0],[0,0]] stride 1 kernel 3', () => {
    expect(go([1, 10, 100], 3, 1, [[0, 0], [2, 0], [0, 0]])).toEqual([123, 230, 300]);
  });
  test('VALID dilation 2 kernel 2 stride 1: o = i + 2k', () => {
    expect(go([1, 10], 5, 1, 'VALID', { dilations: 2 })).toEqual([1, 2, 13, 20, 30]);
  });
  test('NCW with one channel is the same data', () => {
    expect(go([1, 10], 6, 2, 'VALID', { dataFormat: 'NCW' })).toEqual([1, 10, 2, 20, 3, 30]);
  });
});

// ---------------------------------------------------------------------------
// Layouts, dilations, explicit padding
// ---------------------------------------------------------------------------

{
  const rng = R.mulberry32(1001);
  const nwc = Array.from({ length: 14 }, () => R.randomCase(rng, { N: 1, dMax: 3, kMax: 5, inMax: 9, batchMax: 3 }));
  const ncw = Array.from({ length: 14 }, () =>
    R.randomCase(rng, { N: 1, channelsFirst: true, dMax: 3, kMax: 5, inMax: 9, batchMax: 3 }),
  );
  describe('1-D NWC', () => test.each(rows(nwc))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  }));
  describe('1-D NCW', () => test.each(rows(ncw))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  }));

  const nchw = Array.from({ length: 12 }, () => R.randomCase(rng, { N: 2, channelsFirst: true, dMax: 2, kMax: 4 }));
  const ncdhw = Array.from({ length: 8 }, () =>
    R.randomCase(rng, { N: 3, channelsFirst: true, dMax: 2, kMax: 3, inMax: 4, channels: [1, 3, 5] }),
  );
  describe('2-D NCHW', () => test.each(rows(nchw))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  }));
  describe('3-D NCDHW', () => test.each(rows(ncdhw))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  }));

  // Dilations 2-3 together with strides 1-3.
  const dil = [];
  for (let t = 0; t < 16; t++) {
    const N = 1 + (t % 3);
    let c;
    do {
      c = R.randomCase(rng, {
        N,
        channelsFirst: t % 2 === 1,
        dMax: 3,
        kMax: N === 3 ? 3 : 4,
        inMax: N === 3 ? 4 : 6,
        channels: N === 3 ? [1, 3, 5] : [1, 3, 5, 17],
      });
    } while (!c.dilations.some((d) => d >= 2) || !c.strides.some((s) => s >= 2) || !c.kSp.some((k) => k >= 2));
    dil.push(c);
  }
  describe('dilations 2-3 with strides', () => test.each(rows(dil))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  }));

  // Explicit padding, asymmetric, including padding larger than the kernel.
  const expl = [];
  for (let t = 0; t < 14; t++) {
    const N = 1 + (t % 3);
    expl.push(
      R.randomCase(rng, {
        N,
        channelsFirst: t % 4 >= 2,
        paddings: ['EXPLICIT'],
        padMax: t < 7 ? 2 : 6,
        dMax: 2,
        kMax: N === 3 ? 3 : 4,
        inMax: N === 3 ? 4 : 6,
        channels: N === 3 ? [1, 3, 5] : [1, 3, 5, 17],
      }),
    );
  }
  describe('explicit padding', () => {
    test.each(rows(expl))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  });
    test('explicit all-zero padding equals VALID', () => {
      const c = R.randomCase(R.mulberry32(3), { N: 2, paddings: ['VALID'], sMax: 3, kMax: 4 });
      const a = run(c);
      const b = run(c, { padding: [[0, 0], [0, 0], [0, 0], [0, 0]] });
      const { absSum } = R.refFor(c);
      R.assertClose(b.data, a.data, (i) => 2 * (1e-5 * absSum[i] + 1e-6), 'explicit zero vs VALID');
    });
  });
}

// ---------------------------------------------------------------------------
// Argument forms
// ---------------------------------------------------------------------------

describe('strides / dilations forms give identical results', () => {
  const rng = R.mulberry32(2002);
  const forms = [];
  for (const N of [1, 2, 3]) {
    for (const cf of [false, true]) {
      for (const [s, d] of [
        [2, 1],
        [3, 2],
        [1, 3],
      ]) {
        const kSp = new Array(N).fill(N === 3 ? 2 : 3);
        const inSp = new Array(N).fill(N === 3 ? 3 : 4);
        const strides = new Array(N).fill(s);
        const dilations = new Array(N).fill(d);
        const outSp = inSp.map((inp, j) => R.legalOutputSizes(inp, kSp[j], s, d, 'SAME')[s - 1]);
        forms.push(
          R.makeCase(rng, {
            channelsFirst: cf, batch: 2, cin: 3, cout: 5, inSp, kSp, strides, dilations, padding: 'SAME', outSp,
          }),
        );
      }
    }
  }
  test.each(rows(forms))('case %i: %s', (_i, _d, c) => {
    const N = c.xShape.length - 2;
    const s = c.strides[0];
    const d = c.dilations[0];
    const full = (v) => (c.channelsFirst ? [1, 1, ...new Array(N).fill(v)] : [1, ...new Array(N).fill(v), 1]);
    const base = checkF32(c); // N-lists
    const variants = [
      { strides: s, dilations: d },
      { strides: [s], dilations: [d] },
      { strides: full(s), dilations: full(d) },
      { strides: [s], dilations: full(d) },
      { strides: full(s), dilations: d },
    ];
    if (d === 1) variants.push({ dilations: null }, { dilations: 1 }, { dilations: [1] });
    if (!c.channelsFirst) variants.push({ dataFormat: null });
    for (const v of variants) {
      const res = run(c, v);
      expect(Array.from(res.shape)).toEqual(c.outShape);
      expect([v, Array.from(res.data)]).toEqual([v, Array.from(base.data)]);
    }
  });

  test('per-dimension strides and dilations in N+2 form follow dataFormat order', () => {
    // Different values per dim, so a mix-up of the order would show.
    for (const cf of [false, true]) {
      const c = R.makeCase(rng, {
        channelsFirst: cf, batch: 1, cin: 2, cout: 3, inSp: [3, 4], kSp: [2, 3],
        strides: [2, 3], dilations: [3, 1], padding: 'VALID',
        outSp: [R.legalOutputSizes(3, 2, 2, 3, 'VALID')[1], R.legalOutputSizes(4, 3, 3, 1, 'VALID')[2]],
      });
      checkF32(c, { strides: cf ? [1, 1, 2, 3] : [1, 2, 3, 1], dilations: cf ? [1, 1, 3, 1] : [1, 3, 1, 1] });
      checkF32(c);
    }
  });
});

// ---------------------------------------------------------------------------
// Data types
// ---------------------------------------------------------------------------

describe('float64', () => {
  const rng = R.mulberry32(3003);
  const cases = [];
  for (let t = 0; t < 8; t++) {
    const N = 1 + (t % 3);
    cases.push(
      R.randomCase(rng, {
        N, channelsFirst: t >= 4, dMax: 2, kMax: N === 3 ? 3 : 4, inMax: N === 3 ? 4 : 6,
        channels: [1, 3, 5, 17], Type: Float64Array,
      }),
    );
  }
  test.each(rows(cases))('case %i: %s', (_i, _d, c) => {
    // Values are random doubles (not float32-representable), so computing in
    // float32 would err by ~1e-8, far above the float64 bound.
    const res = run(c, { dtype: 'float64' });
    expectShape(res, c, 'float64', Float64Array);
    const { out, absSum } = R.refFor(c);
    R.assertClose(res.data, out, R.f64Tol(absSum), R.describeCase(c), c.outShape);
  });
  test('keeps precision a float32 path would lose', () => {
    // 1 + 2^-40 is not a float32; a float32 path would return exactly 1.
    const res = lib.convTranspose(
      { data: new Float64Array([1 + 2 ** -40]), shape: [1, 1, 1], dtype: 'float64' },
      { data: new Float64Array([1]), shape: [1, 1, 1], dtype: 'float64' },
      [1, 1, 1],
      1,
      'VALID',
    );
    expect(res.data[0]).toBe(1 + 2 ** -40);
  });
});

describe.each([
  ['float16', R.f16Tol],
  ['bfloat16', R.bf16Tol],
])('%s', (dtype, tolFn) => {
  const rng = R.mulberry32(dtype === 'float16' ? 4004 : 5005);
  const cases = [];
  for (let t = 0; t < 8; t++) {
    const N = 1 + (t % 3);
    cases.push(
      R.randomCase(rng, {
        N, channelsFirst: t >= 4, dMax: 2, kMax: N === 3 ? 3 : 4, inMax: N === 3 ? 4 : 6, channels: [1, 3, 5, 17],
      }),
    );
  }
  test.each(rows(cases))('case %i: %s', (_i, _d, c) => {
    const xb = R.encodeArray(c.x, dtype);
    const wb = R.encodeArray(c.w, dtype);
    const res = run(c, { dtype, x: xb, w: wb });
    expectShape(res, c, dtype, Uint16Array);
    const { out, absSum } = R.refFor(c, R.decodeArray(xb, dtype), R.decodeArray(wb, dtype));
    R.assertClose(R.decodeArray(res.data, dtype), out, tolFn(absSum), R.describeCase(c), c.outShape);
  });

  test('rounds the float32 sum to nearest, ties to even', () => {
    // One output = x . w over 3 input channels with x = [1, 1, 1]; all sums
    // are exact in float32, so the only rounding is the final one.
    const h = dtype === 'float16' ? 2 ** -11 : 2 ** -8; // half an ulp at 1
    const enc = dtype === 'float16' ? R.f16Encode : R.bf16Encode;
    const one = enc(1);
    const cases2 = [
      [[1, h, 0], one], // tie -> even (down)
      [[1, 3 * h, 0], one + 2], // tie -> even (up)
      [[1, h, h / 4], one + 1], // above the tie -> up (truncation would give `one`)
      [[1, h / 2, 0], one], // below the tie -> down
      [[-1, -3 * h, 0], enc(-1) + 2], // negative tie -> even (away from zero here)
    ];
    for (const [w, bits] of cases2) {
      const res = lib.convTranspose(
        { data: R.encodeArray([1, 1, 1], dtype), shape: [1, 1, 3], dtype },
        { data: R.encodeArray(w, dtype), shape: [1, 1, 3], dtype },
        [1, 1, 1],
        1,
        'VALID',
      );
      expect(res.dtype).toBe(dtype);
      expect([w, res.data[0]]).toEqual([w, bits]);
    }
  });
});

// ---------------------------------------------------------------------------
// Input kinds and the alias
// ---------------------------------------------------------------------------

describe('input kinds', () => {
  const rng = R.mulberry32(6006);
  const c = R.randomCase(rng, { N: 2, paddings: ['SAME'], sMax: 2, kMax: 3, channels: [3, 5] });
  const c3 = R.randomCase(rng, { N: 3, paddings: ['VALID'], sMax: 2, kMax: 2, inMax: 3, channels: [3] });

  test('tfjs tensors as input and filters', () => {
    for (const cc of [c, c3]) {
      const xt = tf.tensor(cc.x, cc.xShape, 'float32');
      const wt = tf.tensor(cc.w, cc.wShape, 'float32');
      try {
        checkF32(cc, { input: xt, filters: wt });
        checkF32(cc, { input: xt }); // mixed
        checkF32(cc, { filters: wt });
      } finally {
        xt.dispose();
        wt.dispose();
      }
    }
  });

  test('Float32Array views with a byteOffset are read from their offset', () => {
    const bigX = new Float32Array(c.x.length + 7).fill(1000);
    bigX.set(c.x, 5);
    const bigW = new Float32Array(c.w.length + 9).fill(-1000);
    bigW.set(c.w, 3);
    checkF32(c, { x: bigX.subarray(5, 5 + c.x.length), w: bigW.subarray(3, 3 + c.w.length) });
  });

  test('dtype omitted means float32', () => {
    const res = lib.convTranspose(
      { data: c.x, shape: c.xShape },
      { data: c.w, shape: c.wShape },
      c.outShape,
      c.strides,
      'SAME',
    );
    expectShape(res, c);
    const { out, absSum } = R.refFor(c);
    R.assertClose(res.data, out, R.f32Tol(absSum), 'defaults');
  });

  test('inputs are not modified and results are independent copies', () => {
    const x0 = c.x.slice();
    const w0 = c.w.slice();
    const r1 = run(c);
    const r1copy = r1.data.slice();
    // Another call (different values and size) must not change r1.
    const other = R.randomCase(rng, { N: 2, sMax: 3, kMax: 4, channels: [17] });
    run(other);
    run(c, { x: c.x.map((v) => -v) });
    expect(Array.from(r1.data)).toEqual(Array.from(r1copy));
    expect(Array.from(c.x)).toEqual(Array.from(x0));
    expect(Array.from(c.w)).toEqual(Array.from(w0));
  });

  test('conv_transpose is the same operation as convTranspose', () => {
    expect(typeof lib.conv_transpose).toBe('function');
    const a = run(c);
    const b = run(c, { fn: lib.conv_transpose });
    expect(b.dtype).toBe(a.dtype);
    expect(Array.from(b.shape)).toEqual(Array.from(a.shape));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    // All 8 positional arguments, including dilations and name.
    const d = R.randomCase(rng, { N: 1, channelsFirst: true, dMax: 3, kMax: 3 });
    checkF32(d, { fn: lib.conv_transpose, name: 'alias_check' });
  });
});

// ---------------------------------------------------------------------------
// Outputs no tap reaches must be exactly 0
// ---------------------------------------------------------------------------

describe('outputs reached by no tap are exactly zero', () => {
  const rng = R.mulberry32(7007);
  const cases = [
    // kernel 1, stride 3: two of every three outputs get nothing
    R.makeCase(rng, {
      channelsFirst: false, batch: 2, cin: 5, cout: 3, inSp: [4, 5], kSp: [1, 1],
      strides: [3, 3], dilations: [1, 1], padding: 'SAME', outSp: [12, 14],
    }),
    R.makeCase(rng, {
      channelsFirst: true, batch: 1, cin: 17, cout: 4, inSp: [3, 3, 2], kSp: [1, 1, 1],
      strides: [3, 3, 2], dilations: [1, 1, 1], padding: 'VALID', outSp: [9, 7, 4],
    }),
    // kernel 2 dilation 4 stride 3: taps land on a sparse pattern
    R.makeCase(rng, {
      channelsFirst: false, batch: 1, cin: 3, cout: 5, inSp: [5], kSp: [2],
      strides: [3], dilations: [4], padding: 'VALID', outSp: [19],
    }),
    // VALID with the largest legal output: a tail no tap reaches
    R.makeCase(rng, {
      channelsFirst: false, batch: 1, cin: 4, cout: 4, inSp: [3, 3], kSp: [2, 2],
      strides: [3, 3], dilations: [1, 1], padding: 'VALID', outSp: [10, 9],
    }),
    // explicit padding larger than the kernel reach
    R.makeCase(rng, {
      channelsFirst: false, batch: 1, cin: 3, cout: 3, inSp: [6], kSp: [1],
      strides: [2], dilations: [1], padding: [[0, 3]], outSp: [9],
    }),
  ];
  test.each(rows(cases))('case %i: %s', (_i, _d, c) => {
    // First run something big with non-zero output so stale memory would show.
    const big = R.makeCase(rng, {
      channelsFirst: false, batch: 2, cin: 8, cout: 17, inSp: [8, 8], kSp: [3, 3],
      strides: [2, 2], dilations: [1, 1], padding: 'SAME', outSp: [16, 16],
    });
    big.x.fill(1);
    big.w.fill(1);
    run(big);
    const res = checkF32(c);
    const { taps } = R.refFor(c);
    let zeros = 0;
    const bad = [];
    for (let i = 0; i < taps.length; i++) {
      if (taps[i] === 0) {
        zeros++;
        if (res.data[i] !== 0) bad.push([R.unflatten(i, c.outShape), res.data[i]]);
      }
    }
    expect(zeros).toBeGreaterThan(0);
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Larger cases (blocked / vectorised / threaded paths)
// ---------------------------------------------------------------------------

describe('larger cases', () => {
  const rng = R.mulberry32(8008);
  const big = [
    // 2-D, 64 -> 32 channels, 16x16 input, k3 s2 SAME, batch 2
    R.makeCase(rng, {
      channelsFirst: false, batch: 2, cin: 64, cout: 32, inSp: [16, 16], kSp: [3, 3],
      strides: [2, 2], dilations: [1, 1], padding: 'SAME', outSp: [32, 31],
    }),
    R.makeCase(rng, {
      channelsFirst: true, batch: 1, cin: 64, cout: 32, inSp: [16, 16], kSp: [3, 3],
      strides: [2, 2], dilations: [1, 1], padding: 'SAME', outSp: [32, 32],
    }),
    // odd sizes everywhere, k5 s1 (1600 terms per output)
    R.makeCase(rng, {
      channelsFirst: false, batch: 3, cin: 67, cout: 33, inSp: [9, 11], kSp: [5, 5],
      strides: [1, 1], dilations: [1, 1], padding: 'SAME', outSp: [9, 11],
    }),
    // k4 s2 VALID (the usual GAN upsampler), 48 -> 24
    R.makeCase(rng, {
      channelsFirst: false, batch: 1, cin: 48, cout: 24, inSp: [12, 10], kSp: [4, 4],
      strides: [2, 2], dilations: [1, 1], padding: 'VALID', outSp: [26, 23],
    }),
    // 3-D 32 -> 16, 6^3, k3 s2
    R.makeCase(rng, {
      channelsFirst: false, batch: 1, cin: 32, cout: 16, inSp: [6, 6, 6], kSp: [3, 3, 3],
      strides: [2, 2, 2], dilations: [1, 1, 1], padding: 'SAME', outSp: [12, 11, 12],
    }),
    R.makeCase(rng, {
      channelsFirst: true, batch: 2, cin: 20, cout: 12, inSp: [5, 4, 6], kSp: [3, 2, 3],
      strides: [1, 2, 3], dilations: [2, 1, 1], padding: 'VALID', outSp: [9, 9, 20],
    }),
    // 1-D long
    R.makeCase(rng, {
      channelsFirst: false, batch: 2, cin: 48, cout: 40, inSp: [200], kSp: [7],
      strides: [3], dilations: [2], padding: 'SAME', outSp: [599],
    }),
  ];
  test.each(rows(big))('case %i: %s', (_i, _d, c) => {
    checkF32(c);
  });
});

// ---------------------------------------------------------------------------
// Entry points in a separate Node process
// ---------------------------------------------------------------------------

describe('every fast kernel, forced, against the reference', () => {
  // The core picks one of four kernels by the channel counts and the width
  // window; the prepared form's `kernel` option forces one, so each is
  // checked on the same cases (igemm: all; dot and pixels: 1-4 output
  // channels; columns: width kernel a multiple of a width stride >= 2,
  // width dilation 1). float32 bound as above.
  const rng = R.mulberry32(4400);
  const cases = [];
  for (let i = 0; i < 24; i++) {
    cases.push(R.randomCase(rng, { N: 1 + (i % 3), channelsFirst: i % 4 === 3, dMax: 2, channels: [1, 2, 3, 4, 8, 24, 33] }));
  }
  // Width kernels that are multiples of the stride: a 64-tap stride-8 signal
  // filter (SAME pads 28: macro pixels cut at both ends), 4x4 / 2, channels first, 3-D.
  const fold = (o) => R.makeCase(rng, { batch: 1, dilations: o.kSp.map(() => 1), ...o });
  cases.push(
    fold({ channelsFirst: false, cin: 1, cout: 1, inSp: [150], kSp: [64], strides: [8], padding: 'SAME', outSp: [1200] }),
    fold({ channelsFirst: true, cin: 17, cout: 2, inSp: [40], kSp: [8], strides: [4], padding: 'VALID', outSp: [164] }),
    fold({ channelsFirst: false, cin: 24, cout: 3, inSp: [7, 9], kSp: [4, 4], strides: [2, 2], padding: 'SAME', outSp: [14, 18] }),
    fold({ channelsFirst: true, cin: 5, cout: 8, inSp: [3, 4, 5], kSp: [3, 2, 6], strides: [2, 1, 3], padding: 'SAME', outSp: [6, 4, 15] }),
  );
  const foldsWidth = (c) => {
    const N = c.xShape.length - 2;
    const s = c.strides[N - 1], d = c.dilations[N - 1], k = c.wShape[N - 1];
    return s >= 2 && d === 1 && k % s === 0;
  };
  test('the width-folding cases are served by the columns kernel', () => {
    expect(cases.filter(foldsWidth).length).toBeGreaterThanOrEqual(4);
  });
  test.each(rows(cases))('case %i: %s', (i, desc, c) => {
    const N = c.xShape.length - 2;
    const cout = c.wShape[N];
    const kernels = [...(cout <= 4 ? ['igemm', 'dot', 'pixels'] : ['igemm']), ...(foldsWidth(c) ? ['columns'] : [])];
    const { out, absSum } = R.refFor(c);
    for (const kernel of kernels) {
      const op = lib.createConvTranspose({ data: c.w, shape: c.wShape }, {
        strides: c.strides, padding: R.fullPadding(c.padding, c.channelsFirst), dataFormat: R.dataFormatFor(N, c.channelsFirst),
        dilations: c.dilations, kernel,
      });
      try {
        expect(op.kernel).toBe(kernel);
        const res = op.run({ data: c.x, shape: c.xShape }, c.outShape);
        R.assertClose(res.data, out, R.f32Tol(absSum), `${desc} (kernel ${kernel})`, c.outShape);
      } finally {
        op.dispose();
      }
    }
  });

  test("'auto' names the kernel the core chose", () => {
    const op = lib.createConvTranspose({ data: new Float32Array(9 * 3 * 64), shape: [3, 3, 3, 64] }, { strides: 2 });
    expect(['dot', 'pixels', 'igemm', 'columns']).toContain(op.kernel);
    op.dispose();
  });
});

describe('package entry points (child process)', () => {
  // Tiny case: x = [1, 2, 3], w = [1, 10], stride 2, VALID -> [1, 10, 2, 20, 3, 30].
  const body = (imp) => `
    ${imp}
    const info = await init({ numThreads: 2 });
    const r = convTranspose({ data: new Float32Array([1, 2, 3]), shape: [1, 3, 1] },
      { data: new Float32Array([1, 10]), shape: [2, 1, 1] }, [1, 6, 1], 2, 'VALID');
    console.log(JSON.stringify({ same: convTranspose === conv_transpose || typeof conv_transpose === 'function',
      data: Array.from(r.data), shape: Array.from(r.shape), threads: info.threads }));
  `;
  const runNode = (args, code) =>
    spawnSync(process.execPath, [...args, code], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });

  test.each([
    ['ESM import by package name', ['--input-type=module', '-e'],
      body("import { init, convTranspose, conv_transpose } from 'conv-transpose-wasm';")],
    ['CommonJS require by package name', ['-e'],
      `(async () => { ${body("const { init, convTranspose, conv_transpose } = require('conv-transpose-wasm');")} })()` +
        '.catch((e) => { console.error(e); process.exit(1); });'],
  ])('%s works and the process exits by itself (threads do not keep it alive)', (_n, args, code) => {
    const r = runNode(args, code);
    if (r.error) throw new Error(`child failed: ${r.error.message}\nstderr: ${r.stderr}`);
    expect({ status: r.status, signal: r.signal, stderr: r.status ? r.stderr : '' }).toEqual({
      status: 0, signal: null, stderr: '',
    });
    const line = r.stdout.trim().split('\n').pop();
    const out = JSON.parse(line);
    expect(out.data).toEqual([1, 10, 2, 20, 3, 30]);
    expect(out.shape).toEqual([1, 6, 1]);
    expect(out.same).toBe(true);
  });
});
