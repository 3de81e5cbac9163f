'use strict';
// registerTfjsKernels: what it replaces and puts back, every fallback reason
// (each call then gives exactly tfjs's own result or error), and the
// packed-filter cache (second use, reshape, Variable.assign, dispose, the
// byte bound, cacheFilters: false and the in-place hazard it is for), shared
// with the one-call convTranspose when its filters are tfjs tensors.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { tf, setup } = require('./helpers/tfjs-backends');

let lib;
beforeAll(async () => {
  lib = await setup();
});

const KERNELS = ['Conv2DBackpropInput', 'Conv3DBackpropInputV2'];

function withPlugin(options, fn) {
  const reg = lib.registerTfjsKernels(tf, options);
  try {
    return fn(reg);
  } finally {
    reg.unregister();
  }
}

const run2d = (dy, filter, attrs) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', ...attrs });

test('exported from the main entry for CommonJS and ES modules, with types', () => {
  const root = path.join(__dirname, '..', '..');
  expect(typeof require(root).registerTfjsKernels).toBe('function');
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e',
    "import { registerTfjsKernels, FALLBACK_REASONS } from 'conv-transpose-wasm'; console.log(typeof registerTfjsKernels, typeof FALLBACK_REASONS)"], { cwd: root, encoding: 'utf8' });
  expect(esm.trim()).toBe('function object');
  const types = fs.readFileSync(path.join(root, 'dist', 'index.d.ts'), 'utf8');
  expect(types).toMatch(/registerTfjsKernels/);
  expect(types).toMatch(/TfjsKernelRegistration/);
});

test('replaces the kernels on cpu and wasm, keeps setupFunc, and unregister() puts tfjs back', () => {
  const before = KERNELS.flatMap((k) => ['cpu', 'wasm'].map((b) => tf.getKernel(k, b)));
  withPlugin({}, (reg) => {
    expect(reg.backends).toEqual(['cpu', 'wasm']);
    const now = KERNELS.flatMap((k) => ['cpu', 'wasm'].map((b) => tf.getKernel(k, b)));
    now.forEach((k, i) => {
      expect(k).not.toBe(before[i]);
      expect(k.setupFunc).toBe(before[i].setupFunc);
    });
    expect(() => lib.registerTfjsKernels(tf)).toThrow(/registered already/);
  });
  KERNELS.flatMap((k) => ['cpu', 'wasm'].map((b) => tf.getKernel(k, b))).forEach((k, i) => expect(k).toBe(before[i]));
});

test('options.backends: only those; an unknown one is an error; a bad tf is an error', () => {
  withPlugin({ backends: ['wasm'] }, (reg) => {
    expect(reg.backends).toEqual(['wasm']);
    expect(tf.getKernel('Conv2DBackpropInput', 'cpu').kernelFunc.name).toBe('conv2DBackpropInput');
  });
  expect(() => lib.registerTfjsKernels(tf, { backends: ['webgpu-nope'] })).toThrow(/no Conv2DBackpropInput/);
  expect(() => lib.registerTfjsKernels({})).toThrow(lib.ArgumentError);
});

describe('every fallback reason gives tfjs own result or error, and is counted', () => {
  const R = lib => lib.FALLBACK_REASONS;
  const cases = [
    ['complex', 'cpu', () => run2d(tf.complex(tf.ones([1, 2, 2, 1]), tf.ones([1, 2, 2, 1])), tf.ones([1, 1, 1, 1]), { inputShape: [1, 2, 2, 1] })],
    ['wasmNonFloat', 'wasm', () => run2d(tf.ones([1, 2, 2, 1], 'int32'), tf.ones([1, 1, 1, 1]), { inputShape: [1, 2, 2, 1] })],
    ['dySmaller', 'cpu', () => run2d(tf.ones([1, 2, 2, 1]), tf.ones([2, 2, 1, 1]), { inputShape: [1, 4, 4, 1] })],
    ['filterChannels', 'cpu', () => run2d(tf.ones([1, 3, 3, 1]), tf.ones([2, 2, 2, 1]), { inputShape: [1, 4, 4, 1] })],
    ['rank', 'cpu', () => run2d(tf.ones([3, 3, 1]), tf.ones([2, 2, 1, 1]), { inputShape: [4, 4, 1] })],
    ['convInfo', 'cpu', () => run2d(tf.ones([1, 3, 3, 1]), tf.ones([2, 2, 1, 1]), { inputShape: [1, 4, 4, 1], pad: 'nonsense' })],
    // 70000 x 70000 floats (20 GB) is more than wasm memory holds; tfjs's own kernel then fails too (no such typed array).
    ['core', 'cpu', () => run2d(tf.ones([1, 1, 1, 1]), tf.ones([1, 1, 1, 1]), { inputShape: [1, 70000, 70000, 1], strides: [70000, 70000] })],
  ];
  test.each(cases)('%s (%s)', async (reason, backend, call) => {
    await tf.setBackend(backend);
    const outcome = () => {
      try {
        return tf.tidy(() => ({ values: Array.from(call().dataSync()) }));
      } catch (e) {
        return { error: e.constructor.name + ': ' + e.message };
      }
    };
    const own = outcome();
    const ours = withPlugin({}, (reg) => {
      const o = outcome();
      const s = reg.stats();
      expect(s.reasons).toEqual({ [R(lib)[reason]]: 1 });
      expect(s.fallbacks[backend]).toBe(1);
      expect(s.computed[backend]).toBe(0);
      return o;
    });
    expect(ours).toEqual(own);
  });
  test('the list above is every reason', () => {
    expect(cases.map((c) => c[0]).sort()).toEqual(Object.keys(lib.FALLBACK_REASONS).sort());
  });
});

