'use strict';
// Bad arguments must throw a JS Error (not a bare number from a C++ throw, not
// an abort) whose message starts with the op name ('conv_transpose' or the
// given `name`), names the offending argument and shows the offending value.
// After every error a good call must still give the right answer (the module
// must not be left poisoned: leaked locks, a dead heap, stale state).
//
// Argument naming in messages is matched tolerantly (e.g. /output.?shape/i
// matches output_shape and outputShape); for the offending value any one of a
// few reasonable renderings is accepted.
//
// Tolerance for the good calls: float32 vs float64 reference,
// 1e-5 * sum|x*w| + 1e-6 (see helpers/reference.js, f32Tol).

const R = require('./helpers/reference');

let lib;

beforeAll(async () => {
  lib = require('../..');
  await lib.init();
});

// ---------------------------------------------------------------------------
// A good call, run after every error
// ---------------------------------------------------------------------------

const goodRng = R.mulberry32(31337);
const goodCases = [
  R.makeCase(goodRng, {
    channelsFirst: false, batch: 2, cin: 3, cout: 5, inSp: [3, 4], kSp: [3, 2],
    strides: [2, 3], dilations: [1, 1], padding: 'SAME', outSp: [6, 11],
  }),
  R.makeCase(goodRng, {
    channelsFirst: true, batch: 1, cin: 17, cout: 2, inSp: [5], kSp: [3],
    strides: [2], dilations: [2], padding: 'VALID', outSp: [14],
  }),
];
const goodRefs = goodCases.map((c) => R.refFor(c));
let goodTurn = 0;

function goodCallStillWorks() {
  const k = goodTurn++ % goodCases.length;
  const c = goodCases[k];
  const N = c.xShape.length - 2;
  const res = lib.convTranspose(
    { data: c.x, shape: c.xShape },
    { data: c.w, shape: c.wShape },
    c.outShape,
    c.strides,
    c.padding,
    R.dataFormatFor(N, c.channelsFirst),
    c.dilations,
  );
  expect(Array.from(res.shape)).toEqual(c.outShape);
  R.assertClose(res.data, goodRefs[k].out, R.f32Tol(goodRefs[k].absSum), 'good call after an error');
}

// ---------------------------------------------------------------------------
// Base arguments that are valid; each case breaks one thing
// ---------------------------------------------------------------------------

const f32 = (n) => new Float32Array(Math.max(0, n)).fill(0.5);

// 2-D NHWC: input 3x3, SAME, stride 2 -> legal outputs 5 or 6.
function base2d() {
  return {
    input: { data: f32(18), shape: [1, 3, 3, 2] },
    filters: { data: f32(72), shape: [3, 3, 4, 2] },
    outputShape: [1, 6, 6, 4],
    strides: 2,
    padding: 'SAME',
    dataFormat: null,
    dilations: null,
    name: undefined,
  };
}
// 2-D NCHW version.
function base2dCF() {
  return { ...base2d(), input: { data: f32(18), shape: [1, 2, 3, 3] }, outputShape: [1, 4, 6, 6], dataFormat: 'NCHW' };
}
// 1-D NWC: input 3, kernel 3, SAME, stride 2.
function base1d() {
  return {
    ...base2d(),
    input: { data: f32(6), shape: [1, 3, 2] },
    filters: { data: f32(24), shape: [3, 4, 2] },
    outputShape: [1, 6, 4],
  };
}

