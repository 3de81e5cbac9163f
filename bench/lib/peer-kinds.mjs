// How each kind of peer is made for a shape, and how its output is checked:
// the part of the benchmark's peers that runs in Node and in the browser page
// alike (bench/lib/peers.mjs loads the libraries in Node and names the
// peers; bench/browser/page.mjs does so in the page). No Node modules here.
// A peer is prepare(shape, data) -> handle: see peers.mjs.

import { buildConvTransposeModel, channelsLastToFirst, channelsFirstToLast } from '../onnx-model.mjs';
import { liteRtModel } from './litert-run.mjs';
import { count } from './shapes.mjs';

// A peer passes when max|diff| / max|reference| is at most this: float32
// sums in another order differ by rounding, a wrong result by far more.
export const TOLERANCE = 1e-4;

export function relError(out, ref) {
  if (!out || out.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates as a failure
    const r = Math.abs(ref[i]);
    if (r > maxRef) maxRef = r;
  }
  return maxDiff / (maxRef || 1);
}

/**
 * Checks a handle's last output against ref into cell (relError, checkOk).
 * A peer known to be wrong (h.knownBad) fails even where its output passes.
 */
export function checkOutput(cell, h, output, ref) {
  if (!ref) return;
  const out = h.toNHWC ? h.toNHWC(output) : output;
  cell.relError = relError(out, ref);
  cell.checkOk = cell.relError <= TOLERANCE;
  if (h.knownBad) {
    cell.checkOk = false;
    cell.note = h.knownBad + (cell.relError <= TOLERANCE ? ' (passed numerically here, marked failed anyway)' : '');
  }
}

// The peers a build of this library makes (ours, or the baseline's): its
// prepared form, on `threads` threads, into a fresh result array per call,
// (into) one reused output array (run(x, shape, { output })) or (resident)
// tensors in wasm memory (createWasmTensor: no copy in or out); or its
// one-call form. Each sets its thread count when prepared and again before each slice
// (restore), since the peers of one build share its thread pool.
export function libraryPeers(l, prepared, opts) {
  const preparedPeer = (threads, into = false, resident = false) => async (sh, d) => {
    await l.init({ numThreads: threads });
    const x = { data: d.x, shape: sh.input };
    if (!prepared) {
      return {
        run: () => l.convTranspose(x, { data: d.f, shape: sh.filterShape }, sh.output, sh.strides, sh.padding).data,
        dispose: () => {},
        restore: () => l.init({ numThreads: threads }),
        note: `prepared form ${opts.prepared ? 'not available' : 'off (--no-prepared)'}: one-call convTranspose measured`,
      };
    }
    const op = l.createConvTranspose({ data: d.f, shape: sh.filterShape }, {
      strides: sh.strides, padding: sh.padding, dataFormat: null, dilations: null,
    });
    if (resident) {
      const xt = l.createWasmTensor(sh.input);
      const yt = l.createWasmTensor(sh.output);
      xt.data.set(d.x);
      return {
        run: () => op.run(xt, sh.output, { output: yt }).data,
        output: () => yt.data.slice(),
        dispose: () => { op.dispose(); xt.dispose(); yt.dispose(); },
        restore: () => l.init({ numThreads: threads }),
        kernel: op.kernel,
      };
    }
    const runOptions = into ? { output: new Float32Array(count(sh.output)) } : undefined;
    return { run: () => op.run(x, sh.output, runOptions).data, dispose: () => op.dispose(), restore: () => l.init({ numThreads: threads }), kernel: op.kernel };
  };
  const callPeer = (threads) => async (sh, d) => {
    await l.init({ numThreads: threads });
    const x = { data: d.x, shape: sh.input };
    const f = { data: d.f, shape: sh.filterShape };
    return { run: () => l.convTranspose(x, f, sh.output, sh.strides, sh.padding).data, dispose: () => {}, restore: () => l.init({ numThreads: threads }) };
  };
  return { preparedPeer, callPeer };
}

// LiteRT.js: one TRANSPOSE_CONV of a .tflite model built in memory (weights
// and output shape as constants), on its CPU accelerator. The peer `litert`
// times its full call (input tensor made, run, output copied out), the peer
// `litert-run` its run alone; 3-D shapes have no TFLite operator.
export const litertPeer = (litert, threads, runOnly) => async (sh, d) => {
  const m = await liteRtModel(litert, sh, d.f, threads);
  if (m.unsupported) return { unsupported: m.unsupported };
  if (!runOnly) return { isAsync: true, run: () => m.call(d.x), dispose: () => m.dispose() };
  return { isAsync: true, run: () => m.runOnly(d.x), toNHWC: (t) => m.read(t), dispose: () => m.dispose() };
};

// tfjs on one backend: tf.conv2dTranspose / tf.conv3dTranspose, 1-D as 2-D
// with H = 1.
export const tfPeer = (tf, backend) => async (sh, d) => {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  let xShape = sh.input;
  let fShape = sh.filterShape;
  let outShape = sh.output;
  let strides = sh.strides;
  if (sh.rank === 1) {
    // 1-D as 2-D with H = 1 (same memory layout).
    xShape = [sh.batch, 1, sh.inSpatial[0], sh.cin];
    fShape = [1, sh.k, sh.cout, sh.cin];
    outShape = [sh.batch, 1, sh.outSpatial[0], sh.cout];
    strides = [1, sh.s];
  }
  const x = tf.tensor(d.x, xShape, 'float32');
  const f = tf.tensor(d.f, fShape, 'float32');
  const pad = sh.padding.toLowerCase();
  const op = sh.rank === 3
    ? () => tf.conv3dTranspose(x, f, outShape, strides, pad)
    : () => tf.conv2dTranspose(x, f, outShape, strides, pad);
  const out = {
    run: () => {
      const y = op();
      const data = y.dataSync();
      y.dispose();
      return data;
    },
    dispose: () => { x.dispose(); f.dispose(); },
    restore: () => tf.setBackend(backend),
  };
  if (backend === 'wasm' && sh.rank === 3) {
    out.knownBad = 'tfjs-backend-wasm 4.22 conv3dTranspose returns wrong values (only the first depth frame; TOOLCHAIN.md)';
  }
  return out;
};

// onnxruntime-web: one ConvTranspose node of an ONNX model built in memory,
// weights as an initializer; NCHW, so the input is converted when prepared
// and the output only for the check (toNHWC), both outside the timed region.
export const ortPeer = (ort) => async (sh, d) => {
  const model = buildConvTransposeModel({
    batch: sh.batch, inSpatial: sh.inSpatial, outSpatial: sh.outSpatial, kernel: sh.kernel,
    strides: sh.strides, dilations: sh.dilations, cin: sh.cin, cout: sh.cout, padding: sh.padding, filters: d.f,
  });
  const session = await ort.InferenceSession.create(model.bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', channelsLastToFirst(d.x, sh.batch, sh.inSpatial, sh.cin), [sh.batch, sh.cin, ...sh.inSpatial]);
  const feeds = { X: x };
  return {
    isAsync: true,
    run: async () => {
      const r = await session.run(feeds);
      return await r.Y.getData();
    },
    toNHWC: (y) => channelsFirstToLast(y, sh.batch, sh.outSpatial, sh.cout),
    dispose: () => session.release(),
    info: { pads: model.pads, outputPadding: model.outputPadding },
  };
};
