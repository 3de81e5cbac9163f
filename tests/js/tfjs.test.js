'use strict';
// conv-transpose-wasm against @tensorflow/tfjs (cpu backend) conv2dTranspose /
// conv3dTranspose on seeded random cases.
//
// Where tfjs departs from TensorFlow (TensorFlow is the spec):
//  * tfjs cpu conv3dTranspose with SAME padding computes the total padding as
//    (ceil(out/s) - 1) * s + k - out WITHOUT TensorFlow's max(0, ...) clamp, so
//    when the kernel is smaller than the stride that total can be negative and
//    tfjs shifts the output. Those 3-D cases are NOT compared with tfjs; they
//    are compared with the float64 reference (tests/js/helpers/reference.js)
//    instead. (tfjs's 2-D path does clamp, so every 2-D case uses tfjs.)
//  * tfjs accepts some output sizes TensorFlow rejects (e.g. SAME, input 3,
//    stride 2, output 7). Only TF-legal output sizes are generated here (all
//    `stride` of them per dimension, via legalOutputSizes), so none of those
//    are compared; errors.test.js checks that the library rejects them.
//  * tfjs-backend-wasm's conv3dTranspose is wrong, so only the cpu backend is
//    used.
//
// Tolerance: both results are float32 sums of the same products in different
// orders. Each deviates from the exact sum by at most ~1e-5 * sum|x*w| (+1e-6)
// for these short accumulations (see f32Tol in helpers/reference.js), so they
// may differ from each other by twice that.

const tf = require('@tensorflow/tfjs');
const R = require('./helpers/reference');

let lib;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  lib = require('../..');
  await lib.init();
});

const CHANNELS = [1, 3, 5, 17];

// Pads sum of two float32 results' deviations from exact (see header).
function pairTol(absSum) {
  return (i) => 2 * (R.F32_REL_OF_ABSSUM * absSum[i] + R.F32_ATOL);
}

// Generates a channels-last case. opts may fix: strides[], kSp[], padding,
// offsets[] (index into the list of legal output sizes per dim), inSp[],
// batch, cin, cout.
function genCase(rng, N, opts = {}) {
  const maxIn = N === 2 ? 7 : 4;
  const maxK = N === 2 ? 5 : 4;
  const channels = N === 2 ? CHANNELS : [1, 3, 5];
  const strides = opts.strides || Array.from({ length: N }, () => R.randInt(rng, 1, 3));
  const kSp = opts.kSp || Array.from({ length: N }, () => R.randInt(rng, 1, maxK));
  const padding = opts.padding || R.pick(rng, ['SAME', 'VALID']);
  const inSp = opts.inSp || Array.from({ length: N }, () => R.randInt(rng, 1, maxIn));
  const dilations = new Array(N).fill(1);
  const outSp = inSp.map((inp, j) => {
    const legal = R.legalOutputSizes(inp, kSp[j], strides[j], 1, padding);
    if (legal.length !== strides[j]) throw new Error('expected exactly `stride` legal sizes');
    const off = opts.offsets ? opts.offsets[j] : R.randInt(rng, 0, strides[j] - 1);
    return legal[off % legal.length];
  });
  return R.makeCase(rng, {
    channelsFirst: false,
    batch: opts.batch || R.randInt(rng, 1, 3),
    cin: opts.cin || R.pick(rng, channels),
    cout: opts.cout || R.pick(rng, channels),
    inSp,
    kSp,
    strides,
    dilations,
    padding,
    outSp,
  });
}

// True when tfjs's unclamped SAME padding differs from TF's (3-D only).
function tfjsSameDiffers(c) {
  if (c.padding !== 'SAME') return false;
  return c.outSp.some((out, j) => {
    const s = c.strides[j];
    const total = (Math.ceil(out / s) - 1) * s + c.kSp[j] - out;
    return total < 0;
  });
}

function runLib(c) {
  return lib.convTranspose(
    { data: c.x, shape: c.xShape },
    { data: c.w, shape: c.wShape },
    c.outShape,
    c.strides,
    c.padding,
  );
}

function runTfjs(c) {
  return tf.tidy(() => {
    const x = tf.tensor(c.x, c.xShape, 'float32');
    const w = tf.tensor(c.w, c.wShape, 'float32');
    const pad = c.padding.toLowerCase();
    const y =
      c.xShape.length === 4
        ? tf.conv2dTranspose(x, w, c.outShape, c.strides, pad)
        : tf.conv3dTranspose(x, w, c.outShape, c.strides, pad);
    return { data: y.dataSync().slice(), shape: y.shape };
  });
}

