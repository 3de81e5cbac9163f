'use strict';
// Accuracy (issue 5, item 7): the worst error of float32, float16 and
// bfloat16 results (and float64, for completeness) against the float64
// reference over many random cases, checked against a bound derived from the
// accumulation length, and printed for the README.
//
// For output element i let n be its number of terms (taps that reach it times
// input channels; from the reference) and S = sum |x * w| over those terms.
//   float32:  |got - exact| <= gamma(n) * S,  gamma(n) = n u / (1 - n u), u = 2^-24.
//             Any order of float32 summation of n products is within
//             gamma(n) * S of the exact sum (Higham, Accuracy and Stability of
//             Numerical Algorithms, 2nd ed., section 3.1); the kernel's blocked
//             partial sums are one such order.
//   float16, bfloat16: the kernel accumulates in float32 (the 16-bit products
//             are exact there) and rounds once, to nearest even, so
//             |got - exact| <= gamma(n) * S + ulp16(got) / 2, with ulp16 the
//             spacing of 16-bit values at |got| (float16: 2^(e - 10), e >= -14;
//             bfloat16: 2^(e - 7), e >= -126).
//   float64:  the same with u = 2^-53.
// "exact" is the float64 reference, which is itself within gamma(n) * S
// (u = 2^-53) of the exact sum; that is added to every bound.
//
// Printed per dtype: the worst ratio error / bound (must be <= 1; also over
// outputs of >= 64 terms alone, where accumulation dominates), the worst
// error relative to S (normwise), and the worst relative error |got - ref| /
// |ref| (over outputs with |ref| >= S / 16, i.e. without heavy cancellation,
// and in the dtype's normal range, where a relative figure means something;
// and over all nonzero outputs).

const R = require('./helpers/reference');

let lib;
beforeAll(async () => {
  lib = require('../..');
  await lib.init({ numThreads: 2 });
});

const U32 = 2 ** -24;
const U64 = 2 ** -53;
const gamma = (n, u) => (n * u) / (1 - n * u);

function ulp16(dtype, v) {
  const a = Math.abs(v);
  const frac = dtype === 'float16' ? 10 : 7;
  const emin = dtype === 'float16' ? -14 : -126;
  let e = a === 0 ? emin : Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // guard log2 rounding
  if (a !== 0 && 2 ** (e + 1) <= a) e++;
  return 2 ** (Math.max(e, emin) - frac);
}

const { typed, decoded } = R;

// Value distributions: uniform in [-1, 1); all positive (no cancellation, the
// worst case for error growth relative to the result); and mixed magnitudes
// (x 2^-8 .. 2^8, heavy cancellation; float16: x 2^-6 .. 2^2, so that no sum
// of up to 1,600 terms reaches float16's largest value, 65504).
function redraw(values, kind, rng, dtype) {
  const out = new Float64Array(values.length);
  const [lo, hi] = dtype === 'float16' ? [-6, 2] : [-8, 8];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (kind === 'uniform') out[i] = v;
    else if (kind === 'positive') out[i] = Math.abs(v);
    else out[i] = v * 2 ** (lo + Math.floor(rng() * (hi - lo + 1)));
  }
  return out;
}

const KINDS = ['uniform', 'positive', 'mixed'];

function runCases(dtype, count, seed) {
  const rng = R.mulberry32(seed);
  const stats = {
    dtype, cases: 0, outputs: 0, maxTerms: 0,
    worstRatio: 0, worstRatioAt: '', worstRatioLong: 0, worstNormwise: 0, worstRel: 0, worstRelAll: 0, failures: [],
  };
  for (let k = 0; k < count; k++) {
    const N = 1 + (k % 3);
    // Long accumulations as well as short ones: up to 5x5 taps x 64 channels in 2-D.
    const deep = k % 4 === 0;
    const c = R.randomCase(rng, {
      N,
      channelsFirst: k % 5 === 4,
      sMax: 3,
      dMax: 2,
      kMax: N === 3 ? 3 : 5,
      inMax: N === 1 ? 12 : N === 2 ? 6 : 4,
      channels: deep ? (N === 3 ? [16, 32] : [32, 48, 64]) : [1, 2, 3, 4, 5, 8, 9, 17],
      batchMax: 2,
      Type: Float64Array,
    });
    const kind = KINDS[k % 3];
    // Values as the dtype stores them: the reference sees exactly those.
    const xs = decoded(typed(redraw(c.x, kind, rng, dtype), dtype), dtype);
    const ws = decoded(typed(redraw(c.w, kind, rng, dtype), dtype), dtype);
    const xd = typed(xs, dtype);
    const wd = typed(ws, dtype);
    const y = lib.convTranspose(
      { data: xd, shape: c.xShape, dtype },
      { data: wd, shape: c.wShape, dtype },
      c.outShape,
      c.strides,
      R.fullPadding(c.padding, c.channelsFirst),
      R.dataFormatFor(N, c.channelsFirst),
      c.dilations,
    );
    const got = decoded(y.data, dtype);
    const ref = R.refFor(c, xs, ws);
    const cin = c.wShape[c.wShape.length - 1];
    const u = dtype === 'float64' ? U64 : U32;
    const normalMin = { float16: 2 ** -14, bfloat16: 2 ** -126, float32: 2 ** -126, float64: 2 ** -1022 }[dtype];
    stats.cases++;
    for (let i = 0; i < ref.out.length; i++) {
      const n = ref.taps[i] * cin;
      const S = ref.absSum[i];
      const r = ref.out[i];
      const g = got[i];
      let bound = gamma(n, u) * S + gamma(n, U64) * S;
      if (dtype === 'float16' || dtype === 'bfloat16') bound += ulp16(dtype, g) / 2;
      const err = Math.abs(g - r);
      stats.outputs++;
      stats.maxTerms = Math.max(stats.maxTerms, n);
      if (n === 0) {
        // No term reaches it: exactly zero.
        if (g !== 0) stats.failures.push(`${R.describeCase(c)}: output ${i} has no terms but is ${g}`);
        continue;
      }
      const ratio = bound > 0 ? err / bound : err === 0 ? 0 : Infinity;
      if (!(ratio <= 1)) {
        if (stats.failures.length < 5) {
          stats.failures.push(`${R.describeCase(c)} ${kind}: output ${i} got ${g}, reference ${r}, error ${err}, bound ${bound} (n ${n}, S ${S})`);
        }
      }
      if (n >= 64) stats.worstRatioLong = Math.max(stats.worstRatioLong, ratio);
      if (ratio > stats.worstRatio) {
        stats.worstRatio = ratio;
        stats.worstRatioAt = `${R.describeCase(c)} ${kind}, n = ${n}`;
      }
      if (S > 0) stats.worstNormwise = Math.max(stats.worstNormwise, err / S);
      if (r !== 0) {
        const rel = err / Math.abs(r);
        stats.worstRelAll = Math.max(stats.worstRelAll, rel);
        if (Math.abs(r) >= S / 16 && Math.abs(r) >= normalMin) stats.worstRel = Math.max(stats.worstRel, rel);
      }
    }
  }
  return stats;
}

