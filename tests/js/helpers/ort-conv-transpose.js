'use strict';
// Runs ONNX ConvTranspose cases in onnxruntime-web (wasm backend, one
// thread) and prints the results. A plain Node process, because
// onnxruntime-web loads its wasm with a dynamic import(), which jest's
// sandbox refuses without --experimental-vm-modules.
//
// stdin: JSON [{ x, xShape, w, wShape, b?, attrs }] (values as arrays);
// stdout: JSON [{ dims, data } | { error }], one entry per case.

const ort = require('onnxruntime-web');
const { convTransposeModel } = require('./onnx-model');

async function runCase(c) {
  const bytes = convTransposeModel({
    xRank: c.xShape.length,
    w: Float32Array.from(c.w),
    wShape: c.wShape,
    b: c.b ? Float32Array.from(c.b) : undefined,
    attrs: c.attrs,
  });
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  try {
    const out = await session.run({ X: new ort.Tensor('float32', Float32Array.from(c.x), c.xShape) });
    return { dims: Array.from(out.Y.dims, Number), data: Array.from(out.Y.data) };
  } finally {
    await session.release();
  }
}

async function main() {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const results = [];
  for (const c of JSON.parse(input)) {
    try {
      results.push(await runCase(c));
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
