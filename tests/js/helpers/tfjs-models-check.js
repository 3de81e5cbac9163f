'use strict';
// Runs the two models of tfjs-models.js with and without registerTfjsKernels
// on the cpu and wasm backends and prints one JSON line per (backend, model):
// the largest difference, the largest value, and the plug-in's counts. Run
// by tests/js/tfjs-models.test.js in a plain Node process: building and
// running the models inside jest's module sandbox is several times slower.
//
//   node tests/js/helpers/tfjs-models-check.js

const { tf, setup } = require('./tfjs-backends');
const M = require('./tfjs-models');

const BATCH = 1;

async function main() {
  const lib = await setup();
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    for (const name of ['generator', 'decoder']) {
      const model = M.MODELS[name](tf);
      const x = M.inputsFor(tf, model, BATCH);
      const without = M.predictData(model, x);
      const reg = lib.registerTfjsKernels(tf);
      let withPlugin;
      let again;
      let stats;
      try {
        withPlugin = M.predictData(model, x);
        again = M.predictData(model, x); // on packed filters now
        stats = reg.stats();
      } finally {
        reg.unregister();
      }
      let maxRef = 0;
      let maxDiff = 0;
      for (let i = 0; i < without.length; i++) {
        maxRef = Math.max(maxRef, Math.abs(without[i]));
        maxDiff = Math.max(maxDiff, Math.abs(withPlugin[i] - without[i]), Math.abs(again[i] - without[i]));
        if (Number.isNaN(withPlugin[i]) || Number.isNaN(again[i])) maxDiff = NaN;
      }
      const layers = M.transposedLayers(model, BATCH).length;
      console.log(JSON.stringify({ backend, model: name, batch: BATCH, length: without.length, layers, maxDiff, maxRef,
        computed: stats.computed[backend], fallbacks: stats.fallbacks[backend], entries: stats.cache.entries }));
      tf.dispose(x);
      model.dispose();
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
