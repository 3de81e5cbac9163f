'use strict';
// Random cases for the layer options (groups, bias, activation) of
// createConvTranspose and convTransposeAsync: the window from reference.js's
// randomCase, channels that the groups divide, data already rounded to the
// dtype, and the kernels that serve each plan.

const R = require('./reference');

const DTYPES = ['float32', 'float64', 'float16', 'bfloat16'];
const ACTIVATIONS = [
  'linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'gelu', 'silu', 'elu', 'leakyRelu',
  { type: 'clamp', minValue: -0.375, maxValue: 0.3 },
  { type: 'leakyRelu', alpha: 0.2 },
  { type: 'elu', alpha: 1.7 },
];

// Filter width a multiple of the width stride (>= 2) at width dilation 1:
// the plans the columns kernel serves.
function withFoldingWidth(rng, win) {
  const N = win.kSp.length;
  const last = N - 1;
  const s = R.pick(rng, [2, 3]);
  const k = s * R.randInt(rng, 1, 2);
  const pad = Array.isArray(win.padding) ? win.padding[last] : win.padding;
  const legal = R.legalOutputSizes(win.inSp[last], k, s, 1, pad).filter((o) => o > 0);
  if (legal.length === 0) return win;
  const set = (a, v) => a.map((x, j) => (j === last ? v : x));
  return { ...win, kSp: set(win.kSp, k), strides: set(win.strides, s), dilations: set(win.dilations, 1), outSp: set(win.outSp, R.pick(rng, legal)) };
}

// Case i: every activation with every dtype and rank as i runs over
// 12 x 4 x 3; layout, groups (1, 2 or every channel), the window and the
// bias (and its form) drawn; data already in the dtype's values.
function layerCase(rng, i) {
  const activation = ACTIVATIONS[i % ACTIVATIONS.length];
  const dtype = DTYPES[Math.floor(i / ACTIVATIONS.length) % 4];
  const N = 1 + (Math.floor(i / (4 * ACTIVATIONS.length)) % 3);
  const channelsFirst = rng() < 0.5;
  let win = R.randomCase(rng, { N, channelsFirst, dMax: 2, kMax: N === 3 ? 2 : 3, inMax: N === 3 ? 3 : 5, channels: [1] });
  const form = R.pick(rng, [0, 0, 1, 2]);
  if (form === 0 && rng() < 0.5) win = withFoldingWidth(rng, win);
  const groups = form === 0 ? 1 : form === 1 ? 2 : R.randInt(rng, 3, 8);
  const cinG = form === 2 ? R.pick(rng, [1, 1, 2]) : R.randInt(rng, 1, 4);
  const coutG = form === 2 ? R.pick(rng, [1, 1, 3]) : R.pick(rng, [1, 2, 4, 5, 9]);
  const cin = groups * cinG;
  const cout = groups * coutG;
  const xShape = R.joinShape(win.batch, win.inSp, cin, channelsFirst);
  const wShape = [...win.kSp, coutG, cin];
  const round = (n) => R.decoded(R.typed(R.randomArray(rng, n, Float64Array), dtype), dtype);
  const x = round(R.prod(xShape));
  const w = round(R.prod(wShape));
  const bias = rng() < 0.25 ? null : round(cout);
  return {
    ...win, N, channelsFirst, groups, cin, cout, dtype, activation, bias, biasForm: R.randInt(rng, 0, 2), x, w, xShape, wShape,
    outShape: R.joinShape(win.batch, win.outSp, cout, channelsFirst),
  };
}

// The bias in one of the forms the API takes: numbers, a typed array (32-
// and 64-bit dtypes) or a tensor.
function biasArg(c) {
  if (!c.bias) return undefined;
  const form = c.biasForm;
  if (form === 0) return Array.from(c.bias);
  const data = R.typed(c.bias, c.dtype);
  if (form === 1 && (c.dtype === 'float32' || c.dtype === 'float64')) return data;
  return { data, shape: [c.cout], dtype: c.dtype };
}

// The kernels that serve a plan: auto, igemm and channelwise always; dot and
// pixels for one group and 1-4 output channels; columns for one group and a
// filter width that is a multiple of a width stride >= 2 at dilation 1.
function kernelsFor(c) {
  const k = ['auto', 'igemm', 'channelwise'];
  if (c.groups !== 1) return k;
  if (c.cout <= 4) k.push('dot', 'pixels');
  const last = c.N - 1;
  if (c.strides[last] >= 2 && c.dilations[last] === 1 && c.kSp[last] % c.strides[last] === 0) k.push('columns');
  return k;
}

function describeLayer(c) {
  const act = typeof c.activation === 'string' ? c.activation : JSON.stringify(c.activation);
  return `${R.describeCase(c)} ${c.dtype} groups ${c.groups} ${act}${c.bias ? ' + bias' : ''}`;
}

function windowOptions(c) {
  return {
    strides: c.strides,
    padding: R.fullPadding(c.padding, c.channelsFirst),
    dataFormat: R.dataFormatFor(c.N, c.channelsFirst),
    dilations: c.dilations,
  };
}

// The case's input and filters as the API takes them.
function tensorsOf(c) {
  return {
    x: { data: R.typed(c.x, c.dtype), shape: c.xShape, dtype: c.dtype },
    w: { data: R.typed(c.w, c.dtype), shape: c.wShape, dtype: c.dtype },
  };
}

module.exports = { DTYPES, ACTIVATIONS, layerCase, biasArg, kernelsFor, describeLayer, windowOptions, tensorsOf };
