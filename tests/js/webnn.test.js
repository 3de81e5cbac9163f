'use strict';
// convTranspose2d (WebNN's semantics) against a float64 reference written
// from the WebNN specification (helpers/webnn-reference.js), on cases taken
// from the specification's options and rules: every option, both input
// layouts, every filter layout, outputSizes and outputPadding, groups, bias,
// activations, float32 / float16 / float64; and the errors its validation
// steps require.
//
// Tolerance: float32 accumulation rounds each add by at most 2^-24
// relative, so an output of n terms is off by at most n * 2^-24 * sum|terms|
// (about sqrt(n) times that in practice); with at most ~150 terms per output
// here, 1e-5 * sum|terms| (bias included) bounds it, plus 1e-6 for outputs
// that cancel to about 0. An activation scales that by its largest slope and
// adds its own float32 rounding (8 ulps of the result). float16 results are
// rounded once more, to half an ulp of float16 (2^-11 relative).
// The case values are float16-exact, so every dtype computes from the same
// numbers the reference does.

const R = require('./helpers/reference');
const W = require('./helpers/webnn-reference');
const { ROOT } = require('./helpers/calls');
const { expectArgumentError } = require('./helpers/argument-errors');

const lib = require(ROOT);

beforeAll(async () => {
  await lib.init({ numThreads: 2 });
});

const f16 = (v) => R.f16Decode(R.f16Encode(v));
const values = (rng, n) => Float64Array.from({ length: n }, () => f16(rng() * 2 - 1));

// A case: NCHW input and IOHW filter values (float16-exact), WebNN options.
function makeCase(rng, { N = 1, C, H, Wd, Og, KH, KW, options = {}, bias = false }) {
  const groups = options.groups ?? 1;
  const c = {
    xShape: [N, C, H, Wd],
    wShape: [C, Og, KH, KW],
    options: { ...options },
  };
  c.x = values(rng, N * C * H * Wd);
  c.w = values(rng, C * Og * KH * KW);
  if (bias) c.bias = values(rng, Og * groups);
  return c;
}

function typedFor(v, dtype) {
  return dtype === 'float16' ? R.encodeArray(v, 'float16') : R.typed(v, dtype);
}

// Calls convTranspose2d on case c in the given layouts and dtype; returns the
// result and its values in NCHW as float64.
function run(c, { inputLayout = 'nchw', filterLayout = 'iohw', dtype = 'float32', options = {} } = {}) {
  const x = inputLayout === 'nchw' ? { values: c.x, shape: c.xShape } : W.permute(c.x, c.xShape, W.NCHW_TO_NHWC);
  const w = W.permute(c.w, c.wShape, W.FROM_IOHW[filterLayout]);
  const opts = { ...c.options, inputLayout, filterLayout, ...options };
  if (c.bias) opts.bias = { data: typedFor(c.bias, dtype), shape: [c.bias.length], dtype };
  const y = lib.convTranspose2d(
    { data: typedFor(x.values, dtype), shape: x.shape, dtype },
    { data: typedFor(w.values, dtype), shape: w.shape, dtype },
    opts);
  const got = dtype === 'float16' ? R.decodeArray(y.data, 'float16') : Float64Array.from(y.data);
  return { y, nchw: inputLayout === 'nchw' ? got : W.permute(got, y.shape, W.NHWC_TO_NCHW).values };
}

function tolerance(ref, dtype) {
  if (dtype === 'float64') return (i, r) => ref.slope * 1e-12 * ref.absSum[i] + 1e-15 * Math.abs(r) + 1e-300;
  const rounding = dtype === 'float16' ? 2 ** -11 * (1 + 2 ** -10) : 8 * 2 ** -24;
  const subnormal = dtype === 'float16' ? 2 ** -25 : 0;
  return (i, r) => ref.slope * (R.F32_REL_OF_ABSSUM * ref.absSum[i] + R.F32_ATOL) + rounding * Math.abs(r) + subnormal;
}

function describeCase(c, variant) {
  return `x=[${c.xShape}] w(iohw)=[${c.wShape}] options=${JSON.stringify(c.options)}${c.bias ? ' bias' : ''} ${JSON.stringify(variant)}`;
}

