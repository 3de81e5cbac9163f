'use strict';
// registerTfjsKernels: tfjs's Conv2DBackpropInput / Conv3DBackpropInputV2
// kernels run through this library give what tfjs's own cpu kernel gives,
// on seeded random calls in every form tfjs's conv-info functions take:
// 'same', 'valid', a number and explicit pads, every dimRoundingMode, NHWC
// and NCHW (2-D), strides 1-3, odd sizes, kernels smaller than the stride
// (tfjs's unclamped 3-D SAME padding: a negative padding before), and dy
// larger than the forward output (tfjs reads its leading window). Each call
// is made with runKernel, as tf.conv2dTranspose and the layers make it.
//
// Tolerance: tfjs's cpu kernel sums in float64 and rounds once; this library
// sums in float32. Each result is within 1e-5 * sum|dy * w| + 1e-6 of the
// exact sum (helpers/reference.js, f32Tol); sum|dy * w| per element is
// tfjs's own kernel run on |dy| and |w|.

const R = require('./helpers/reference');
const { tf, setup, worstExcess } = require('./helpers/tfjs-backends');

let lib;
beforeAll(async () => {
  lib = await setup();
});

const ROUNDING = [undefined, 'floor', 'ceil', 'round'];

function randomPad2d(rng, channelsFirst) {
  const kind = R.pick(rng, ['same', 'valid', 'number', 'explicit']);
  if (kind === 'same' || kind === 'valid') return { pad: kind, dimRoundingMode: undefined };
  const dimRoundingMode = R.pick(rng, ROUNDING);
  if (kind === 'number') return { pad: R.randInt(rng, 0, 2), dimRoundingMode };
  const hw = [[R.randInt(rng, 0, 2), R.randInt(rng, 0, 2)], [R.randInt(rng, 0, 2), R.randInt(rng, 0, 2)]];
  return { pad: channelsFirst ? [[0, 0], [0, 0], ...hw] : [[0, 0], ...hw, [0, 0]], dimRoundingMode };
}

// A kernel call: inputs' shapes and attributes, dy's shape from tfjs's own
// conv info (the forward output), sometimes grown to test the leading window.
function randomCall(rng, dims) {
  const channelsFirst = dims === 2 && rng() < 0.3;
  const batch = R.randInt(rng, 1, 2);
  const inC = R.randInt(rng, 1, 5);
  const outC = R.randInt(rng, 1, 5);
  const sp = Array.from({ length: dims }, () => R.randInt(rng, 1, dims === 2 ? 9 : 5));
  const ks = Array.from({ length: dims }, () => R.randInt(rng, 1, dims === 2 ? 5 : 3));
  const strides = Array.from({ length: dims }, () => R.randInt(rng, 1, 3));
  const inputShape = channelsFirst ? [batch, inC, ...sp] : [batch, ...sp, inC];
  const filterShape = [...ks, inC, outC];
  let attrs;
  let info;
  if (dims === 2) {
    const { pad, dimRoundingMode } = randomPad2d(rng, channelsFirst);
    const dataFormat = channelsFirst ? 'NCHW' : 'NHWC';
    attrs = { inputShape, strides, pad, dataFormat, dimRoundingMode };
    info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat));
  } else {
    const pad = R.pick(rng, ['same', 'valid', 'same', 1]);
    attrs = { inputShape, strides, pad };
    info = tf.backend_util.computeConv3DInfo(inputShape, filterShape, strides, 1, pad);
  }
  const outs = dims === 2 ? [info.outHeight, info.outWidth] : [info.outDepth, info.outHeight, info.outWidth];
  const grown = outs.map((o) => Math.max(0, o) + (rng() < 0.1 ? 1 : 0));
  const dyShape = channelsFirst ? [batch, outC, ...grown] : [batch, ...grown, outC];
  return { dims, dyShape, filterShape, attrs, dy: R.randomArray(rng, size(dyShape)), w: R.randomArray(rng, size(filterShape)) };
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

