'use strict';
// The ONNX mapping (onnxConvTranspose, onnxConvTransposeOptions) against
// onnxruntime-web's own ConvTranspose: one-node models with ONNX weights,
// NCHW, random group, pads, output_padding, strides, dilations and bias B,
// plus auto_pad, output_shape and 1-D. onnxruntime-web runs in a plain Node
// process (helpers/ort-conv-transpose.js), one thread.
//
// Tolerance: both compute in float32, each within 1e-5 * sum|terms| + 1e-6
// of the exact value (see webnn.test.js), so they differ by at most twice
// that; sum|terms| comes from the float64 reference (helpers/webnn-reference.js)
// run on the options the mapping gives, which is also held to
// onnxruntime-web's result, so all three agree.

const { execFileSync } = require('child_process');
const path = require('path');
const R = require('./helpers/reference');
const W = require('./helpers/webnn-reference');
const { ROOT } = require('./helpers/calls');
const { expectArgumentError } = require('./helpers/argument-errors');

const lib = require(ROOT);

const values = (rng, n) => Array.from({ length: n }, () => Math.fround(rng() * 2 - 1));

function randomCase(rng, i) {
  const oneD = i % 5 === 4;
  const rank = oneD ? 1 : 2;
  const depthwise = i % 4 === 0;
  const group = depthwise ? R.randInt(rng, 1, 4) : R.pick(rng, [1, 1, 2, 3]);
  const cin = depthwise ? group : group * R.randInt(rng, 1, 3);
  const coutPerGroup = depthwise ? 1 : R.randInt(rng, 1, 3);
  const kernel = Array.from({ length: rank }, () => R.randInt(rng, 1, 4));
  const strides = Array.from({ length: rank }, () => R.randInt(rng, 1, 3));
  const dilations = Array.from({ length: rank }, () => R.randInt(rng, 1, 3));
  const spatial = Array.from({ length: rank }, () => R.randInt(rng, 1, 5));
  // Pads that leave at least one output: (in - 1) * s + (k - 1) * d + 1 - begin - end >= 1.
  const begin = kernel.map((k, j) => R.randInt(rng, 0, (k - 1) * dilations[j]));
  const end = kernel.map((k, j) => Math.min(R.randInt(rng, 0, (k - 1) * dilations[j]), (spatial[j] - 1) * strides[j] + (k - 1) * dilations[j] - begin[j]));
  const attrs = {
    group,
    kernel_shape: kernel,
    strides,
    dilations,
    pads: [...begin, ...end],
    output_padding: strides.map((s) => R.randInt(rng, 0, s - 1)),
  };
  const xShape = [R.randInt(rng, 1, 2), cin, ...spatial];
  const wShape = [cin, coutPerGroup, ...kernel];
  return {
    xShape, wShape, attrs,
    x: values(rng, R.prod(xShape)),
    w: values(rng, R.prod(wShape)),
    b: i % 2 === 1 ? values(rng, coutPerGroup * group) : undefined,
  };
}

// Cases of each way ONNX sets the output size, on a 1-D signal and a 2-D image.
function sizeCases(rng) {
  const cases = [];
  const add = (xShape, wShape, attrs) => cases.push({ xShape, wShape, attrs, x: values(rng, R.prod(xShape)), w: values(rng, R.prod(wShape)) });
  for (const auto_pad of ['SAME_UPPER', 'SAME_LOWER', 'VALID', 'NOTSET']) {
    add([1, 2, 5], [2, 3, 3], { auto_pad, strides: [2] });
    add([1, 2, 4, 3], [2, 2, 3, 4], { auto_pad, strides: [2, 3], dilations: [2, 1] });
  }
  for (const auto_pad of ['NOTSET', 'SAME_UPPER', 'SAME_LOWER']) {
    add([1, 2, 5], [2, 1, 3], { auto_pad, strides: [2], output_shape: [8] });
    add([1, 2, 5], [2, 1, 3], { auto_pad, strides: [2], output_shape: [12] });   // one past the full size
    add([1, 2, 4, 3], [2, 3, 3, 3], { auto_pad, strides: [2, 2], output_shape: [6, 5] });
    add([1, 2, 4, 3], [2, 3, 3, 3], { auto_pad, strides: [3, 2], output_shape: [9, 8], output_padding: [1, 1] });
  }
  add([1, 1, 4, 4], [1, 2, 1, 1], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
  return cases;
}

const RANDOM = 60;
let cases;
let ort;

beforeAll(async () => {
  await lib.init({ numThreads: 2 });
  const rng = R.mulberry32(7);
  cases = [...Array.from({ length: RANDOM }, (_, i) => randomCase(rng, i)), ...sizeCases(rng)];
  let out;
  try {
    out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'ort-conv-transpose.js')],
      { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120000, maxBuffer: 1 << 28 });
  } catch (e) {
    throw new Error(`helpers/ort-conv-transpose.js failed:\n${e.stdout}\n${e.stderr}`);
  }
  ort = JSON.parse(out);
});

