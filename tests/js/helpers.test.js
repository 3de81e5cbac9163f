'use strict';
// Self-checks of the test helpers (does not load the library): the float64
// reference must be right for the other files' verdicts to mean anything.

const tf = require('@tensorflow/tfjs');
const R = require('./helpers/reference');

describe('float16 codec', () => {
  test.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    [65520, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: even is 0
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 (x 2^-24): even is 2
    [1023.5 * 2 ** -24, 0x0400], // tie between subnormal 1023 and normal 1024: even
    [1 + 2 ** -11, 0x3c00], // tie: even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie: even mantissa 2
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [2 - 2 ** -12, 0x4000], // rounds up into the next binade
    [0.1, 0x2e66],
    [-3.140625, 0xc248],
  ])('encode %p -> 0x%s', (v, bits) => {
    expect(R.f16Encode(v)).toBe(bits);
  });

  test('decode(encode(v)) is within half an ulp and every finite code round-trips', () => {
    const bad = [];
    for (let b = 0; b < 0x10000; b++) {
      const v = R.f16Decode(b);
      if (Number.isNaN(v)) continue;
      if (R.f16Encode(v) !== b) bad.push(b);
    }
    expect(bad).toEqual([]);
    const rng = R.mulberry32(5);
    for (let t = 0; t < 2000; t++) {
      const v = (rng() * 2 - 1) * 2 ** R.randInt(rng, -26, 15);
      const d = R.f16Decode(R.f16Encode(v));
      const ulp = Math.abs(v) < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(Math.abs(v))) - 10);
      if (!(Math.abs(d - v) <= ulp / 2)) bad.push(v);
    }
    expect(bad).toEqual([]);
  });
});

describe('bfloat16 codec', () => {
  test.each([
    [0, 0x0000],
    [1, 0x3f80],
    [-2, 0xc000],
    [1 + 2 ** -8, 0x3f80], // tie: even
    [1 + 3 * 2 ** -8, 0x3f82], // tie: even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81],
    [3.140625, 0x4049],
    [Infinity, 0x7f80],
  ])('encode %p -> 0x%s', (v, bits) => {
    expect(R.bf16Encode(v)).toBe(bits);
  });
  test('every finite code round-trips', () => {
    const bad = [];
    for (let b = 0; b < 0x10000; b++) {
      const v = R.bf16Decode(b);
      if (Number.isNaN(v)) continue;
      if (R.bf16Encode(v) !== b) bad.push(b);
    }
    expect(bad).toEqual([]);
  });
});

describe('output-size rules', () => {
  test('SAME, input 3, stride 2: legal outputs are 5 and 6 only', () => {
    expect(R.legalOutputSizes(3, 3, 2, 1, 'SAME')).toEqual([5, 6]);
  });
  test('VALID, input 3, kernel 3, stride 2: legal outputs are 7 and 8', () => {
    expect(R.legalOutputSizes(3, 3, 2, 1, 'VALID')).toEqual([7, 8]);
  });
  test('VALID with dilation 2, kernel 3 (eff 5), input 2, stride 3', () => {
    expect(R.legalOutputSizes(2, 3, 3, 2, 'VALID')).toEqual([8, 9, 10]);
  });
  test('explicit padding [1, 2], kernel 3, input 4, stride 2', () => {
    // floor((out + 3 - 3 + 2) / 2) == 4  <=>  out in {6, 7}
    expect(R.legalOutputSizes(4, 3, 2, 1, [1, 2])).toEqual([6, 7]);
  });
  test('exactly `stride` legal sizes', () => {
    for (const pad of ['SAME', 'VALID', [0, 1], [2, 2]]) {
      for (let s = 1; s <= 4; s++) {
        for (let k = 1; k <= 5; k++) {
          for (let inp = 1; inp <= 6; inp++) {
            const lo = (inp - 1) * s + k - (Array.isArray(pad) ? pad[0] + pad[1] : 0);
            if (lo < 0) continue; // padding so large no output size is legal
            expect(R.legalOutputSizes(inp, k, s, 1, pad).length).toBe(s);
          }
        }
      }
    }
  });
});

