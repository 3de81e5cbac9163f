'use strict';
// Every argument is read once, into a copy of plain numbers, and only the
// copy is checked and used: a Proxy or getter that answers differently on a
// second read cannot slip a value past the checks. Typed arrays are known by
// their real kind (from any realm), plain arrays hold numbers only, and
// messages name the argument, the value (quoted at most 100 characters) and
// the rule.
const vm = require('vm');
const lib = require('../..');

beforeAll(() => lib.init());

const x = () => ({ data: Float32Array.from({ length: 64 }, (_, i) => i + 1), shape: [1, 8, 8, 1] });
const w = () => ({ data: Float32Array.from({ length: 9 }, (_, i) => 10 ** (i % 3)), shape: [3, 3, 1, 1] });

// A value that answers `first` on its first read and `later` on every other.
function flips(first, later) {
  let reads = 0;
  return () => (reads++ === 0 ? first : later);
}

function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('each argument read once', () => {
  test('a Proxy output shape answering 16 then 16.5 gives a [1, 16, 16, 1] result', () => {
    const next = flips(16, 16.5);
    const outShape = new Proxy([1, 16, 16, 1], { get: (t, k) => (k === '1' ? next() : t[k]) });
    const y = lib.convTranspose(x(), w(), outShape, 2);
    expect(y.shape).toEqual([1, 16, 16, 1]);
    expect(y.shape.every(Number.isInteger)).toBe(true);
  });

  test('a padding pair whose getter answers 1 then 2.9 runs with 1', () => {
    const next = flips(1, 2.9);
    const pair = [0, 1];
    Object.defineProperty(pair, 0, { get: next, enumerable: true });
    const padding = [[0, 0], pair, [1, 1], [0, 0]];
    const y = lib.convTranspose(x(), w(), [1, 15, 15, 1], 2, padding);
    const ref = lib.convTranspose(x(), w(), [1, 15, 15, 1], 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    expect(y.shape).toEqual([1, 15, 15, 1]);
    expect(Array.from(y.data)).toEqual(Array.from(ref.data));
  });

  test('strides whose getter answers 2 then NaN run with 2', () => {
    const next = flips(2, NaN);
    const strides = [2, 2];
    Object.defineProperty(strides, 0, { get: next, enumerable: true });
    expect(lib.convTranspose(x(), w(), [1, 16, 16, 1], strides).shape).toEqual([1, 16, 16, 1]);
  });

  test('a tensor whose shape getter flips is read once', () => {
    const t = { data: new Float32Array(64) };
    Object.defineProperty(t, 'shape', { get: flips([1, 8, 8, 1], [1, 8, 8.5, 1]) });
    expect(lib.convTranspose(t, w(), [1, 16, 16, 1], 2).shape).toEqual([1, 16, 16, 1]);
  });

  test('a prepared operator copies its options at create', () => {
    const opts = { strides: [2, 2], padding: [[0, 0], [1, 1], [1, 1], [0, 0]] };
    const op = lib.createConvTranspose(w(), opts);
    try {
      const before = op.run(x(), [1, 15, 15, 1]);
      opts.strides[0] = 3;
      opts.padding[1][0] = 0;
      opts.padding = 'VALID';
      opts.strides = 1;
      const again = op.run(x(), [1, 15, 15, 1]);
      expect(Array.from(again.data)).toEqual(Array.from(before.data));
      // A new shape plans anew, still with the options given at create.
      expect(op.run({ data: new Float32Array(16), shape: [1, 4, 4, 1] }, [1, 7, 7, 1]).shape).toEqual([1, 7, 7, 1]);
    } finally {
      op.dispose();
    }
  });
});

describe('data: numbers only, typed arrays by their real kind', () => {
  test('a plain array with anything but numbers is refused, naming the element', () => {
    for (const [data, re] of [
      [['x', null, undefined, {}], /input\.data must hold numbers only; element 0 is 'x'/],
      [[1, null, 3, 4], /element 1 is null/],
      [[[1, 2]], /element 0 is \[1, 2\]/],
    ]) {
      const e = thrown(() => lib.convTranspose({ data, shape: [1, 2, 2, 1] }, w(), [1, 4, 4, 1], 2));
      expect(e).toBeInstanceOf(lib.ArgumentError);
      expect(e.message).toMatch(re);
    }
    expect(Array.from(lib.convTranspose({ data: [1, 2, 3, 4], shape: [1, 2, 2, 1] }, { data: [1], shape: [1, 1, 1, 1] }, [1, 4, 4, 1], 2, 'VALID').data)
      .filter((v) => v)).toEqual([1, 2, 3, 4]);
  });

  test('an output array tagged Float32Array but really a Uint8Array is refused', () => {
    const out = new Uint8Array(256);
    Object.defineProperty(out, Symbol.toStringTag, { value: 'Float32Array' });
    const op = lib.createConvTranspose(w(), { strides: 2 });
    try {
      const e = thrown(() => op.run(x(), [1, 16, 16, 1], { output: out }));
      expect(e).toBeInstanceOf(lib.ArgumentError);
      expect(e.message).toMatch(/options\.output must be a Float32Array for dtype float32, got Uint8Array/);
    } finally {
      op.dispose();
    }
  });

  test('a forged own length on a typed array is not believed', () => {
    const data = new Float32Array(4);
    Object.defineProperty(data, 'length', { value: 64 });
    const e = thrown(() => lib.convTranspose({ data, shape: [1, 8, 8, 1] }, w(), [1, 16, 16, 1], 2));
    expect(e.message).toMatch(/input\.data has 4 elements but input\.shape=\[1, 8, 8, 1\] needs 64/);
  });

  test('typed arrays from another realm are accepted as input, filters and output alike', () => {
    const other = vm.runInNewContext('({ x: new Float32Array(64).fill(1), w: new Float32Array(9).fill(1), out: new Float32Array(256) })');
    expect(other.x instanceof Float32Array).toBe(false);
    const y = lib.convTranspose({ data: other.x, shape: [1, 8, 8, 1] }, { data: other.w, shape: [3, 3, 1, 1] }, [1, 16, 16, 1], 2);
    const ref = lib.convTranspose({ data: new Float32Array(64).fill(1), shape: [1, 8, 8, 1] }, { data: new Float32Array(9).fill(1), shape: [3, 3, 1, 1] }, [1, 16, 16, 1], 2);
    expect(Array.from(y.data)).toEqual(Array.from(ref.data));
    const op = lib.createConvTranspose({ data: other.w, shape: [3, 3, 1, 1] }, { strides: 2 });
    try {
      expect(op.run({ data: other.x, shape: [1, 8, 8, 1] }, [1, 16, 16, 1], { output: other.out }).data).toBe(other.out);
      expect(Array.from(other.out)).toEqual(Array.from(ref.data));
    } finally {
      op.dispose();
    }
  });
});

describe('messages name the argument, the value and the rule', () => {
  const msg = (fn) => thrown(fn).message;

  test('a BigInt stride is shown as a BigInt', () => {
    expect(msg(() => lib.convTranspose(x(), w(), [1, 16, 16, 1], 2n))).toMatch(/strides must be an int or a list of ints\. Received: strides=2n$/);
  });

  test("dtype 'toString' is an unknown dtype", () => {
    expect(msg(() => lib.convTranspose({ ...x(), dtype: 'toString' }, w(), [1, 16, 16, 1], 2)))
      .toMatch(/input\.dtype must be 'float32', 'float64', 'float16' or 'bfloat16'\. Received: input\.dtype='toString'/);
  });

  test('a detached output for an empty result is an ArgumentError, not a bare TypeError', () => {
    const out = new Float32Array(0);
    structuredClone(out.buffer, { transfer: [out.buffer] });
    const op = lib.createConvTranspose(w(), { strides: 2 });
    try {
      const e = thrown(() => op.run({ data: new Float32Array(0), shape: [0, 8, 8, 1] }, [0, 16, 16, 1], { output: out }));
      expect(e).toBeInstanceOf(lib.ArgumentError);
      expect(e.message).toMatch(/options\.output's buffer is detached/);
    } finally {
      op.dispose();
    }
  });

  test('dispose() from a getter during run() takes effect after the run', () => {
    const op = lib.createConvTranspose(w(), { strides: 2 });
    const input = { shape: [1, 8, 8, 1] };
    Object.defineProperty(input, 'data', { get: () => (op.dispose(), new Float32Array(64).fill(1)) });
    expect(op.run(input, [1, 16, 16, 1]).shape).toEqual([1, 16, 16, 1]);
    expect(msg(() => op.run(x(), [1, 16, 16, 1]))).toMatch(/was disposed/);
  });

  test('an unbatched input is told about the batch dimension', () => {
    expect(msg(() => lib.convTranspose({ data: new Float32Array(128), shape: [4, 4, 8] }, { data: new Float32Array(9 * 64), shape: [3, 3, 8, 8] }, [1, 8, 8, 8], 2)))
      .toMatch(/needs a leading batch dimension: a single example has shape \[1, 4, 4, 8\]/);
  });

  test('an options object as the 4th argument says how the arguments go', () => {
    const m = msg(() => lib.convTranspose(x(), w(), [1, 16, 16, 1], { strides: 2, padding: 'SAME' }));
    expect(m).toMatch(/strides=an object with keys strides, padding/);
    expect(m).toMatch(/in order: input, filters, outputShape, strides/);
    expect(m).not.toMatch(/\[object Object\]/);
  });

  test('a quoted value is capped at 100 characters', () => {
    const big = Array.from({ length: 64 * 64 * 32 }, () => 'x');
    const m = msg(() => lib.convTranspose({ data: big, shape: [1, 64, 64, 32] }, w(), [1, 128, 128, 1], 2));
    expect(m.length).toBeLessThan(300);
    const m2 = msg(() => lib.convTranspose(x(), w(), Array.from({ length: 40 }, (_, i) => i + 0.5), 2));
    expect(m2.length).toBeLessThan(300);
    expect(m2).toMatch(/…/);
  });
});
