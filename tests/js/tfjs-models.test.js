'use strict';
// The two tfjs Layers models of helpers/tfjs-models.js (a DCGAN-style
// generator and a pix2pix-style U-Net decoder, fixed random weights) give
// the same predictions with and without registerTfjsKernels, on the cpu and
// the wasm backend, and the library computes every transposed convolution.
// The models run in a plain Node process (helpers/tfjs-models-check.js):
// inside jest's sandbox, building and running them is several times slower.
//
// Tolerance: max |with - without| <= 1e-4 * max |without| per prediction.
// The models end in tanh (|y| <= 1); each layer's float32 sums differ from
// tfjs's (float64 sums on cpu, another order on wasm) by rounding only, and
// batch norm and the next layers carry that on: a few float32 ulps of the
// largest value per layer, far inside the bound (the check prints them).

const { execFileSync } = require('child_process');
const path = require('path');

const REL_TOL = 1e-4;
let rows;

beforeAll(() => {
  let out;
  try {
    out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'tfjs-models-check.js')], { encoding: 'utf8', timeout: 300000 });
  } catch (e) {
    throw new Error(`helpers/tfjs-models-check.js failed:\n${e.stdout}\n${e.stderr}`);
  }
  rows = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
});

describe.each(['cpu', 'wasm'])('%s', (backend) => {
  test.each([['generator', 4], ['decoder', 6]])('%s: same predictions with and without the plug-in', (model, layers) => {
    const r = rows.find((x) => x.backend === backend && x.model === model);
    expect(r).toBeDefined();
    expect(r.length).toBe(r.batch * 64 * 64 * 3);
    expect(r.layers).toBe(layers);
    // Two predicts with the plug-in: every layer computed by the library both times, then packed.
    expect(r.computed).toBe(2 * layers);
    expect(r.fallbacks).toBe(0);
    expect(r.entries).toBe(layers);
    expect(r.maxRef).toBeGreaterThan(0.01);
    expect(r.maxDiff).toBeLessThanOrEqual(REL_TOL * r.maxRef);
  });
});