test('int32 and bool on cpu are computed as tfjs cpu does (as numbers, float32 out)', async () => {
  await tf.setBackend('cpu');
  const call = () => tf.tidy(() => {
    const y = tf.conv2dTranspose(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1], 'int32'), tf.tensor4d([1, 0, 2, 1], [2, 2, 1, 1], 'int32'), [1, 3, 3, 1], 1, 'valid');
    return [y.dtype, Array.from(y.dataSync())];
  });
  const own = call();
  withPlugin({}, (reg) => {
    expect(call()).toEqual(own);
    expect(reg.stats().computed.cpu).toBe(1);
  });
});

describe('packed filter cache', () => {
  const x = () => tf.ones([1, 4, 4, 8]);
  const conv = (w) => tf.tidy(() => Array.from(tf.conv2dTranspose(x(), w, [1, 8, 8, 4], 2, 'same').dataSync()));

  test.each(['cpu', 'wasm'])('%s: packed on second use, reused, shared by reshape, swept on dispose', async (backend) => {
    await tf.setBackend(backend);
    withPlugin({}, (reg) => {
      const w = tf.randomNormal([3, 3, 4, 8]);
      const first = conv(w);
      expect(reg.stats().cache).toMatchObject({ packs: 0, entries: 0 });
      expect(conv(w)).toEqual(first);
      expect(reg.stats().cache).toMatchObject({ packs: 1, entries: 1 });
      const w2 = w.reshape([3, 3, 4, 8]); // same data id
      conv(w2);
      expect(reg.stats().cache).toMatchObject({ packs: 1, hits: 1, entries: 1 });
      w.dispose();
      expect(reg.stats().cache.entries).toBe(1); // the reshape still holds the data
      w2.dispose();
      expect(reg.stats().cache).toMatchObject({ entries: 0, bytes: 0, swept: 1 });
    });
  });

  test('Variable.assign gives a new data id: the new values are used', async () => {
    await tf.setBackend('cpu');
    withPlugin({}, () => {
      const v = tf.variable(tf.ones([3, 3, 4, 8]));
      conv(v);
      const a = conv(v);
      v.assign(tf.fill([3, 3, 4, 8], 2));
      const b = conv(v);
      expect(b).toEqual(a.map((t) => 2 * t));
      v.dispose();
    });
  });

  test('bounded in bytes: least recently used entries go first', async () => {
    await tf.setBackend('cpu');
    const bytes = 3 * 3 * 4 * 8 * 4;
    withPlugin({ cacheBytes: 2 * bytes }, (reg) => {
      const ws = [0, 1, 2].map(() => tf.randomNormal([3, 3, 4, 8]));
      for (const w of ws) { conv(w); conv(w); }
      expect(reg.stats().cache).toMatchObject({ packs: 3, entries: 2, bytes: 2 * bytes, evicted: 1 });
      tf.dispose(ws);
    });
  });

  test('the hazard: cpu keeps the caller array; cacheFilters: false sees in-place changes', async () => {
    await tf.setBackend('cpu');
    const run = (options) => withPlugin(options, (reg) => {
      const arr = new Float32Array(3 * 3 * 4 * 8).fill(1);
      const w = tf.tensor(arr, [3, 3, 4, 8]);
      conv(w);
      conv(w);
      arr.fill(2); // tfjs sees this: the cpu backend kept arr
      const after = conv(w);
      w.dispose();
      return { after: after[0], packs: reg.stats().cache.packs };
    });
    const cached = run({});
    const uncached = run({ cacheFilters: false });
    expect(uncached.packs).toBe(0);
    expect(uncached.after).toBe(2 * cached.after); // the cache kept the old values
  });

  test('one-call convTranspose with tfjs filter tensors uses the same cache', async () => {
    await tf.setBackend('cpu');
    withPlugin({}, (reg) => {
      const w = tf.randomNormal([3, 3, 4, 8]);
      const input = { data: new Float32Array(4 * 4 * 8).fill(1), shape: [1, 4, 4, 8] };
      const a = lib.convTranspose(input, w, [1, 8, 8, 4], 2, 'SAME');
      const b = lib.convTranspose(input, w, [1, 8, 8, 4], 2, 'SAME');
      const c = lib.convTranspose(input, w, [1, 8, 8, 4], 2, 'SAME');
      expect(reg.stats().cache).toMatchObject({ packs: 1, hits: 1 });
      expect(Array.from(b.data)).toEqual(Array.from(c.data));
      for (let i = 0; i < a.data.length; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThan(1e-4);
      // Errors stay the one-call form's.
      expect(() => lib.convTranspose(input, w, [1, 9, 9, 4], 2, 'SAME')).toThrow(lib.ArgumentError);
      w.dispose();
      expect(reg.stats().cache.entries).toBe(0);
    });
  });
});
