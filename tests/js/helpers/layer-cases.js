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

// Tolerance per output element (the reasoning of tests/cpp/kernels/problem.h):
//   sum bound  B = gamma(n + 2) * S, gamma(m) = m u / (1 - m u), u = 2^-24,
//              S = sum |x * w| and n the products summed into the element:
//              float32 summation of n products in any order is within
//              gamma(n) * S of the exact sum (Higham, eq. 3.5), plus the
//              rounding to float32. float64: 2 * gamma(n + 1) * S with
//              u = 2^-53 (both sides accumulate in double, in other orders).
//   result     L * (B + u' (|sum| + |bias|)) + E u' |y| + 2^-50 (|sum| + |y|)
//              with u' = 2^-24 (2^-52 for float64). L is the activation's
//              Lipschitz constant (relu, clamp, tanh 1; leakyRelu, elu
//              max(1, |alpha|); sigmoid 1/4; gelu 1.13; silu 1.1): an error
//              in the sum moves the result by at most L times it. u' |sum|
//              covers the rounding of sum + bias, u' |bias| the bias and the
//              activation's float32 parameters; E u' |y| the activation's own
//              evaluation (simd/math.h: within E = 8 float ulps, gelu within
//              sum^2 + 16, its erfc's float exponent; float64 evaluates the
//              definitions in double); the last term the reference's own
//              double evaluation (erf/erfc series, exp).
//   16-bit     plus one float16 / bfloat16 ulp at max(|got|, |y|): the result
//              is rounded once to the 16-bit type after the epilogue.
// An element no product reaches is act(bias) (exactly 0 with neither).

function gamma(m, u) {
  return (m * u) / (1 - m * u);
}

// One ulp of a 16-bit type at magnitude v.
function ulp16(dtype, v) {
  const [frac, emin] = dtype === 'float16' ? [10, -14] : [7, -126];
  const e = v === 0 ? emin : Math.max(emin, Math.floor(Math.log2(Math.abs(v))));
  return 2 ** (e - frac);
}

function tolerance(c, ref) {
  const act = R.normalizeActivation(c.activation);
  const L = R.lipschitz(act);
  const f64 = c.dtype === 'float64';
  const u = f64 ? 2 ** -52 : 2 ** -24;
  const sixteen = c.dtype === 'float16' || c.dtype === 'bfloat16';
  return (i, y, got) => {
    const n = ref.terms[i];
    const B = f64 ? 2 * gamma(n + 1, 2 ** -53) * ref.absSum[i] : gamma(n + 2, 2 ** -24) * ref.absSum[i];
    const bias = c.bias ? Math.abs(c.bias[channelOf(c, i)]) : 0;
    const s = Math.abs(ref.sum[i]);
    const E = act.type === 'gelu' ? s * s + 16 : 8;
    let tol = L * (B + u * (s + bias)) + E * u * Math.abs(y) + 2 ** -50 * (s + Math.abs(y));
    if (sixteen) tol += ulp16(c.dtype, Math.max(Math.abs(got), Math.abs(y)));
    return tol;
  };
}

function channelOf(c, i) {
  const spatial = R.prod(c.outSp);
  return c.channelsFirst ? Math.floor(i / spatial) % c.cout : i % c.cout;
}

function resultValues(c, y) {
  return c.dtype === 'float16' || c.dtype === 'bfloat16' ? R.decodeArray(y.data, c.dtype) : Float64Array.from(y.data);
}

function checkAgainstRef(c, ref, y, label) {
  const got = resultValues(c, y);
  const tol = tolerance(c, ref);
  R.assertClose(got, ref.out, (i, r) => tol(i, r, got[i]), label, c.outShape);
}

module.exports = { DTYPES, ACTIVATIONS, layerCase, biasArg, kernelsFor, describeLayer, windowOptions, tensorsOf, checkAgainstRef };
