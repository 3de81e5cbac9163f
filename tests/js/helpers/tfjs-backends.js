'use strict';
// tfjs with its cpu and wasm backends, and this library loaded, for the
// plug-in's tests (registerTfjsKernels).

const path = require('path');
const tf = require('@tensorflow/tfjs');
const tfw = require('@tensorflow/tfjs-backend-wasm');

tfw.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner

async function setup() {
  const lib = require('../../..');
  await lib.init();
  await tf.setBackend('wasm'); // created once, so that both backends exist
  await tf.setBackend('cpu');
  await tf.ready();
  return lib;
}

/** Runs fn with tfjs on `backend`, disposing the tensors it makes; returns its result. */
async function onBackend(backend, fn) {
  await tf.setBackend(backend);
  return tf.tidy(fn);
}

/** Largest |got - ref| - tol(i) over the elements (<= 0: within tolerance), and where. */
function worstExcess(got, ref, tol) {
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const nanMismatch = Number.isNaN(got[i]) !== Number.isNaN(ref[i]);
    const d = nanMismatch ? Infinity : Number.isNaN(ref[i]) ? -Infinity : Math.abs(got[i] - ref[i]) - tol(i);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  return { worst, at };
}

module.exports = { tf, setup, onBackend, worstExcess };