function label(c) {
  return `X=[${c.xShape}] W=[${c.wShape}] attrs=${JSON.stringify(c.attrs)}${c.b ? ' B' : ''}`;
}

// Ours, onnxruntime-web's and the reference's results for case i agree.
function checkCase(i) {
  const c = cases[i];
  const expected = ort[i];
  expect([label(c), expected.error]).toEqual([label(c), undefined]);
  const y = lib.onnxConvTranspose({ data: Float32Array.from(c.x), shape: c.xShape }, { data: Float32Array.from(c.w), shape: c.wShape },
    c.attrs, c.b ? { data: Float32Array.from(c.b), shape: [c.b.length] } : undefined);
  expect([label(c), y.shape]).toEqual([label(c), expected.dims]);
  // The reference on the mapped options, in 2-D (1-D as a height of 1).
  const options = lib.onnxConvTransposeOptions(c.xShape, c.wShape, c.attrs);
  const as2d = (s) => (s.length === 3 ? [s[0], s[1], 1, s[2]] : s);
  const ref = W.convTranspose2dRef(c.x, as2d(c.xShape), c.w, as2d(c.wShape), { ...options, bias: c.b });
  const tol = (k) => 2 * (R.F32_REL_OF_ABSSUM * ref.absSum[k] + R.F32_ATOL);
  R.assertClose(expected.data, ref.out, tol, `onnxruntime-web vs reference: ${label(c)}`);
  R.assertClose(y.data, expected.data, tol, `ours vs onnxruntime-web: ${label(c)}`);
}

describe('onnxConvTranspose equals onnxruntime-web ConvTranspose', () => {
  const plain = (c) => c.attrs.group === 1 && !c.b;
  test('random cases with group 1 and no B: pads, output_padding, strides, dilations, 1-D and 2-D', () => {
    let checked = 0;
    for (let i = 0; i < RANDOM; i++) if (plain(cases[i])) checkCase(i), checked++;
    expect(checked).toBeGreaterThanOrEqual(8);
  });
  test('random cases with group 2, 3 or channels (depthwise), or bias B', () => {
    for (let i = 0; i < RANDOM; i++) if (!plain(cases[i])) checkCase(i);
  });
  test('auto_pad SAME_UPPER / SAME_LOWER / VALID / NOTSET and output_shape, 1-D and 2-D', () => {
    for (let i = RANDOM; i < cases.length - 1; i++) checkCase(i);
  });
  // With a filter shorter than the stride, SAME's total padding is negative:
  // the ONNX specification's output is then input * stride still (the last
  // positions get no input: zeros, or the bias); onnxruntime-web 1.30 gives
  // the full size, (in - 1) * stride + (k - 1) * dilation + 1, instead.
  // onnxConvTranspose follows the specification; the positions both have agree.
  test('SAME with a negative total padding: the specification\'s input * stride, onnxruntime-web\'s values where it has them', () => {
    const c = cases[cases.length - 1];
    const got = ort[cases.length - 1];
    expect(got.dims).toEqual([1, 2, 7, 7]);
    const y = lib.onnxConvTranspose({ data: Float32Array.from(c.x), shape: c.xShape }, { data: Float32Array.from(c.w), shape: c.wShape }, c.attrs);
    expect(y.shape).toEqual([1, 2, 8, 8]);
    for (let o = 0; o < 2; o++) {
      for (let h = 0; h < 8; h++) {
        for (let w = 0; w < 8; w++) {
          const ours = y.data[(o * 8 + h) * 8 + w];
          expect(ours).toBe(h < 7 && w < 7 ? got.data[(o * 7 + h) * 7 + w] : 0);
        }
      }
    }
  });
});