// convTranspose2d of case c (in a variant's layouts and dtype) equals the reference.
function check(c, variant = {}) {
  const ref = W.convTranspose2dRef(c.x, c.xShape, c.w, c.wShape, { ...c.options, ...variant.options, bias: c.bias });
  const { y, nchw } = run(c, variant);
  const [n, o, h, w] = ref.shape;
  expect(y.shape).toEqual((variant.inputLayout ?? 'nchw') === 'nchw' ? [n, o, h, w] : [n, h, w, o]);
  expect(y.dtype).toBe(variant.dtype ?? 'float32');
  R.assertClose(nchw, ref.out, tolerance(ref, variant.dtype ?? 'float32'), describeCase(c, variant), ref.shape);
  return { y, ref };
}

const LAYOUTS = [];
for (const inputLayout of ['nchw', 'nhwc']) for (const filterLayout of ['iohw', 'hwoi', 'ohwi']) LAYOUTS.push({ inputLayout, filterLayout });

describe('the reference itself, on values worked by hand', () => {
  test('stride 2 along the width: input [1, 2], filter [1, 10, 100]', () => {
    const r = W.convTranspose2dRef([1, 2], [1, 1, 1, 2], [1, 10, 100], [1, 1, 1, 3], { strides: [1, 2] });
    expect(r.shape).toEqual([1, 1, 1, 5]);
    expect(Array.from(r.out)).toEqual([1, 10, 102, 20, 200]);
  });
  test('padding, outputPadding and dilation: [1, 2] with [1, 10, 100], dilation 2, padding 1 / 1, outputPadding 1', () => {
    // full positions 0..6: 1 0 10 2 100 20 0 200 minus the first, plus one at the end
    const r = W.convTranspose2dRef([1, 2], [1, 1, 1, 2], [1, 10, 100], [1, 1, 1, 3],
      { strides: [1, 2], dilations: [1, 2], padding: [0, 0, 1, 1], outputPadding: [0, 1] });
    expect(Array.from(r.out)).toEqual([0, 12, 0, 120, 0, 200]);
  });
  test('two groups: each input channel reaches only its own output channel', () => {
    const r = W.convTranspose2dRef([1, 2], [1, 2, 1, 1], [3, 5], [2, 1, 1, 1], { groups: 2, bias: [0.5, -1] });
    expect(Array.from(r.out)).toEqual([3.5, 9]);
  });
  test('erf agrees with known values to 1e-15', () => {
    for (const [x, e] of [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3.5, 0.9999992569016276]]) {
      expect(Math.abs(W.erf(x) - e)).toBeLessThan(1e-15);
      expect(Math.abs(W.erf(-x) + e)).toBeLessThan(1e-15);
    }
  });
});

describe('every option, groups 1 (float32)', () => {
  const rng = R.mulberry32(101);
  const shapes = { N: 2, C: 3, H: 4, Wd: 5, Og: 4, KH: 3, KW: 2 };
  const optionSets = [
    {},
    { strides: [2, 3] },
    { dilations: [2, 3] },
    { padding: [1, 2, 0, 1] },
    { strides: [3, 2], outputPadding: [2, 1] },
    { strides: [3, 2], outputSizes: [12, 11] },
    { strides: [2, 3], dilations: [3, 2], padding: [2, 1, 1, 3], outputPadding: [1, 2] },
    { strides: [1, 1], dilations: [1, 1], padding: [0, 0, 0, 0], outputPadding: [0, 0], groups: 1 },
  ];
  for (const options of optionSets) {
    const c = makeCase(rng, { ...shapes, options });
    for (const layouts of LAYOUTS) {
      test(`${JSON.stringify(options)} ${layouts.inputLayout}/${layouts.filterLayout}`, () => { check(c, layouts); });
    }
  }
  test('the WebNN defaults: nchw input, iohw filter, output (in - 1) + k per dimension', () => {
    const c = makeCase(rng, { C: 1, H: 3, Wd: 3, Og: 1, KH: 3, KW: 3 });
    const y = lib.convTranspose2d({ data: Float32Array.from(c.x), shape: c.xShape }, { data: Float32Array.from(c.w), shape: c.wShape });
    expect(y.shape).toEqual([1, 1, 5, 5]);
    const ref = W.convTranspose2dRef(c.x, c.xShape, c.w, c.wShape);
    R.assertClose(y.data, ref.out, tolerance(ref, 'float32'), 'defaults');
  });
});

