'use strict';
// Tensors in wasm memory (createWasmTensor): a prepared run reads such an
// input and writes such an output in place, with the same values as a run
// on JS arrays (bit for bit) and within the float64 reference's tolerance;
// memory growth between calls leaves them valid; misuse is a clear error
// and the module keeps working; dispose() gives the memory back.

const R = require('./helpers/reference');
const { loadLibrary, heap, args, checkAgainstReference, smallCases, HEAP_SLACK } = require('./helpers/calls');

let lib;

beforeAll(async () => {
  lib = await loadLibrary();
});

const prod = (s) => s.reduce((a, b) => a * b, 1);

describe('runs on tensors in wasm memory', () => {
  const cases = smallCases(730, 16);
  test.each(cases.map((c, i) => [i, `${R.describeCase(c)} ${c.dtype}`, c]))('case %i: %s', (_i, _d, c) => {
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    const x = lib.createWasmTensor(c.xShape, c.dtype);
    const y = lib.createWasmTensor(c.outShape, c.dtype);
    try {
      x.data.set(c.xd);
      const plain = op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape);
      // The tensor itself, and a view of it as { data, shape, dtype }, both as input; output in place.
      for (const input of [x, { data: x.data, shape: c.xShape, dtype: c.dtype }]) {
        y.data.fill(7);
        const r = op.run(input, c.outShape, { output: y });
        expect(r.shape).toEqual(c.outShape);
        expect(r.data.buffer).toBe(y.data.buffer);
        expect(r.data.byteOffset).toBe(y.data.byteOffset);
        expect(Array.from(y.data)).toEqual(Array.from(plain.data));
        checkAgainstReference(c, { data: y.data.slice() }, 'wasm tensors');
      }
      // A JS input with a wasm output, and a wasm input with a JS output.
      y.data.fill(0);
      op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape, { output: y.data });
      expect(Array.from(y.data)).toEqual(Array.from(plain.data));
      const out = op.run(x, c.outShape).data;
      expect(out.buffer).not.toBe(y.data.buffer);
      expect(Array.from(out)).toEqual(Array.from(plain.data));
    } finally {
      op.dispose();
      x.dispose();
      y.dispose();
    }
  });

  test('memory growth between calls: data read again is the tensor, still valid', () => {
    const c = cases[0];
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    const x = lib.createWasmTensor(c.xShape, c.dtype);
    const y = lib.createWasmTensor(c.outShape, c.dtype);
    const big = [];
    try {
      x.data.set(c.xd);
      const before = heap().heapBytes;
      // Grow the memory: allocate more than it holds now.
      while (heap().heapBytes === before) big.push(lib.createWasmTensor([8 << 20], 'float32'));
      expect(Array.from(x.data)).toEqual(Array.from(c.xd));
      const r = op.run(x, c.outShape, { output: y });
      checkAgainstReference(c, { data: r.data.slice() }, 'after growth');
    } finally {
      for (const t of big) t.dispose();
      op.dispose();
      x.dispose();
      y.dispose();
    }
  });
});

describe('misuse of wasm tensors', () => {
  const c = smallCases(731, 1)[0];
  const good = () => {
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    try {
      checkAgainstReference(c, op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape), 'next good call');
    } finally {
      op.dispose();
    }
  };

  test('an output of the wrong size or dtype, an output sharing the input\'s memory, a disposed tensor', () => {
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    const other = c.dtype === 'float64' ? 'float32' : 'float64';
    const x = lib.createWasmTensor(c.xShape, c.dtype);
    const small = lib.createWasmTensor([prod(c.outShape) + 1], c.dtype);
    const wrongType = lib.createWasmTensor(c.outShape, other);
    try {
      x.data.set(c.xd);
      expect(() => op.run(x, c.outShape, { output: small })).toThrow(lib.ArgumentError);
      expect(() => op.run(x, c.outShape, { output: small })).toThrow(/options.output is a wasm tensor of \d+ .* needs/);
      expect(() => op.run(x, c.outShape, { output: wrongType })).toThrow(lib.ArgumentError);
      const gone = lib.createWasmTensor(c.outShape, c.dtype);
      gone.dispose();
      gone.dispose();  // twice is harmless
      expect(() => op.run(x, c.outShape, { output: gone })).toThrow(/disposed/);
      expect(() => gone.data).toThrow(/disposed/);
      good();
    } finally {
      op.dispose();
      x.dispose();
      small.dispose();
      wrongType.dispose();
    }
  });

  test('one tensor as both input and output is refused', () => {
    const w = new Float32Array(3 * 3 * 2 * 2).fill(0.5);
    const op = lib.createConvTranspose({ data: w, shape: [3, 3, 2, 2] }, { strides: 1, padding: 'SAME' });
    const t = lib.createWasmTensor([1, 4, 4, 2]);
    try {
      t.data.fill(1);
      expect(() => op.run(t, [1, 4, 4, 2], { output: t })).toThrow(lib.ArgumentError);
      expect(() => op.run(t, [1, 4, 4, 2], { output: t })).toThrow(/share memory/);
      expect(Array.from(op.run(t, [1, 4, 4, 2]).data.slice(0, 2))).toEqual([4 * 0.5 * 2, 4 * 0.5 * 2]);
    } finally {
      op.dispose();
      t.dispose();
    }
  });

  test('bad shapes and dtypes are ArgumentErrors naming the value', () => {
    expect(() => lib.createWasmTensor([2, -1])).toThrow(/shape must hold sizes >= 0.*\[2, -1\]/);
    expect(() => lib.createWasmTensor([2, 1.5])).toThrow(lib.ArgumentError);
    expect(() => lib.createWasmTensor([2], 'int32')).toThrow(/dtype must be .*'int32'/);
    expect(() => lib.createWasmTensor([1 << 20, 1 << 20])).toThrow(/more than WebAssembly memory holds/);
    good();
  });

  test('dispose() gives the memory back', () => {
    const before = heap().usedBytes;
    const ts = [];
    for (let i = 0; i < 20; i++) ts.push(lib.createWasmTensor([1000, 10], 'float32'));
    expect(heap().usedBytes).toBeGreaterThanOrEqual(before + 20 * 40000);
    for (const t of ts) t.dispose();
    expect(heap().usedBytes).toBeLessThanOrEqual(before + HEAP_SLACK);
  });
});
