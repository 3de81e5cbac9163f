'use strict';
// The two tfjs Layers models of helpers/tfjs-models.js (a DCGAN-style
// generator and a pix2pix-style U-Net decoder, fixed random weights) give
// the same predictions with and without registerTfjsKernels, on the cpu and
// the wasm backend, and the library computes every transposed convolution.
//
// Tolerance: max |with - without| <= 1e-4 * max |without| per prediction.
// The models end in tanh (|y| <= 1); each layer's float32 sums differ from
// tfjs's (float64 sums on cpu, another order on wasm) by rounding only, and
// batch norm and the next layers carry that on: a few float32 ulps of the
// largest value per layer, far inside the bound (SHOW_DIFFS=1 prints them).

const { tf, setup } = require('./helpers/tfjs-backends');
const M = require('./helpers/tfjs-models');

let lib;
beforeAll(async () => {
  lib = await setup();
});

const REL_TOL = 1e-4;
const LAYERS = { generator: 4, decoder: 6 };

describe.each(['cpu', 'wasm'])('%s', (backend) => {
  test.each(['generator', 'decoder'])('%s: same predictions with and without the plug-in', async (name) => {
    await tf.setBackend(backend);
    const model = M.MODELS[name](tf);
    const batch = 1;
    const x = M.inputsFor(tf, model, batch);
    const predict = () => {
      const y = model.predict(x); // not in tf.tidy: it would walk the returned array element by element
      const data = y.dataSync().slice();
      y.dispose();
      return data;
    };
    const without = predict();
    const reg = lib.registerTfjsKernels(tf);
    let withPlugin;
    let again;
    try {
      withPlugin = predict();
      again = predict(); // on packed filters now
      const s = reg.stats();
      expect(s.computed[backend]).toBe(2 * LAYERS[name]);
      expect(s.fallbacks[backend]).toBe(0);
      expect(s.cache.entries).toBe(LAYERS[name]);
    } finally {
      reg.unregister();
    }
    let maxRef = 0;
    let maxDiff = 0;
    for (let i = 0; i < without.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(without[i]));
      maxDiff = Math.max(maxDiff, Math.abs(withPlugin[i] - without[i]), Math.abs(again[i] - without[i]));
    }
    expect(without.length).toBe(batch * 64 * 64 * 3);
    expect(maxRef).toBeGreaterThan(0.01);
    if (process.env.SHOW_DIFFS) console.log(backend, name, { maxDiff, maxRef });
    expect(maxDiff).toBeLessThanOrEqual(REL_TOL * maxRef);
    tf.dispose(x);
    model.dispose();
  });
});