describe('outputSizes and outputPadding', () => {
  const rng = R.mulberry32(202);
  const c = makeCase(rng, { C: 2, H: 3, Wd: 4, Og: 3, KH: 3, KW: 3, options: { strides: [3, 2], padding: [1, 0, 1, 1], dilations: [1, 2] } });
  // calculated: height (3 - 1) * 3 + 2 + 1 - 1 = 8, width (4 - 1) * 2 + 4 + 1 - 2 = 9
  test('every size the specification allows, [calculated, calculated + stride), gives the reference', () => {
    for (const h of [8, 9, 10]) {
      for (const w of [9, 10]) check(c, { options: { outputSizes: [h, w] } });
    }
  });
  test('outputSizes equal to calculated + outputPadding gives the same values as that outputPadding', () => {
    for (const op of [[0, 0], [1, 0], [2, 1]]) {
      const a = run(c, { options: { outputPadding: op } }).y;
      const b = run(c, { options: { outputSizes: [8 + op[0], 9 + op[1]] } }).y;
      expect(b.shape).toEqual(a.shape);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    }
  });
  test('with outputSizes given, outputPadding is ignored, even one not below the strides', () => {
    const { y } = check(c, { options: { outputSizes: [9, 9], outputPadding: [7, 7] } });
    expect(y.shape).toEqual([1, 3, 9, 9]);
  });
});

describe('dtypes', () => {
  const rng = R.mulberry32(303);
  const c = makeCase(rng, { N: 2, C: 5, H: 4, Wd: 3, Og: 6, KH: 3, KW: 3, options: { strides: [2, 2], padding: [1, 1, 0, 1], outputPadding: [1, 0] } });
  for (const dtype of ['float16', 'float64']) {
    for (const layouts of LAYOUTS) {
      test(`${dtype} ${layouts.inputLayout}/${layouts.filterLayout}`, () => { check(c, { ...layouts, dtype }); });
    }
  }
  test('float16 as Uint16Array bits comes back as Uint16Array bits', () => {
    const { y } = check(c, { dtype: 'float16' });
    expect(Object.prototype.toString.call(y.data)).toBe('[object Uint16Array]');
  });
  (typeof Float16Array === 'function' ? test : test.skip)('float16 as a Float16Array', () => {
    const x = new Float16Array(c.x); // eslint-disable-line no-undef
    const w = new Float16Array(c.w); // eslint-disable-line no-undef
    const y = lib.convTranspose2d({ data: x, shape: c.xShape }, { data: w, shape: c.wShape }, c.options);
    const ref = W.convTranspose2dRef(c.x, c.xShape, c.w, c.wShape, c.options);
    R.assertClose(R.decodeArray(y.data, 'float16'), ref.out, tolerance(ref, 'float16'), 'Float16Array');
  });
});

// Random cases over every option; `grouped` adds groups and bias.
function randomCases(seed, count, grouped) {
  const rng = R.mulberry32(seed);
  const cases = [];
  for (let i = 0; i < count; i++) {
    const groups = grouped ? R.pick(rng, [1, 2, 3]) : 1;
    const depthwise = grouped && i % 4 === 0;
    const g = depthwise ? R.randInt(rng, 1, 4) : groups;
    const C = depthwise ? g : g * R.randInt(rng, 1, 3);
    const Og = depthwise ? 1 : R.randInt(rng, 1, 4);
    const KH = R.randInt(rng, 1, 4);
    const KW = R.randInt(rng, 1, 4);
    const strides = [R.randInt(rng, 1, 4), R.randInt(rng, 1, 4)];
    const dilations = [R.randInt(rng, 1, 3), R.randInt(rng, 1, 3)];
    const H = R.randInt(rng, 1, 5);
    const Wd = R.randInt(rng, 1, 5);
    const padding = [0, 1, 2, 3].map((j) => R.randInt(rng, 0, ((j < 2 ? KH : KW) - 1) * dilations[j < 2 ? 0 : 1]));
    const options = { strides, dilations, padding };
    const calc = [W.calculatedSize(H, KH, padding[0], padding[1], strides[0], dilations[0]),
      W.calculatedSize(Wd, KW, padding[2], padding[3], strides[1], dilations[1])];
    const extra = strides.map((s) => R.randInt(rng, 0, s - 1));
    if (calc[0] + extra[0] < 1 || calc[1] + extra[1] < 1) continue;
    if (i % 3 === 0) options.outputSizes = [calc[0] + extra[0], calc[1] + extra[1]];
    else options.outputPadding = extra;
    if (g !== 1) options.groups = g;
    const c = makeCase(rng, { N: R.randInt(rng, 1, 2), C, H, Wd, Og, KH, KW, options, bias: grouped && i % 2 === 1 });
    cases.push({ c, variant: { ...LAYOUTS[i % LAYOUTS.length], dtype: i % 5 === 4 ? 'float16' : 'float32' } });
  }
  return cases;
}

