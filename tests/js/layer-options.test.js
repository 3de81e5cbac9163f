'use strict';
// createConvTranspose's layer options (groups, bias, activation) against the
// float64 reference (helpers/reference.js, whose activations are written
// there from their definitions), on every kernel that serves each plan, and
// their argument errors.
//
// Tolerances: helpers/layer-cases.js states and justifies them.

const R = require('./helpers/reference');
const { ACTIVATIONS, layerCase, biasArg, kernelsFor, describeLayer, windowOptions, tensorsOf, checkAgainstRef } = require('./helpers/layer-cases');
const lib = require('../..');

beforeAll(() => lib.init({ numThreads: 2 }));

describe('groups, bias and activation against the float64 reference', () => {
  const rng = R.mulberry32(20261207);
  const cases = Array.from({ length: 3 * 4 * ACTIVATIONS.length }, (_, i) => layerCase(rng, i));
  test.each(cases.map((c, i) => [i, describeLayer(c), c]))('case %i: %s', (_i, _d, c) => {
    const ref = R.convTransposeRef(c);
    const { x, w } = tensorsOf(c);
    for (const kernel of kernelsFor(c)) {
      const op = lib.createConvTranspose(w, { ...windowOptions(c), groups: c.groups, bias: biasArg(c), activation: c.activation, kernel });
      try {
        if (kernel !== 'auto') expect(op.kernel).toBe(kernel);
        checkAgainstRef(c, ref, op.run(x, c.outShape), `kernel ${op.kernel} (${kernel}): ${describeLayer(c)}`);
      } finally {
        op.dispose();
      }
    }
  });

  test('the cases reach every kernel, every activation and groups 1, 2 and all channels', () => {
    const kernels = new Set(cases.flatMap(kernelsFor));
    expect([...kernels].sort()).toEqual(['auto', 'channelwise', 'columns', 'dot', 'igemm', 'pixels']);
    expect(new Set(cases.map((c) => JSON.stringify(c.activation))).size).toBe(ACTIVATIONS.length);
    expect(cases.some((c) => c.groups === 2)).toBe(true);
    expect(cases.some((c) => c.groups > 2 && c.groups === c.cin)).toBe(true);
  });
});

