'use strict';
// convTransposeAsync's 9th argument, { groups, bias, activation }: the
// worker runs createConvTranspose with those options, so its answers must
// be the synchronous prepared form's, bit for bit (every output element is
// computed in an order that does not depend on the thread or the instance).
// An option whose form is wrong rejects before anything reaches the worker;
// a rule the core checks rejects from the worker with the synchronous
// message; either way the next call works.
const lib = require('../..');
const R = require('./helpers/reference');
const { ACTIVATIONS, layerCase, biasArg, describeLayer, windowOptions, tensorsOf } = require('./helpers/layer-cases');

beforeAll(() => lib.init({ numThreads: 2 }));
afterAll(() => lib.terminateWorker());

function asyncArgs(c, options) {
  const { x, w } = tensorsOf(c);
  const o = windowOptions(c);
  return [x, w, c.outShape, o.strides, o.padding, o.dataFormat, o.dilations, null, options];
}

function prepared(c, options) {
  const { x, w } = tensorsOf(c);
  const op = lib.createConvTranspose(w, { ...windowOptions(c), ...options });
  try {
    return op.run(x, c.outShape);
  } finally {
    op.dispose();
  }
}

function bytes(t) {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

// Settles `p` now if it has settled already, else answers 'pending'.
function settledYet(p) {
  return Promise.race([p, Promise.resolve('pending')]);
}

test('calls in flight with groups, bias and every activation equal the synchronous prepared form bit for bit', async () => {
  const rng = R.mulberry32(20261208);
  const cases = Array.from({ length: 2 * ACTIVATIONS.length }, (_, i) => layerCase(rng, 5 * i));
  const optionsOf = (c) => ({ groups: c.groups, bias: biasArg(c), activation: c.activation });
  const results = await Promise.all(cases.map((c) => lib.convTransposeAsync(...asyncArgs(c, optionsOf(c)))));
  results.forEach((y, i) => {
    const c = cases[i];
    const want = prepared(c, optionsOf(c));
    expect(y.shape).toEqual(c.outShape);
    expect(y.dtype).toBe(c.dtype);
    if (!bytes(y).equals(bytes(want))) throw new Error(`case ${i}: async differs from the prepared form: ${describeLayer(c)}`);
  });
});

test('no layer option (absent, null, {} or all undefined) gives the one-call result', async () => {
  const c = layerCase(R.mulberry32(7), 0);
  const { x, w } = tensorsOf(c);
  const o = windowOptions(c);
  const want = lib.convTranspose(x, w, c.outShape, o.strides, o.padding, o.dataFormat, o.dilations);
  for (const options of [undefined, null, {}, { groups: undefined, bias: undefined, activation: undefined }]) {
    const y = await lib.convTransposeAsync(...asyncArgs(c, options));
    expect(bytes(y).equals(bytes(want))).toBe(true);
  }
});

test("the bias is taken when the call is made: changing the caller's array after it changes nothing", async () => {
  const c = layerCase(R.mulberry32(8), 1); // float32
  const bias = Float32Array.from(c.bias ?? new Array(c.cout).fill(0.5));
  const want = prepared(c, { groups: c.groups, bias: Float32Array.from(bias), activation: 'relu' });
  const pending = lib.convTransposeAsync(...asyncArgs(c, { groups: c.groups, bias, activation: 'relu' }));
  bias.fill(100);
  expect(bytes(await pending).equals(bytes(want))).toBe(true);
});

describe('argument errors', () => {
  const x = { data: Float32Array.from({ length: 3 * 3 * 4 }, (_, i) => (i % 5) - 2), shape: [1, 3, 3, 4] };
  const w = { data: Float32Array.from({ length: 2 * 2 * 2 * 4 }, (_, i) => (i % 3) - 1), shape: [2, 2, 2, 4] };
  const good = { groups: 2, bias: [0.5, -1, 2, 0], activation: 'relu6' };
  const call = (options) => lib.convTransposeAsync(x, w, [1, 6, 6, 4], 2, 'VALID', null, null, 'up', options);
  const syncMessage = (options) => {
    try {
      lib.createConvTranspose(w, { strides: 2, padding: 'VALID', name: 'up', ...options }).dispose();
    } catch (e) {
      return e.message;
    }
    return null;
  };
  const expectGoodCallWorks = async () => {
    const want = lib.createConvTranspose(w, { strides: 2, padding: 'VALID', ...good }).run(x, [1, 6, 6, 4]);
    expect(Array.from((await call(good)).data)).toEqual(Array.from(want.data));
  };

  // The form of an option, checked on the calling side: the promise is
  // rejected when the call returns, with the synchronous form's message.
  test.each([
    ['groups 2.5', { groups: 2.5 }],
    ['bias a string', { bias: 'abc' }],
    ['bias an Int32Array', { bias: new Int32Array(4) }],
    ['bias 2-D', { bias: { data: new Float32Array(4), shape: [2, 2] } }],
    ['activation a number', { activation: 3 }],
    ['alpha not a number', { activation: { type: 'elu', alpha: 'x' } }],
  ])('%s rejects before reaching the worker', async (_what, change) => {
    const options = { ...good, ...change };
    const message = syncMessage(options);
    expect(message).toMatch(/^up: /);
    const p = call(options);
    await expect(settledYet(p)).rejects.toThrow(lib.ArgumentError);
    await expect(p).rejects.toThrow(message);
    await expectGoodCallWorks();
  });

  test('options that are not an object reject before reaching the worker', async () => {
    const p = call(5);
    await expect(settledYet(p)).rejects.toThrow(lib.ArgumentError);
    await expect(p).rejects.toThrow(/^up: options must be an object like \{ groups, bias, activation \}\. Received: options=5$/);
    await expectGoodCallWorks();
  });

  // The core's rules, checked in the worker: the same ArgumentError.
  test.each([
    ['groups 0', { groups: 0 }],
    ['groups not dividing the channels', { groups: 3 }],
    ['a bias of the wrong length', { bias: [1, 2, 3] }],
    ['an unknown activation', { activation: 'swish' }],
    ['an infinite alpha', { activation: { type: 'leakyRelu', alpha: Infinity } }],
    ['clamp minValue > maxValue', { activation: { type: 'clamp', minValue: 1, maxValue: 0 } }],
  ])('%s rejects with the synchronous message', async (_what, change) => {
    const options = { ...good, ...change };
    const message = syncMessage(options);
    expect(message).toMatch(/^up: /);
    const p = call(options);
    await expect(p).rejects.toThrow(lib.ArgumentError);
    await expect(p).rejects.toThrow(message);
    await expectGoodCallWorks();
  });

  test("output_shape channels other than groups x the filters' output channels", async () => {
    const p = lib.convTransposeAsync(x, w, [1, 6, 6, 2], 2, 'VALID', null, null, 'up', good);
    await expect(p).rejects.toThrow(lib.ArgumentError);
    await expect(p).rejects.toThrow(/^up: output_shape's channels must equal groups x/);
    await expectGoodCallWorks();
  });
});