const KERNEL = { 2: 'Conv2DBackpropInput', 3: 'Conv3DBackpropInputV2' };

// The kernel on the current backend, with dy and the filter from `dy`, `w` (or their absolute values).
function runKernel(c, abs = false) {
  const f = abs ? (a) => a.map(Math.abs) : (a) => a;
  return tf.tidy(() => {
    const dy = tf.tensor(f(c.dy), c.dyShape);
    const w = tf.tensor(f(c.w), c.filterShape);
    const y = tf.engine().runKernel(KERNEL[c.dims], { dy, filter: w }, c.attrs);
    return { data: y.dataSync().slice(), shape: y.shape };
  });
}

function cases(seed, dims, n) {
  const rng = R.mulberry32(seed);
  return Array.from({ length: n }, () => randomCall(rng, dims));
}

// References from tfjs's own cpu kernel, before the plug-in is registered.
async function references(list) {
  await tf.setBackend('cpu');
  return list.map((c) => ({ ...runKernel(c), absSum: runKernel(c, true).data }));
}

async function check(list, refs, backends) {
  let worst = -Infinity;
  for (const backend of backends) {
    await tf.setBackend(backend);
    list.forEach((c, i) => {
      const got = runKernel(c);
      expect(got.shape).toEqual(refs[i].shape);
      const { worst: w, at } = worstExcess(got.data, refs[i].data, (j) => 2 * (R.F32_REL_OF_ABSSUM * refs[i].absSum[j] + R.F32_ATOL));
      if (w > 0) throw new Error(`${backend} case ${i} ${JSON.stringify({ dy: c.dyShape, f: c.filterShape, attrs: c.attrs })}: element ${at} is ${got.data[at]}, tfjs cpu gives ${refs[i].data[at]}`);
      worst = Math.max(worst, w);
    });
  }
  return worst;
}

describe.each([[2, 400], [3, 200]])('%i-D: random kernel calls equal tfjs cpu', (dims, n) => {
  test(`${n} calls on cpu and wasm, with and without the plug-in`, async () => {
    const list = cases(1000 + dims, dims, n);
    const refs = await references(list);
    // Without the plug-in the references are tfjs cpu's own results. (tfjs's
    // own wasm kernel is not one: it differs from cpu in 3-D and in 2-D
    // corners such as a forward output size below 1.)
    const reg = lib.registerTfjsKernels(tf);
    try {
      await check(list, refs, ['cpu', 'wasm']);
      const s = reg.stats();
      // Every call, on both backends, computed by the library (zeros included).
      expect(s.computed).toEqual({ cpu: n, wasm: n });
      expect(s.fallbacks).toEqual({ cpu: 0, wasm: 0 });
    } finally {
      reg.unregister();
    }
  });
});

test('the cases cover every pad form, rounding mode, layout and the restated corners', () => {
  const seen = new Set();
  for (const c of [...cases(1002, 2, 400), ...cases(1003, 3, 200)]) {
    const p = c.attrs.pad;
    seen.add(`${c.dims}:${typeof p === 'object' ? 'explicit' : typeof p === 'number' ? 'number' : p}`);
    if (c.attrs.dimRoundingMode) seen.add(`round:${c.attrs.dimRoundingMode}`);
    if (c.attrs.dataFormat) seen.add(c.attrs.dataFormat);
    const plan = require('../../dist/tfjs-plan.js').planCall(c.dims, tf.backend_util, c.dyShape, c.filterShape, c.attrs);
    seen.add(plan.kind);
    if (plan.kind === 'core' && plan.dyWindow) seen.add('dy window');
    if (plan.kind === 'core' && plan.blockOffsets) seen.add('dx block');
  }
  for (const want of ['2:same', '2:valid', '2:number', '2:explicit', '3:same', '3:valid', '3:number', 'round:floor', 'round:ceil', 'round:round', 'NHWC', 'NCHW', 'core', 'zeros', 'dy window', 'dx block']) {
    expect([want, seen.has(want)]).toEqual([want, true]);
  }
});
