// The bundle's entry: tfjs-core (its ES module build, the one its specs
// import) with its gradients and chained ops registered (as @tensorflow/tfjs
// and tfjs-core's own test setup do), the cpu and wasm backends, the test
// environments, then tfjs-core's own compiled specs, unchanged. ES modules evaluate in import
// order, so the environments exist before the specs' describeWithFlags runs.
export * as tf from '@tensorflow/tfjs-core';
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-backend-cpu';
import './envs.mjs';
import '@tensorflow/tfjs-core/dist/ops/conv2d_transpose_test.js';
import '@tensorflow/tfjs-core/dist/ops/conv3d_transpose_test.js';