describe('reference: hand-computed 1-D examples', () => {
  const x = [1, 2, 3];
  const run = (w, outSize, s, padding) =>
    Array.from(
      R.convTransposeRef({
        x,
        xShape: [1, 3, 1],
        w,
        wShape: [w.length, 1, 1],
        outShape: [1, outSize, 1],
        strides: [s],
        dilations: [1],
        padding,
        channelsFirst: false,
      }).out,
    );
  test('VALID stride 2 kernel 2', () => {
    expect(run([1, 10], 6, 2, 'VALID')).toEqual([1, 10, 2, 20, 3, 30]);
    expect(run([1, 10], 7, 2, 'VALID')).toEqual([1, 10, 2, 20, 3, 30, 0]);
  });
  test('SAME stride 2 kernel 2, output 5 (total pad 1, before 0)', () => {
    expect(run([1, 10], 5, 2, 'SAME')).toEqual([1, 10, 2, 20, 3]);
  });
  test('SAME stride 1 kernel 3 (pad before 1)', () => {
    expect(run([1, 10, 100], 3, 1, 'SAME')).toEqual([12, 123, 230]);
  });
  test('explicit [2, 0] stride 1 kernel 3', () => {
    // o = i + k - 2, out size 3 + 3 - 1 - 2 = 3
    expect(run([1, 10, 100], 3, 1, [[2, 0]])).toEqual([1 * 100 + 2 * 10 + 3 * 1, 2 * 100 + 3 * 10, 300]);
  });
  test('SAME stride 3 kernel 1: gaps are zero', () => {
    // out 9: in = 3, total = max(0, 2*3 + 1 - 9) = 0
    expect(run([2], 9, 3, 'SAME')).toEqual([2, 0, 0, 4, 0, 0, 6, 0, 0]);
  });
});

// Forward convolution (gather form) with the same padding rule, used to check
// the reference against the adjoint identity <T(x), y> = <x, F(y)>, where T is
// the transposed convolution and F the forward convolution of the output-shaped
// tensor y (TF defines conv_transpose as the gradient of the forward conv).
function forwardConv(c, y) {
  const N = c.xShape.length - 2;
  const xs = R.splitShape(c.xShape, c.channelsFirst);
  const os = R.splitShape(c.outShape, c.channelsFirst);
  const kSp = c.wShape.slice(0, N);
  const xSt = R.rowMajorStrides(c.xShape);
  const oSt = R.rowMajorStrides(c.outShape);
  const wSt = R.rowMajorStrides(c.wShape);
  const pads = os.spatial.map((o, j) =>
    R.padBefore(o, kSp[j], c.strides[j], c.dilations[j], Array.isArray(c.padding) ? c.padding[j] : c.padding),
  );
  const res = new Float64Array(R.prod(c.xShape));
  for (let n = 0; n < xs.batch; n++) {
    R.forEachIndex(xs.spatial, (i) => {
      for (let ci = 0; ci < xs.channels; ci++) {
        let acc = 0;
        R.forEachIndex(kSp, (k) => {
          let yOff = n * oSt[0];
          for (let j = 0; j < N; j++) {
            const p = i[j] * c.strides[j] - pads[j] + k[j] * c.dilations[j];
            if (p < 0 || p >= os.spatial[j]) return;
            yOff += p * oSt[os.spatialAxes[j]];
          }
          let wOff = ci;
          for (let j = 0; j < N; j++) wOff += k[j] * wSt[j];
          for (let co = 0; co < os.channels; co++) {
            acc += y[yOff + co * oSt[os.channelAxis]] * c.w[wOff + co * wSt[N]];
          }
        });
        let xOff = n * xSt[0] + ci * xSt[xs.channelAxis];
        for (let j = 0; j < N; j++) xOff += i[j] * xSt[xs.spatialAxes[j]];
        res[xOff] = acc;
      }
    });
  }
  return res;
}