describe('onnxConvTransposeOptions', () => {
  test('pads [x1_begin, x2_begin, x1_end, x2_end] become WebNN padding [top, bottom, left, right]', () => {
    expect(lib.onnxConvTransposeOptions([1, 4, 5, 5], [4, 2, 3, 3], { pads: [1, 2, 3, 4], strides: [2, 3], output_padding: [1, 2], group: 2 })).toEqual({
      padding: [1, 3, 2, 4], strides: [2, 3], dilations: [1, 1], groups: 2, inputLayout: 'nchw', filterLayout: 'iohw', label: 'onnxConvTranspose', outputPadding: [1, 2],
    });
  });
  test('output_shape: total padding split with the extra at the start (NOTSET, SAME_LOWER) or the end (SAME_UPPER)', () => {
    // full width (5 - 1) * 2 + 3 = 11; output 8: total 3
    expect(lib.onnxConvTransposeOptions([1, 1, 5], [1, 1, 3], { strides: [2], output_shape: [8] })).toMatchObject({ padding: [0, 0, 2, 1], outputSizes: [1, 8] });
    expect(lib.onnxConvTransposeOptions([1, 1, 5], [1, 1, 3], { strides: [2], output_shape: [8], auto_pad: 'SAME_LOWER' })).toMatchObject({ padding: [0, 0, 2, 1] });
    expect(lib.onnxConvTransposeOptions([1, 1, 5], [1, 1, 3], { strides: [2], output_shape: [8], auto_pad: 'SAME_UPPER' })).toMatchObject({ padding: [0, 0, 1, 2] });
  });
  test('SAME_UPPER / SAME_LOWER without output_shape: output = input * stride', () => {
    expect(lib.onnxConvTransposeOptions([1, 1, 5], [1, 1, 3], { strides: [2], auto_pad: 'SAME_UPPER' })).toMatchObject({ padding: [0, 0, 0, 1], outputSizes: [1, 10] });
    expect(lib.onnxConvTransposeOptions([1, 1, 5], [1, 1, 3], { strides: [2], auto_pad: 'SAME_LOWER' })).toMatchObject({ padding: [0, 0, 1, 0], outputSizes: [1, 10] });
  });
  test('VALID ignores pads', () => {
    expect(lib.onnxConvTransposeOptions([1, 1, 5, 5], [1, 1, 3, 3], { pads: [1, 1, 1, 1], auto_pad: 'VALID' })).toMatchObject({ padding: [0, 0, 0, 0], outputPadding: [0, 0] });
  });
  const bad = [
    ['pads length', [1, 1, 5, 5], [1, 1, 3, 3], { pads: [1, 1] }, ['attrs.pads', '[1, 1]', '4 entries']],
    ['kernel_shape vs W', [1, 1, 5, 5], [1, 1, 3, 3], { kernel_shape: [3, 2] }, ['attrs.kernel_shape', '[3, 2]', '[3, 3]']],
    ['auto_pad', [1, 1, 5, 5], [1, 1, 3, 3], { auto_pad: 'SAME' }, ['attrs.auto_pad', "'SAME'"]],
    ['output_shape length', [1, 1, 5, 5], [1, 1, 3, 3], { output_shape: [5] }, ['attrs.output_shape', '[5]', '2 entries']],
    ['3-D', [1, 1, 5, 5, 5], [1, 1, 3, 3, 3], {}, ['X', '[1, 1, 5, 5, 5]', '1-D or 2-D']],
    ['W rank', [1, 1, 5, 5], [1, 1, 3], {}, ['W', '[1, 1, 3]', 'rank']],
    ['strides length', [1, 1, 5], [1, 1, 3], { strides: [2, 2] }, ['attrs.strides', '[2, 2]', '1 entries']],
  ];
  for (const [what, xShape, wShape, attrs, words] of bad) {
    test(`error: ${what}`, () => {
      expectArgumentError(lib, () => lib.onnxConvTransposeOptions(xShape, wShape, attrs), 'onnxConvTranspose', words);
    });
  }
  test('WebNN\'s rules are convTranspose2d\'s, worded with the ONNX label', () => {
    // output_padding 2 at stride 2 (PyTorch allows it with dilation 3; WebNN and onnxruntime do not)
    expect(() => lib.onnxConvTranspose({ data: new Float32Array(5), shape: [1, 1, 5] }, { data: new Float32Array(3), shape: [1, 1, 3] },
      { strides: [2], dilations: [3], output_padding: [2] })).toThrow(/^onnxConvTranspose: options\.outputPadding must be less than options\.strides/);
  });
});