function checkResultShape(res, c) {
  expect(res.dtype).toBe('float32');
  expect(res.data).toBeInstanceOf(Float32Array);
  expect(Array.from(res.shape)).toEqual(c.outShape);
  expect(res.data.length).toBe(R.prod(c.outShape));
}

// ---------------------------------------------------------------------------
// 2-D cases
// ---------------------------------------------------------------------------

const cases2d = [];
{
  const rng = R.mulberry32(20240601);
  // Sweep: every legal output size for strides 2 and 3, both paddings, a
  // kernel smaller than the stride (SAME padding clamps to 0 there) and one
  // larger; the two dims take different offsets.
  for (const s of [2, 3]) {
    for (const padding of ['SAME', 'VALID']) {
      for (let off = 0; off < s; off++) {
        for (const k of [1, s + 1 + (off % 2)]) {
          cases2d.push(
            genCase(rng, 2, {
              strides: [s, s],
              kSp: [k, Math.min(5, k + 1)],
              padding,
              offsets: [off, (off + 1) % s],
            }),
          );
        }
      }
    }
  }
  // Every (offH, offW) combination for a stride-3 SAME and a stride-(3,2) VALID case.
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      cases2d.push(genCase(rng, 2, { strides: [3, 3], kSp: [4, 2], padding: 'SAME', offsets: [a, b], inSp: [3, 4] }));
    }
  }
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 2; b++) {
      cases2d.push(genCase(rng, 2, { strides: [3, 2], kSp: [5, 3], padding: 'VALID', offsets: [a, b], inSp: [5, 3] }));
    }
  }
  // Random cases.
  while (cases2d.length < 75) cases2d.push(genCase(rng, 2));
}

describe('2-D vs tfjs conv2dTranspose (cpu)', () => {
  test.each(cases2d.map((c, i) => [i, R.describeCase(c), c]))('case %i: %s', (_i, _d, c) => {
    const got = runLib(c);
    checkResultShape(got, c);
    const want = runTfjs(c);
    expect(want.shape).toEqual(c.outShape);
    const { absSum } = R.refFor(c);
    R.assertClose(got.data, want.data, pairTol(absSum), R.describeCase(c), c.outShape);
  });
});

// ---------------------------------------------------------------------------
// 3-D cases
// ---------------------------------------------------------------------------

const cases3d = [];
{
  const rng = R.mulberry32(777);
  for (let t = 0; t < 22; t++) {
    const opts = {};
    // Cycle through legal output-size offsets so each is used.
    opts.strides = [1 + (t % 3), 1 + ((t + 1) % 3), 1 + ((t + 2) % 3)];
    opts.offsets = [t % 3, (t >> 1) % 3, (t >> 2) % 3];
    if (t % 4 === 0) opts.kSp = [1, 1, 2]; // kernel < stride in some dims
    if (t === 5) {
      opts.cin = 17;
      opts.cout = 3;
      opts.inSp = [2, 3, 2];
    }
    if (t === 6) {
      opts.cin = 3;
      opts.cout = 17;
      opts.inSp = [3, 2, 2];
    }
    cases3d.push(genCase(rng, 3, opts));
  }
}

describe('3-D vs tfjs conv3dTranspose (cpu)', () => {
  const tfjsOk = cases3d.filter((c) => !tfjsSameDiffers(c));
  const tfjsBad = cases3d.filter((c) => tfjsSameDiffers(c));

  test('the generator produced both kinds of 3-D cases', () => {
    expect(tfjsOk.length).toBeGreaterThanOrEqual(12);
    expect(tfjsBad.length).toBeGreaterThanOrEqual(1);
  });

  test.each(tfjsOk.map((c, i) => [i, R.describeCase(c), c]))('case %i: %s', (_i, _d, c) => {
    const got = runLib(c);
    checkResultShape(got, c);
    const want = runTfjs(c);
    expect(want.shape).toEqual(c.outShape);
    const { absSum } = R.refFor(c);
    R.assertClose(got.data, want.data, pairTol(absSum), R.describeCase(c), c.outShape);
  });

  // tfjs omits the max(0, ...) clamp here (see header): float64 reference instead.
  test.each(tfjsBad.map((c, i) => [i, R.describeCase(c), c]))(
    'SAME with kernel < stride (tfjs differs from TF), vs float64 reference: case %i: %s',
    (_i, _d, c) => {
      const got = runLib(c);
      checkResultShape(got, c);
      const { out, absSum } = R.refFor(c);
      R.assertClose(got.data, out, R.f32Tol(absSum), R.describeCase(c), c.outShape);
    },
  );
});