describe('the reference helper itself', () => {
  // Values the definitions give by hand, so a wrong helper cannot pass
  // unnoticed alongside a wrong library.
  test('activations at known points', () => {
    const a = (t, x) => R.activate(R.normalizeActivation(t), x);
    expect(a('gelu', 1)).toBeCloseTo(0.8413447460685429, 15);
    expect(a('gelu', -3)).toBeCloseTo(-0.0040496940948903, 15);
    expect(a('silu', 2)).toBeCloseTo(1.7615941559557649, 15);
    expect(a('relu6', 7)).toBe(6);
    expect(a('relu6', -1)).toBe(0);
    expect(a('leakyRelu', -2)).toBeCloseTo(-0.02, 15);
    expect(a('elu', -1)).toBeCloseTo(-0.6321205588285577, 15);
    expect(a({ type: 'clamp', minValue: -1 }, 5)).toBe(5);
    expect(R.erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(R.erfc(4) / 1.541725790028002e-8).toBeCloseTo(1, 13);
  });
});

describe('layer option errors', () => {
  const w = { data: Float32Array.from({ length: 2 * 2 * 2 * 4 }, (_, i) => ((i * 7) % 5) - 2), shape: [2, 2, 2, 4] };
  const x = { data: Float32Array.from({ length: 3 * 3 * 4 }, (_, i) => ((i * 3) % 7) - 3), shape: [1, 3, 3, 4] };
  const good = { strides: 2, padding: 'VALID', groups: 2, bias: [0.5, -1, 2, 0], activation: 'relu', name: 'decoder/up' };
  const goodRef = R.convTransposeRef({
    x: x.data, xShape: x.shape, w: w.data, wShape: w.shape, outShape: [1, 6, 6, 4], strides: [2, 2], dilations: [1, 1],
    padding: 'VALID', channelsFirst: false, groups: 2, bias: good.bias, activation: 'relu',
  });

  // Sums of a few small integers: exact in float32, so the results are exact.
  function expectGoodCallWorks() {
    const op = lib.createConvTranspose(w, good);
    try {
      expect(Array.from(op.run(x, [1, 6, 6, 4]).data)).toEqual(Array.from(goodRef.out));
    } finally {
      op.dispose();
    }
  }

  const bad = [
    ['groups 0', { groups: 0 }, /^decoder\/up: groups must be an integer >= 1 \(and below 2\^53\)\. Received: groups=0$/],
    ['groups 2.5', { groups: 2.5 }, /^decoder\/up: groups must be an integer >= 1 \(and below 2\^53\)\. Received: groups=2\.5$/],
    ['groups "2"', { groups: '2' }, /^decoder\/up: groups must be an integer >= 1 \(and below 2\^53\)\. Received: groups='2'$/],
    ['groups not dividing the input channels', { groups: 3 }, /^decoder\/up: .*divisible by groups.*filters\.shape=\[2, 2, 2, 4\].*groups=3/],
    ['a bias of the wrong length', { bias: [1, 2, 3] }, /^decoder\/up: bias must have one value per output channel \(4 = groups 2 x .*\)\. Received: a bias of 3 values/],
    ['a bias of the wrong type', { bias: new Int32Array(4) }, /^decoder\/up: bias must be a Float32Array, .*Received: bias=Int32Array\(4\)/],
    ['a bias of strings', { bias: ['1', 2, 3, 4] }, /^decoder\/up: bias must hold numbers only; element 0 is '1'/],
    ['a 2-D bias', { bias: { data: new Float32Array(4), shape: [2, 2] } }, /^decoder\/up: bias must be 1-D.*Received: bias\.shape=\[2, 2\]/],
    ['an unknown activation', { activation: 'swish' }, /^decoder\/up: activation must be one of .*'gelu'.*Received: activation='swish'$/],
    ['an activation that is a number', { activation: 3 }, /^decoder\/up: activation must be a name .*Received: activation=3$/],
    ['a non-numeric alpha', { activation: { type: 'elu', alpha: 'x' } }, /^decoder\/up: activation\.alpha must be a number\. Received: activation\.alpha='x'$/],
    ['a NaN alpha', { activation: { type: 'leakyRelu', alpha: NaN } }, /^decoder\/up: activation\.alpha must be a number\. Received: activation\.alpha=NaN$/],
    ['an infinite alpha', { activation: { type: 'leakyRelu', alpha: Infinity } }, /^decoder\/up: activation leakyRelu needs a finite alpha\. Received: activation\.alpha=Infinity$/],
    ['clamp minValue > maxValue', { activation: { type: 'clamp', minValue: 2, maxValue: 1 } }, /^decoder\/up: activation clamp needs minValue <= maxValue.*Received: activation\.minValue=2, activation\.maxValue=1$/],
    ['a narrow kernel forced with groups', { kernel: 'dot' }, /^decoder\/up: kernel='dot' serves groups=1 only.*groups=2$/],
  ];
  test.each(bad)('%s: ArgumentError naming the argument and value; the next good call works', (_what, change, message) => {
    let error = null;
    try {
      lib.createConvTranspose(w, { ...good, ...change }).dispose();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(lib.ArgumentError);
    expect(error.message).toMatch(message);
    expectGoodCallWorks();
  });

  test("output_shape channels other than groups x the filters' output channels: ArgumentError at run", () => {
    const op = lib.createConvTranspose(w, good);
    try {
      expect(() => op.run(x, [1, 6, 6, 2])).toThrow(lib.ArgumentError);
      expect(() => op.run(x, [1, 6, 6, 2])).toThrow(
        /^decoder\/up: output_shape's channels must equal groups x .*Received: output_shape=\[1, 6, 6, 2\] with 2 channels, groups=2/,
      );
      expect(Array.from(op.run(x, [1, 6, 6, 4]).data)).toEqual(Array.from(goodRef.out));
    } finally {
      op.dispose();
    }
    expectGoodCallWorks();
  });
});

describe('the layer options are read once', () => {
  const w = { data: Float32Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => (i % 5) - 2), shape: [3, 3, 3, 2] };
  const x = { data: Float32Array.from({ length: 4 * 4 * 2 }, (_, i) => (i % 3) - 1), shape: [1, 4, 4, 2] };
  const run = (options) => {
    const op = lib.createConvTranspose(w, { strides: 2, ...options });
    try {
      return Array.from(op.run(x, [1, 8, 8, 3]).data);
    } finally {
      op.dispose();
    }
  };

  test("changing the caller's bias array after create changes nothing", () => {
    const want = run({ bias: [1, -2, 3], activation: 'relu' });
    const bias = Float32Array.of(1, -2, 3);
    const op = lib.createConvTranspose(w, { strides: 2, bias, activation: 'relu' });
    try {
      bias.fill(100);
      expect(Array.from(op.run(x, [1, 8, 8, 3]).data)).toEqual(want);
      bias[0] = -100;
      expect(Array.from(op.run(x, [1, 8, 8, 3]).data)).toEqual(want);
    } finally {
      op.dispose();
    }
  });

  test('getters of bias, its elements and the activation are each read once', () => {
    const reads = { bias: 0, element: 0, activation: 0, alpha: 0 };
    const bias = [1, -2, 3];
    Object.defineProperty(bias, 0, { get: () => (reads.element++ === 0 ? 1 : 1000), enumerable: true });
    const act = {};
    Object.defineProperty(act, 'type', { get: () => 'leakyRelu', enumerable: true });
    Object.defineProperty(act, 'alpha', { get: () => (reads.alpha++ === 0 ? 0.25 : NaN), enumerable: true });
    const options = {};
    Object.defineProperty(options, 'bias', { get: () => (reads.bias++, bias), enumerable: true });
    Object.defineProperty(options, 'activation', { get: () => (reads.activation++, act), enumerable: true });
    expect(run(options)).toEqual(run({ bias: [1, -2, 3], activation: { type: 'leakyRelu', alpha: 0.25 } }));
    expect(reads).toEqual({ bias: 1, element: 1, activation: 1, alpha: 1 });
  });
});