const report = [];

describe('accuracy against the float64 reference, bounded by the accumulation length', () => {
  test.each([
    ['float32', 240, 1101],
    ['float16', 240, 1102],
    ['bfloat16', 240, 1103],
    ['float64', 120, 1104],
  ])('%s: every output within its bound over %i random cases', (dtype, count, seed) => {
    const s = runCases(dtype, count, seed);
    report.push(s);
    expect(s.failures).toEqual([]);
    expect(s.worstRatio).toBeLessThanOrEqual(1);
  });

  afterAll(() => {
    const lines = report.map(
      (s) =>
        `${s.dtype.padEnd(8)} ${String(s.cases).padStart(4)} cases, ${String(s.outputs).padStart(7)} outputs, ` +
        `terms per output up to ${s.maxTerms}: worst error/bound ${s.worstRatio.toFixed(4)} ` +
        `(at ${s.worstRatioAt}), ${s.worstRatioLong.toFixed(4)} over outputs of >= 64 terms; worst |err|/S ${s.worstNormwise.toExponential(2)}; ` +
        `worst relative error ${s.worstRel.toExponential(2)} (|ref| >= S/16, normal range), ${s.worstRelAll.toExponential(2)} (all nonzero)`,
    );
    console.log(`accuracy (S = sum |x*w| of an output's terms):\n${lines.join('\n')}`);
  });
});

describe('every 16-bit pattern through the wasm build', () => {
  // One tap of weight 1 on one channel: output = round16(decode(x) * 1) must
  // give back x's bits for every non-NaN pattern (the decode to float32 is
  // exact, and so is the rounding of an exact 16-bit value), NaN for NaN;
  // -0 gives +0 (the sum starts at +0, as TensorFlow's does).
  // This runs the wasm decoders (eight, then four lanes at a time: 65541
  // values), which the native C++ tests cannot: their wasm shuffles differ.
  // Kernels: igemm reads a channels-last copy (contiguous spans), pixels a
  // planar one of the channels-first input (contiguous rows) or of the
  // channels-last input (widened in blocks, then transposed).
  const ONE = { float16: 0x3c00, bfloat16: 0x3f80 };
  const isNaN16 = (h, dtype) => (dtype === 'float16' ? (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0
    : (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0);
  test.each([
    ['float16', 'igemm', 'NWC'], ['float16', 'pixels', 'NCW'], ['float16', 'pixels', 'NWC'],
    ['bfloat16', 'igemm', 'NWC'], ['bfloat16', 'pixels', 'NCW'], ['bfloat16', 'pixels', 'NWC'],
  ])('%s, kernel %s, %s', (dtype, kernel, dataFormat) => {
    const n = 65536 + 5;
    const x = new Uint16Array(n);
    for (let i = 0; i < n; i++) x[i] = i & 0xffff;
    const shape = dataFormat === 'NWC' ? [1, n, 1] : [1, 1, n];
    const op = lib.createConvTranspose({ data: Uint16Array.of(ONE[dtype]), shape: [1, 1, 1], dtype },
      { strides: 1, padding: 'VALID', dataFormat, kernel });
    try {
      expect(op.kernel).toBe(kernel);
      const y = op.run({ data: x, shape, dtype }, shape).data;
      let bad = 0;
      let first = '';
      for (let i = 0; i < n; i++) {
        const ok = isNaN16(x[i], dtype) ? isNaN16(y[i], dtype) : y[i] === (x[i] === 0x8000 ? 0 : x[i]);
        if (!ok && bad++ === 0) first = `pattern 0x${x[i].toString(16)} gave 0x${y[i].toString(16)}`;
      }
      expect(first).toBe('');
      expect(bad).toBe(0);
    } finally {
      op.dispose();
    }
  });
});