test('random cases, groups 1 and no bias: every option, layout and dtype', () => {
  for (const { c, variant } of randomCases(404, 60, false)) check(c, variant);
});

// These need createConvTranspose's groups, bias and activation options.
describe('groups, bias and activation', () => {
  const rng = R.mulberry32(505);
  for (const groups of [2, 3]) {
    const c = makeCase(rng, { N: 2, C: 2 * groups, H: 3, Wd: 4, Og: 3, KH: 3, KW: 2, options: { groups, strides: [2, 1], padding: [1, 0, 0, 1], outputPadding: [1, 0] } });
    for (const layouts of LAYOUTS) {
      test(`groups ${groups} ${layouts.inputLayout}/${layouts.filterLayout}`, () => { check(c, layouts); });
    }
  }
  const depthwise = makeCase(rng, { C: 4, H: 4, Wd: 4, Og: 1, KH: 3, KW: 3, options: { groups: 4, strides: [2, 2], dilations: [1, 2] } });
  for (const layouts of LAYOUTS) {
    test(`groups = channels (depthwise) ${layouts.inputLayout}/${layouts.filterLayout}`, () => { check(depthwise, layouts); });
  }
  test('groups = channels with 2 outputs per group, float16', () => {
    check(makeCase(rng, { C: 3, H: 3, Wd: 3, Og: 2, KH: 2, KW: 2, options: { groups: 3, strides: [2, 2] } }), { dtype: 'float16' });
  });
  const biased = makeCase(rng, { N: 2, C: 3, H: 3, Wd: 3, Og: 5, KH: 3, KW: 3, options: { strides: [2, 2], padding: [1, 1, 1, 1] }, bias: true });
  for (const dtype of ['float32', 'float16']) {
    for (const layouts of LAYOUTS) {
      test(`bias ${dtype} ${layouts.inputLayout}/${layouts.filterLayout}`, () => { check(biased, { ...layouts, dtype }); });
    }
  }
  test('bias as a plain { data, shape } of numbers', () => {
    const c = makeCase(rng, { C: 2, H: 2, Wd: 2, Og: 2, KH: 2, KW: 2 });
    const y = lib.convTranspose2d({ data: Float32Array.from(c.x), shape: c.xShape }, { data: Float32Array.from(c.w), shape: c.wShape },
      { bias: { data: [1, -2], shape: [2] } });
    const ref = W.convTranspose2dRef(c.x, c.xShape, c.w, c.wShape, { bias: [1, -2] });
    R.assertClose(y.data, ref.out, tolerance(ref, 'float32'), 'plain bias');
  });
  const activations = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'gelu', 'silu', 'elu', 'leakyRelu',
    { type: 'clamp', minValue: -0.25, maxValue: 0.5 }, { type: 'clamp', minValue: 0.1 }, { type: 'leakyRelu', alpha: 0.2 }, { type: 'elu', alpha: 0.5 }];
  // Values up to 8 in magnitude reach relu6's and the saturating functions' far sides.
  const big = makeCase(rng, { C: 4, H: 3, Wd: 3, Og: 3, KH: 3, KW: 3, options: { strides: [2, 2], groups: 2 }, bias: true });
  big.x = big.x.map((v) => v * 4);
  big.w = big.w.map((v) => v * 2);
  for (const activation of activations) {
    test(`activation ${JSON.stringify(activation)} after groups and bias`, () => {
      check({ ...big, options: { ...big.options, activation } }, { inputLayout: 'nhwc', filterLayout: 'ohwi' });
    });
  }
  test('random cases with groups (1, 2, 3, channels) and bias', () => {
    for (const { c, variant } of randomCases(606, 60, true)) check(c, variant);
  });
});