function call(a) {
  const args = [a.input, a.filters, a.outputShape, a.strides, a.padding, a.dataFormat, a.dilations];
  if (a.name !== undefined) args.push(a.name);
  return lib.convTranspose(...args);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs thunk, which must throw an Error whose message starts with `name`,
 * matches `arg` and contains one of `values`; then runs a good call.
 */
function expectBad(thunk, { arg, values, name = 'conv_transpose', maxMs = 2000 }) {
  let err = null;
  let returned;
  const t0 = Date.now();
  try {
    returned = thunk();
  } catch (e) {
    err = e;
  }
  const ms = Date.now() - t0;
  if (err === null) {
    const shape = returned && returned.shape ? ` (returned shape [${Array.from(returned.shape)}])` : '';
    throw new Error(`expected an Error, but the call returned${shape}`);
  }
  if (!(err instanceof Error)) {
    throw new Error(`expected an Error instance, got ${typeof err}: ${String(err)}`);
  }
  const msg = err.message;
  expect(msg).toMatch(new RegExp('^' + escapeRe(name)));
  if (arg) expect(msg).toMatch(arg);
  if (values && !values.some((v) => msg.includes(v))) {
    throw new Error(`message does not show the offending value (one of ${JSON.stringify(values)}): "${msg}"`);
  }
  expect(ms).toBeLessThan(maxMs);
  goodCallStillWorks();
  return err;
}

const OUT = /output.?shape/i;
const DF = /data.?format/i;

// [title, make-args, expectations]
const cases = [
  // ranks
  ['input rank 2', () => ({ ...base2d(), input: { data: f32(9), shape: [3, 3] } }),
    { arg: /input/i, values: ['2', '3,3', '3, 3'] }],
  ['input rank 6', () => ({
    ...base2d(), input: { data: f32(128), shape: [1, 2, 2, 2, 2, 8] }, filters: { data: f32(8), shape: [1, 1, 1, 1, 1, 8] },
  }), { arg: /input/i, values: ['6', '2,2,2', '2, 2, 2'] }],
  ['filters rank 3 for 2-D input', () => ({ ...base2d(), filters: { data: f32(24), shape: [3, 4, 2] } }),
    { arg: /filters/i, values: ['3', '3,4,2', '3, 4, 2'] }],
  ['filters rank 5 for 2-D input', () => ({ ...base2d(), filters: { data: f32(72), shape: [1, 3, 3, 4, 2] } }),
    { arg: /filters/i, values: ['5', '1,3,3,4,2', '1, 3, 3, 4, 2'] }],
  ['outputShape rank 3 for 2-D input', () => ({ ...base2d(), outputShape: [1, 6, 4] }),
    { arg: OUT, values: ['3', '1,6,4', '1, 6, 4'] }],
  ['outputShape rank 5 for 2-D input', () => ({ ...base2d(), outputShape: [1, 6, 6, 4, 1] }),
    { arg: OUT, values: ['5', '1,6,6,4,1', '1, 6, 6, 4, 1'] }],

  // data length vs shape
  ['input data length 17 for shape [1,3,3,2]', () => ({ ...base2d(), input: { data: f32(17), shape: [1, 3, 3, 2] } }),
    { arg: /input/i, values: ['17'] }],
  ['input data length 19 for shape [1,3,3,2]', () => ({ ...base2d(), input: { data: f32(19), shape: [1, 3, 3, 2] } }),
    { arg: /input/i, values: ['19'] }],
  ['filters data length 71 for shape [3,3,4,2]', () => ({ ...base2d(), filters: { data: f32(71), shape: [3, 3, 4, 2] } }),
    { arg: /filters/i, values: ['71'] }],
  // Consistent shapes otherwise, so only the data length (or the memory
  // needed) is wrong; must throw without trying to allocate 160 GB.
  ['input shape claims 2e10 elements with 18 values', () => ({
    ...base2d(), input: { data: f32(18), shape: [1, 100000, 100000, 2] }, outputShape: [1, 200000, 200000, 4],
  }), { arg: /input/i, values: ['100000', '18'] }],

  // non-integer / negative / NaN dims
  ['non-integer input dim', () => ({ ...base2d(), input: { data: f32(21), shape: [1, 3, 3.5, 2] } }),
    { arg: /input/i, values: ['3.5'] }],
  ['non-integer filters dim', () => ({ ...base2d(), filters: { data: f32(60), shape: [3, 2.5, 4, 2] } }),
    { arg: /filters/i, values: ['2.5'] }],
  ['non-integer outputShape dim', () => ({ ...base2d(), outputShape: [1, 6, 5.5, 4] }),
    { arg: OUT, values: ['5.5'] }],
  ['NaN outputShape dim', () => ({ ...base2d(), outputShape: [1, 6, NaN, 4] }),
    { arg: OUT, values: ['NaN'] }],
  ['negative input dim', () => ({ ...base2d(), input: { data: f32(18), shape: [1, -3, 3, 2] } }),
    { arg: /input/i, values: ['-3'] }],
  ['negative filters dim', () => ({ ...base2d(), filters: { data: f32(72), shape: [-3, 3, 4, 2] } }),
    { arg: /filters/i, values: ['-3'] }],
  ['negative outputShape dim', () => ({ ...base2d(), outputShape: [1, -6, 6, 4] }),
    { arg: OUT, values: ['-6'] }],

  // padding
  ['unknown padding string', () => ({ ...base2d(), padding: 'FULL' }), { arg: /padding/i, values: ['FULL'] }],
  ['padding of a wrong type (number)', () => ({ ...base2d(), padding: 42 }), { arg: /padding/i, values: ['42'] }],
  ['explicit padding with N pairs instead of N+2', () => ({ ...base2d(), padding: [[1, 1], [1, 1]] }),
    { arg: /padding/i, values: ['2', '[[1,1],[1,1]]'] }],
  ['explicit padding with 3 pairs for 2-D', () => ({ ...base2d(), padding: [[0, 0], [1, 1], [0, 0]] }),
    { arg: /padding/i, values: ['3'] }],
  ['explicit padding non-zero on batch', () => ({ ...base2d(), outputShape: [1, 5, 5, 4], padding: [[1, 0], [1, 1], [1, 1], [0, 0]] }),
    { arg: /padding/i, values: ['1'] }],
  ['explicit padding non-zero on channels (NHWC)', () => ({ ...base2d(), outputShape: [1, 5, 5, 4], padding: [[0, 0], [1, 1], [1, 1], [0, 2]] }),
    { arg: /padding/i, values: ['2'] }],
  ['explicit padding non-zero on channels (NCHW: 2nd pair)', () => ({
    ...base2dCF(), outputShape: [1, 4, 5, 5], padding: [[0, 0], [0, 3], [1, 1], [1, 1]],
  }), { arg: /padding/i, values: ['3'] }],
  ['explicit padding negative', () => ({ ...base2d(), outputShape: [1, 5, 5, 4], padding: [[0, 0], [-1, 3], [1, 1], [0, 0]] }),
    { arg: /padding/i, values: ['-1'] }],
  ['explicit padding pair of length 1', () => ({ ...base2d(), outputShape: [1, 5, 5, 4], padding: [[0, 0], [2], [1, 1], [0, 0]] }),
    { arg: /padding/i }],
  ['explicit padding non-integer', () => ({ ...base2d(), outputShape: [1, 5, 5, 4], padding: [[0, 0], [0.5, 1.5], [1, 1], [0, 0]] }),
    { arg: /padding/i, values: ['0.5', '1.5'] }],

  // dataFormat
  ['unknown dataFormat', () => ({ ...base2d(), dataFormat: 'NHCW' }), { arg: DF, values: ['NHCW'] }],
  ['NCHW with 1-D input', () => ({ ...base1d(), dataFormat: 'NCHW' }), { arg: DF, values: ['NCHW'] }],
  ['NWC with 2-D input', () => ({ ...base2d(), dataFormat: 'NWC' }), { arg: DF, values: ['NWC'] }],
  ['NCDHW with 2-D input', () => ({ ...base2d(), dataFormat: 'NCDHW' }), { arg: DF, values: ['NCDHW'] }],
  ['dataFormat of a wrong type', () => ({ ...base2d(), dataFormat: 7 }), { arg: DF, values: ['7'] }],

  // strides
  ['stride 0', () => ({ ...base2d(), strides: 0 }), { arg: /strides/i, values: ['0'] }],
  ['stride -1', () => ({ ...base2d(), strides: -1 }), { arg: /strides/i, values: ['-1'] }],
  ['stride 1.5', () => ({ ...base2d(), strides: 1.5 }), { arg: /strides/i, values: ['1.5'] }],
  ['strides [2, 0]', () => ({ ...base2d(), strides: [2, 0] }), { arg: /strides/i, values: ['0'] }],
  ['strides list of length 3 for 2-D', () => ({ ...base2d(), strides: [2, 2, 2] }),
    { arg: /strides/i, values: ['3', '2,2,2', '2, 2, 2'] }],
  ['strides list of length 0', () => ({ ...base2d(), strides: [] }), { arg: /strides/i, values: ['0', '[]'] }],
  ['N+2 strides with batch entry 2 (NHWC)', () => ({ ...base2d(), strides: [2, 2, 2, 1] }),
    { arg: /strides/i, values: ['2'] }],
  ['N+2 strides with channel entry 2 (NHWC)', () => ({ ...base2d(), strides: [1, 2, 2, 2] }),
    { arg: /strides/i, values: ['2'] }],
  ['N+2 strides with channel entry 3 (NCHW, 2nd entry)', () => ({ ...base2dCF(), strides: [1, 3, 2, 2] }),
    { arg: /strides/i, values: ['3'] }],

  // dilations
  ['dilation 0', () => ({ ...base2d(), dilations: 0 }), { arg: /dilations/i, values: ['0'] }],
  ['dilations [1, 0]', () => ({ ...base2d(), dilations: [1, 0] }), { arg: /dilations/i, values: ['0'] }],
  ['dilation -2', () => ({ ...base2d(), dilations: -2 }), { arg: /dilations/i, values: ['-2'] }],
  ['dilations list of length 3 for 2-D', () => ({ ...base2d(), dilations: [1, 1, 1] }),
    { arg: /dilations/i, values: ['3', '1,1,1', '1, 1, 1'] }],
  ['N+2 dilations with batch entry 2 (NHWC)', () => ({ ...base2d(), dilations: [2, 1, 1, 1] }),
    { arg: /dilations/i, values: ['2'] }],
  ['N+2 dilations with channel entry 2 (NCHW, 2nd entry)', () => ({ ...base2dCF(), dilations: [1, 2, 1, 1] }),
    { arg: /dilations/i, values: ['2'] }],

  // dtypes
  ['input float32, filters float64', () => ({
    ...base2d(), filters: { data: new Float64Array(72), shape: [3, 3, 4, 2], dtype: 'float64' },
  }), { arg: /dtype|type|filters/i, values: ['float64'] }],
  ['input float16, filters bfloat16', () => ({
    ...base2d(),
    input: { data: new Uint16Array(18), shape: [1, 3, 3, 2], dtype: 'float16' },
    filters: { data: new Uint16Array(72), shape: [3, 3, 4, 2], dtype: 'bfloat16' },
  }), { arg: /dtype|type|filters/i, values: ['bfloat16', 'float16'] }],
  ['unsupported dtype int32', () => ({
    ...base2d(),
    input: { data: new Int32Array(18), shape: [1, 3, 3, 2], dtype: 'int32' },
    filters: { data: new Int32Array(72), shape: [3, 3, 4, 2], dtype: 'int32' },
  }), { arg: /dtype|type|input/i, values: ['int32'] }],

  // channels / batch consistency
  ['filters last dim (5) != input channels (2)', () => ({ ...base2d(), filters: { data: f32(180), shape: [3, 3, 4, 5] } }),
    { arg: /filters|input|channel/i, values: ['5'] }],
  ['filters last dim != input channels (NCHW)', () => ({ ...base2dCF(), filters: { data: f32(108), shape: [3, 3, 4, 3] } }),
    { arg: /filters|input|channel/i, values: ['3'] }],
  ['filters output channels (3) != outputShape channels (4)', () => ({ ...base2d(), filters: { data: f32(54), shape: [3, 3, 3, 2] } }),
    { arg: /filters|output.?shape|channel/i, values: ['3'] }],
  ['outputShape channels (7) != filters output channels (4)', () => ({ ...base2d(), outputShape: [1, 6, 6, 7] }),
    { arg: /filters|output.?shape|channel/i, values: ['7'] }],
  ['outputShape batch (2) != input batch (1)', () => ({ ...base2d(), outputShape: [2, 6, 6, 4] }),
    { arg: /output.?shape|batch/i, values: ['2'] }],

  // illegal output sizes (TF allows exactly `stride` sizes per dim)
  ['SAME, input 3, stride 2, output 7 (tfjs accepts it; TF does not)', () => ({ ...base1d(), outputShape: [1, 7, 4] }),
    { arg: OUT, values: ['7'] }],
  ['SAME, input 3, stride 2, output 4', () => ({ ...base1d(), outputShape: [1, 4, 4] }),
    { arg: OUT, values: ['4'] }],
  ['SAME 2-D, second spatial dim illegal (9)', () => ({ ...base2d(), outputShape: [1, 6, 9, 4] }),
    { arg: OUT, values: ['9'] }],
  ['VALID, input 3, kernel 3, stride 1, output 6 (legal: 5)', () => ({ ...base1d(), strides: 1, padding: 'VALID', outputShape: [1, 6, 4] }),
    { arg: OUT, values: ['6'] }],
  ['VALID, input 3, kernel 3, stride 2, output 6 (legal: 7, 8)', () => ({ ...base1d(), padding: 'VALID', outputShape: [1, 6, 4] }),
    { arg: OUT, values: ['6'] }],
  ['VALID, input 3, kernel 3, stride 2, output 9 (legal: 7, 8)', () => ({ ...base1d(), padding: 'VALID', outputShape: [1, 9, 4] }),
    { arg: OUT, values: ['9'] }],
  ['VALID with dilation 2 (eff 5), input 3, stride 1, output 5 (legal: 7)', () => ({
    ...base1d(), strides: 1, dilations: 2, padding: 'VALID', outputShape: [1, 5, 4],
  }), { arg: OUT, values: ['5'] }],
  ['explicit [1,1], input 3, kernel 3, stride 1, output 4 (legal: 3)', () => ({
    ...base1d(), strides: 1, padding: [[0, 0], [1, 1], [0, 0]], outputShape: [1, 4, 4],
  }), { arg: OUT, values: ['4'] }],
  ['output spatial size 0', () => ({ ...base1d(), outputShape: [1, 0, 4] }), { arg: OUT, values: ['0'] }],

  // missing / wrong-typed arguments
  ['input null', () => ({ ...base2d(), input: null }), { arg: /input/i }],
  ['filters undefined', () => ({ ...base2d(), filters: undefined }), { arg: /filters/i }],
  ['outputShape null', () => ({ ...base2d(), outputShape: null }), { arg: OUT }],
  ['input data not a typed array', () => ({ ...base2d(), input: { data: 'abc', shape: [1, 3, 3, 2] } }), { arg: /input/i }],
];

describe('bad arguments throw a descriptive Error, then a good call still works', () => {
  test.each(cases)('%s', (_title, make, exp) => {
    expectBad(() => call(make()), exp);
  });
});

describe('sizes too large to compute throw an Error quickly', () => {
  // All three are TF-legal (huge strides make a 1-pixel input legal), but the
  // output cannot be held: 6.4e11 float32s (2.56 TB) cannot fit in wasm
  // memory; 2^60 elements overflow exact integer arithmetic in doubles (2^53)
  // and 64-bit byte counts; a dim above 2^31 overflows int32 sizes.
  test('outputShape [1, 100000, 100000, 64] (2.56 TB)', () => {
    expectBad(
      () =>
        lib.convTranspose(
          { data: f32(64), shape: [1, 1, 1, 64] },
          { data: f32(64 * 64), shape: [1, 1, 64, 64] },
          [1, 100000, 100000, 64],
          100000,
          'VALID',
        ),
      { maxMs: 5000 },
    );
  });
  test('3-D outputShape [1, 2^20, 2^20, 2^20, 1] (2^60 elements)', () => {
    const big = 2 ** 20;
    expectBad(
      () =>
        lib.convTranspose(
          { data: f32(1), shape: [1, 1, 1, 1, 1] },
          { data: f32(1), shape: [1, 1, 1, 1, 1] },
          [1, big, big, big, 1],
          big,
          'VALID',
        ),
      { maxMs: 5000 },
    );
  });
  test('1-D outputShape [1, 2^31 + 5, 1]', () => {
    const big = 2 ** 31 + 5;
    expectBad(
      () =>
        lib.convTranspose(
          { data: f32(1), shape: [1, 1, 1] },
          { data: f32(1), shape: [1, 1, 1] },
          [1, big, 1],
          big,
          'VALID',
        ),
      { maxMs: 5000 },
    );
  });
  test('2-D SAME with 2^27 x 2^27 output (2^54 elements)', () => {
    const big = 2 ** 27;
    expectBad(
      () =>
        lib.convTranspose(
          { data: f32(1), shape: [1, 1, 1, 1] },
          { data: f32(1), shape: [1, 1, 1, 1] },
          [1, big, big, 1],
          big,
          'SAME',
        ),
      { maxMs: 5000 },
    );
  });
});

describe('the prepared form\'s kernel option', () => {
  const w = (cout) => ({ data: new Float32Array(9 * cout * 2), shape: [3, 3, cout, 2] });
  test.each([
    ['an unknown name', 'bogus', 2, /conv_transpose: kernel='bogus' is not one of 'auto', 'igemm', 'dot', 'pixels', 'columns'/],
    ['the wrong case', 'DOT', 2, /kernel='DOT' is not one of/],
    ['a narrow kernel for 5 output channels', 'dot', 5, /kernel='dot' serves 1 to 4 output channels; the filters have 5/],
    ['pixels for 9 output channels', 'pixels', 9, /kernel='pixels' serves 1 to 4 output channels; the filters have 9/],
    ['columns for a 3-wide kernel at stride 2', 'columns', 2,
      /kernel='columns' serves filters whose width is a multiple of the width stride \(stride at least 2, dilation 1\); here width 3, stride 2, dilation 1/],
  ])('%s is an ArgumentError naming the value and the rule', (_, kernel, cout, message) => {
    let err;
    try {
      lib.createConvTranspose(w(cout), { strides: 2, kernel });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(lib.ArgumentError);
    expect(err.message).toMatch(message);
    // The module still works.
    const op = lib.createConvTranspose(w(cout), { strides: 2, kernel: 'igemm' });
    expect(op.run({ data: new Float32Array(2 * 2 * 2), shape: [1, 2, 2, 2] }, [1, 4, 4, cout]).data.length).toBe(16 * cout);
    op.dispose();
  });
});

describe('custom name starts every message', () => {
  test.each([
    ['stride 0', { strides: 0 }, /strides/i],
    ['unknown padding', { padding: 'FULL' }, /padding/i],
    ['unknown dataFormat', { dataFormat: 'NHCW' }, DF],
    ['illegal outputShape', { outputShape: [1, 7, 6, 4] }, OUT],
    ['input data length', { input: { data: f32(5), shape: [1, 3, 3, 2] } }, /input/i],
    ['dilation 0', { dilations: 0 }, /dilations/i],
  ])('%s', (_t, over, arg) => {
    for (const name of ['my_deconv', 'decoder/up1']) {
      expectBad(() => call({ ...base2d(), ...over, name }), { name, arg });
    }
  });
  test('a valid call with a custom name works', () => {
    const a = base2d();
    const res = call({ ...a, name: 'my_deconv' });
    expect(Array.from(res.shape)).toEqual([1, 6, 6, 4]);
  });
});

describe('the module keeps working after many errors', () => {
  test('200 alternating bad and good calls', () => {
    for (let t = 0; t < 200; t++) {
      const [, make] = cases[t % cases.length];
      try {
        call(make());
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`non-Error thrown: ${String(e)}`);
      }
    }
    goodCallStillWorks();
    goodCallStillWorks();
  });
});