describe('reference: adjoint identity with a forward convolution', () => {
  const rng = R.mulberry32(99);
  const cases = [];
  for (let t = 0; cases.length < 30; t++) {
    const N = 1 + (t % 3);
    const channelsFirst = t % 2 === 1;
    const strides = Array.from({ length: N }, () => R.randInt(rng, 1, 3));
    const dilations = Array.from({ length: N }, () => R.randInt(rng, 1, 3));
    const kSp = Array.from({ length: N }, () => R.randInt(rng, 1, 3));
    const inSp = Array.from({ length: N }, () => R.randInt(rng, 1, 4));
    let padding = R.pick(rng, ['SAME', 'VALID', 'EXPLICIT']);
    if (padding === 'EXPLICIT') padding = Array.from({ length: N }, () => [R.randInt(rng, 0, 3), R.randInt(rng, 0, 3)]);
    const outSp = inSp.map((inp, j) => {
      const legal = R.legalOutputSizes(inp, kSp[j], strides[j], dilations[j], Array.isArray(padding) ? padding[j] : padding);
      return legal.length ? R.pick(rng, legal) : -1;
    });
    // Large explicit padding can leave no legal (non-negative) output size.
    if (outSp.includes(-1)) continue;
    cases.push(
      R.makeCase(rng, {
        channelsFirst,
        batch: R.randInt(rng, 1, 2),
        cin: R.randInt(rng, 1, 3),
        cout: R.randInt(rng, 1, 3),
        inSp,
        kSp,
        strides,
        dilations,
        padding,
        outSp,
        Type: Float64Array,
      }),
    );
  }
  test.each(cases.map((c, i) => [i, R.describeCase(c), c]))('case %i: %s', (_i, _d, c) => {
    const T = R.refFor(c).out;
    const y = R.randomArray(rng, T.length, Float64Array);
    const Fy = forwardConv(c, y);
    let lhs = 0;
    let rhs = 0;
    let mag = 0;
    for (let i = 0; i < T.length; i++) {
      lhs += T[i] * y[i];
      mag += Math.abs(T[i] * y[i]);
    }
    for (let i = 0; i < c.x.length; i++) {
      rhs += c.x[i] * Fy[i];
      mag += Math.abs(c.x[i] * Fy[i]);
    }
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * mag + 1e-300);
    // and the forward conv of a tensor of the output's size gives the input's size
    c.outSp.forEach((o, j) => {
      const pj = Array.isArray(c.padding) ? c.padding[j] : c.padding;
      expect(R.forwardSize(o, c.kSp[j], c.strides[j], c.dilations[j], pj)).toBe(c.inSp[j]);
    });
  });
});

describe('reference vs tfjs conv2dTranspose (checks the reference, not the library)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  const rng = R.mulberry32(4242);
  const cases = [];
  for (let t = 0; t < 20; t++) {
    const strides = [R.randInt(rng, 1, 3), R.randInt(rng, 1, 3)];
    const kSp = [R.randInt(rng, 1, 5), R.randInt(rng, 1, 5)];
    const inSp = [R.randInt(rng, 1, 5), R.randInt(rng, 1, 5)];
    const padding = t % 2 ? 'SAME' : 'VALID';
    const outSp = inSp.map((inp, j) => R.pick(rng, R.legalOutputSizes(inp, kSp[j], strides[j], 1, padding)));
    cases.push(
      R.makeCase(rng, {
        channelsFirst: false,
        batch: 2,
        cin: 3,
        cout: 2,
        inSp,
        kSp,
        strides,
        dilations: [1, 1],
        padding,
        outSp,
      }),
    );
  }
  test.each(cases.map((c, i) => [i, R.describeCase(c), c]))('case %i: %s', (_i, _d, c) => {
    const { out, absSum } = R.refFor(c);
    const got = tf.tidy(() =>
      tf
        .conv2dTranspose(tf.tensor(c.x, c.xShape), tf.tensor(c.w, c.wShape), c.outShape, c.strides, c.padding.toLowerCase())
        .dataSync()
        .slice(),
    );
    R.assertClose(got, out, R.f32Tol(absSum), R.describeCase(c), c.outShape);
  });
});