describe('validation: the errors the specification requires, as ArgumentErrors', () => {
  const x = () => ({ data: new Float32Array(2 * 3 * 3), shape: [1, 2, 3, 3] });
  const w = () => ({ data: new Float32Array(2 * 4 * 2 * 2), shape: [2, 4, 2, 2] });
  // [what, input, filter, options, words the message must hold]
  const bad = [
    ['input rank', { data: new Float32Array(18), shape: [2, 3, 3] }, w(), {}, ['input', '[2, 3, 3]', 'rank 4']],
    ['filter rank', x(), { data: new Float32Array(16), shape: [2, 4, 2] }, {}, ['filter', '[2, 4, 2]', 'rank 4']],
    ['filter dtype', x(), { data: new Float64Array(32), shape: [2, 4, 2, 2] }, {}, ['filter.dtype', 'float64', 'float32']],
    ['padding length', x(), w(), { padding: [1, 1] }, ['options.padding', '[1, 1]', '4 entries']],
    ['negative padding', x(), w(), { padding: [0, -1, 0, 0] }, ['options.padding', '-1', 'unsigned']],
    ['strides length', x(), w(), { strides: [2] }, ['options.strides', '[2]', '2 entries']],
    ['stride 0', x(), w(), { strides: [0, 1] }, ['options.strides', '[0, 1]', 'not be 0']],
    ['dilations length', x(), w(), { dilations: [1, 1, 1] }, ['options.dilations', '[1, 1, 1]', '2 entries']],
    ['dilation 0', x(), w(), { dilations: [1, 0] }, ['options.dilations', '[1, 0]', 'not be 0']],
    ['outputPadding length', x(), w(), { outputPadding: [1] }, ['options.outputPadding', '[1]', '2 entries']],
    ['outputSizes length', x(), w(), { outputSizes: [4, 4, 4] }, ['options.outputSizes', '[4, 4, 4]', '2 entries']],
    ['outputPadding not below strides', x(), w(), { strides: [2, 2], outputPadding: [1, 2] }, ['options.outputPadding', '[1, 2]', 'options.strides=[2, 2]', 'less than']],
    ['outputPadding with the default strides', x(), w(), { outputPadding: [1, 0] }, ['options.outputPadding', '[1, 0]', 'options.strides=[1, 1]']],
    ['groups 0', x(), w(), { groups: 0 }, ['options.groups', '0', 'at least 1']],
    ['groups not an integer', x(), w(), { groups: 1.5 }, ['options.groups', '1.5']],
    ['inputLayout', x(), w(), { inputLayout: 'NCHW' }, ['options.inputLayout', "'NCHW'", "'nchw' or 'nhwc'"]],
    ['filterLayout', x(), w(), { filterLayout: 'oihw' }, ['options.filterLayout', "'oihw'", "'iohw' or 'hwoi' or 'ohwi'"]],
    ['input channels vs filter input channels', x(), { data: new Float32Array(48), shape: [3, 4, 2, 2] }, {}, ['channels', '(2', '(3', '[1, 2, 3, 3]', '[3, 4, 2, 2]']],
    ['input channels vs nhwc', { data: new Float32Array(27), shape: [1, 3, 3, 3] }, w(), { inputLayout: 'nhwc', filterLayout: 'hwoi' }, ['channels', '(3', '(2', "'nhwc'", "'hwoi'"]],
    ['groups must divide input channels', x(), w(), { groups: 4 }, ['options.groups', '4', 'divide', '2']],
    ['bias shape', x(), w(), { bias: { data: new Float32Array(3), shape: [3] } }, ['options.bias.shape', '[3]', '[4]']],
    ['bias shape with groups', x(), w(), { groups: 2, bias: { data: new Float32Array(4), shape: [4] } }, ['options.bias.shape', '[4]', '[8]']],
    ['bias rank', x(), w(), { bias: { data: new Float32Array(4), shape: [1, 4] } }, ['options.bias.shape', '[1, 4]']],
    ['bias dtype', x(), w(), { bias: { data: new Float64Array(4), shape: [4] } }, ['options.bias.dtype', 'float64']],
    ['outputSizes below the calculated size', x(), w(), { strides: [2, 2], outputSizes: [5, 6] }, ['options.outputSizes[0]', '[5, 6]', '[6, 7]']],
    ['outputSizes at calculated + stride', x(), w(), { strides: [2, 2], outputSizes: [6, 8] }, ['options.outputSizes[1]', '[6, 8]', '[6, 7]']],
    ['output size below 1', x(), w(), { padding: [3, 2, 0, 0] }, ['height', 'at least 1', 'options.padding=[3, 2, 0, 0]']],
    ['options not an object', x(), w(), 'nchw', ['options', "'nchw'"]],
    ['filter data length', x(), { data: new Float32Array(5), shape: [2, 4, 2, 2] }, {}, ['filter.data', '5', '32']],
  ];
  for (const [what, input, filter, options, words] of bad) {
    test(what, () => {
      expectArgumentError(lib, () => lib.convTranspose2d(input, filter, options), 'convTranspose2d', words);
    });
  }
  test('options.label starts the messages, the core\'s too', () => {
    expect(() => lib.convTranspose2d(x(), w(), { label: 'decoder.up1', strides: [0, 1] })).toThrow(/^decoder\.up1: options\.strides/);
    expect(() => lib.convTranspose2d({ data: new Float32Array(3), shape: [1, 2, 3, 3] }, w(), { label: 'decoder.up1' })).toThrow(/^decoder\.up1: input\.data has 3 elements/);
  });
  test('after each error the next good call works, and no wasm memory is left held', () => {
    const good = () => lib.convTranspose2d({ data: new Float32Array(18).fill(1), shape: [1, 2, 3, 3] }, { data: new Float32Array(32).fill(1), shape: [2, 4, 2, 2] });
    good();
    const before = lib.heapStats().usedBytes;
    for (const [, input, filter, options] of bad) {
      expect(() => lib.convTranspose2d(input, filter, options)).toThrow(lib.ArgumentError);
      const y = good();
      expect(y.shape).toEqual([1, 4, 4, 4]);
      expect(y.data[0]).toBe(2);
    }
    // An error inside the prepared op's run (input data too short) disposes it.
    expect(() => lib.convTranspose2d({ data: new Float32Array(3), shape: [1, 2, 3, 3] }, w())).toThrow(/input\.data has 3 elements/);
    expect(lib.heapStats().usedBytes).toBe(before);
  });
});

test('each option and argument property is read once', () => {
  const reads = {};
  const counted = (name, target) => new Proxy(target, {
    get(t, key, receiver) {
      const k = `${name}.${String(key)}`;
      reads[k] = (reads[k] ?? 0) + 1;
      return Reflect.get(t, key, receiver);
    },
  });
  const options = counted('options', { strides: [2, 2], padding: [1, 0, 0, 1], dilations: [1, 1], outputPadding: [1, 1], inputLayout: 'nhwc', filterLayout: 'ohwi', label: 'x' });
  const y = lib.convTranspose2d(counted('input', { data: new Float32Array(18), shape: [1, 3, 3, 2] }),
    counted('filter', { data: new Float32Array(32), shape: [4, 2, 2, 2] }), options);
  expect(y.shape).toEqual([1, 6, 6, 4]);
  for (const [key, n] of Object.entries(reads)) expect([key, n]).toEqual([key, 1]);
  expect(reads['options.strides']).toBe(1);
  expect(reads['input.data']).toBe(1);
});

test('tsc --strict: results typed by the dtype, option names and layouts checked', () => {
  const { execFileSync } = require('child_process');
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctw-webnn-types-'));
  try {
    const entry = JSON.stringify(path.join(ROOT, 'dist', 'index.js'));
    fs.writeFileSync(path.join(dir, 'use.ts'), `import { convTranspose2d, onnxConvTranspose, onnxConvTransposeOptions } from ${entry};
import type { ConvTranspose2dOptions } from ${entry};
const x = { data: new Float32Array(16), shape: [1, 1, 4, 4] };
const w = { data: new Float32Array(9), shape: [1, 1, 3, 3] };
const f: Float32Array = convTranspose2d(x, w, { strides: [2, 2], outputPadding: [1, 1], inputLayout: 'nchw', filterLayout: 'hwoi' }).data;
const h: Uint16Array = convTranspose2d({ data: new Uint16Array(16), shape: [1, 1, 4, 4], dtype: 'float16' }, w).data;
const o: ConvTranspose2dOptions = onnxConvTransposeOptions([1, 1, 4, 4], [1, 1, 3, 3], { pads: [1, 1, 1, 1], auto_pad: 'NOTSET' });
const y = onnxConvTranspose(x, w, { strides: [2, 2] }, { data: new Float32Array(1), shape: [1] });
convTranspose2d(x, w, { activation: { type: 'clamp', minValue: 0, maxValue: 1 }, groups: 1, label: 'up' });
// @ts-expect-error layouts are lower case
convTranspose2d(x, w, { inputLayout: 'NCHW' });
// @ts-expect-error no such filter layout
convTranspose2d(x, w, { filterLayout: 'oihw' });
// @ts-expect-error WebNN's padding is a list of four numbers
convTranspose2d(x, w, { padding: 'same' });
// @ts-expect-error auto_pad is upper case
onnxConvTranspose(x, w, { auto_pad: 'same_upper' });
declare const console: { log(...values: unknown[]): void };
console.log(f, h, o, y);
`);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', lib: ['es2022'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [], skipLibCheck: false },
      files: ['use.ts'],
    }));
    let out = '';
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    } catch (e) {
      out = `${e.stdout}${e.stderr}`;
    }
    expect(out).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
