// The peers the benchmark compares, how each is made for a shape, and how its
// output is checked. A peer is prepare(shape, data) -> handle, where the
// handle is { run, isAsync?, toNHWC?, dispose, restore?, kernel?, note?,
// info?, knownBad? }: run() is the timed region (one op call including the
// read-back of its output into a JS typed array); everything else (tensors,
// filters, sessions, layout conversion) happens in prepare, outside it.
// restore() gives the peer its process-wide state back (our thread count,
// tfjs's backend), because peers that share a library take turns. A peer
// that has no operator for a shape returns { unsupported: why } instead.
//
// Every output is checked against this library's one-call output on all
// threads, so a fast peer that computes something else cannot pass.
//
// With --baseline DIR, the peers base / base-1t are another build of this
// library (DIR is its dist/), loaded as a second module instance with its own
// wasm memory and thread pool, and made exactly as ours / ours-1t, so that
// two builds are compared in one process, interleaved, on the same machine
// drift: between processes figures move more than most changes do.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

import * as lib from 'conv-transpose-wasm';
import { buildConvTransposeModel, channelsLastToFirst, channelsFirstToLast } from '../onnx-model.mjs';
import { liteRtModel } from './litert-run.mjs';
import { count } from './shapes.mjs';

const require = createRequire(import.meta.url);

export const PEERS = ['ours', 'ours-1t', 'ours-into', 'ours-into-1t', 'ours-call', 'ours-call-1t', 'base', 'base-1t', 'tfjs-wasm', 'tfjs-cpu', 'ort', 'litert', 'litert-run'];
// Only with --baseline DIR (they are that build).
export const BASELINE_PEERS = ['base', 'base-1t'];
// --quick leaves these out unless --peers names them: without the two
// one-thread diagnostics of the full run, the whole run stays under a minute.
export const QUICK_OMITS = ['ours-into-1t', 'ours-call-1t'];
export const PEER_LABEL = {
  ours: 'ours (prepared, all threads)',
  'ours-1t': 'ours (prepared, 1 thread)',
  'ours-into': 'ours (prepared, all threads, into a reused output array)',
  'ours-into-1t': 'ours (prepared, 1 thread, into a reused output array)',
  'ours-call': 'ours (one-call, all threads)',
  'ours-call-1t': 'ours (one-call, 1 thread)',
  'tfjs-wasm': 'tfjs-backend-wasm 4.22',
  'tfjs-cpu': 'tfjs cpu backend 4.22',
  ort: 'onnxruntime-web (wasm EP)',
  litert: 'LiteRT.js (wasm, XNNPACK; full call: input tensor, run, output copied out)',
  'litert-run': 'LiteRT.js (wasm, XNNPACK; run alone on a prepared input tensor)',
};
export const BASELINE_LABEL = {
  base: 'baseline build (--baseline; prepared, all threads)',
  'base-1t': 'baseline build (--baseline; prepared, 1 thread)',
};

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

/** The reference output of shape sh on data d: ours, one-call, all threads (null if it fails). */
export async function reference(sh, d, env) {
  try {
    await lib.init({ numThreads: env.threads });
    return lib.convTranspose({ data: d.x, shape: sh.input }, { data: d.f, shape: sh.filterShape }, sh.output, sh.strides, sh.padding).data;
  } catch (e) {
    console.log(`  reference (ours one-call) FAILED: ${e && e.message || e}`);
    return null;
  }
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

/**
 * Loads the build in dir (a dist/ folder: index.mjs or index.js, wasm/) as a
 * second instance of this library and starts it on `threads` threads, as
 * ours was started: its first init() sizes its thread pool.
 */
export async function loadBaseline(dir, threads) {
  // A wrong folder is the caller's to fix: said as a flag error, no stack.
  const usage = (message) => Object.assign(new Error(message), { isUsage: true });
  const file = ['index.mjs', 'index.js'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) throw usage(`--baseline ${dir}: no index.mjs or index.js there (give the dist/ folder of a build)`);
  const m = await import(pathToFileURL(file).href);
  const base = typeof m.init === 'function' ? m : m.default;
  // The same module would share ours' thread count and memory: no comparison.
  if (base.init === lib.init) throw usage(`--baseline ${dir} is the build under test itself; copy it elsewhere first`);
  const init = await base.init({ numThreads: threads });
  let version = null;
  try { version = JSON.parse(fs.readFileSync(path.join(dir, '..', 'package.json'), 'utf8')).version; } catch { /* not in a package */ }
  return { lib: base, file, init, version, hasPrepared: typeof base.createConvTranspose === 'function' };
}

// The peers a build of this library makes (ours, or the baseline's): its
// prepared form, on `threads` threads, into a fresh result array per call or
// (into) one reused output array (run(x, shape, { output })); or its one-call
// form. Each sets its thread count when prepared and again before each slice
// (restore), since the peers of one build share its thread pool.
function libraryPeers(l, prepared, opts) {
  const preparedPeer = (threads, into = false) => async (sh, d) => {
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

/**
 * The peers of a run: name -> prepare(shape, data). Loads tfjs and
 * onnxruntime-web only when a peer or the ceiling lines need them, and the
 * baseline build only with --baseline; sets env.preparedAvailable, env.tf,
 * env.tfWasmPaths, env.ort and env.baseline for the report.
 */
export async function makePeers(opts, env) {
  const peers = {};
  const prepared = opts.prepared && typeof lib.createConvTranspose === 'function';
  env.preparedAvailable = prepared;

  const ours = libraryPeers(lib, prepared, opts);
  peers.ours = ours.preparedPeer(env.threads);
  peers['ours-1t'] = ours.preparedPeer(1);
  if (prepared) peers['ours-into'] = ours.preparedPeer(env.threads, true);
  if (prepared) peers['ours-into-1t'] = ours.preparedPeer(1, true);
  peers['ours-call'] = ours.callPeer(env.threads);
  peers['ours-call-1t'] = ours.callPeer(1);

  if (opts.baseline) {
    const b = await loadBaseline(opts.baseline, env.threads);
    env.baseline = { dir: opts.baseline, file: b.file, version: b.version, init: b.init, threads: b.init.threads,
      preparedForm: opts.prepared && b.hasPrepared, hasPrepared: b.hasPrepared };
    const base = libraryPeers(b.lib, env.baseline.preparedForm, opts);
    peers.base = base.preparedPeer(env.threads);
    peers['base-1t'] = base.preparedPeer(1);
  }

  if (opts.peers.includes('tfjs-wasm') || opts.peers.includes('tfjs-cpu') || opts.ceiling) {
    const tf = await import('@tensorflow/tfjs');
    const tfw = await import('@tensorflow/tfjs-backend-wasm');
    const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    tfw.setWasmPaths(wasmDir);
    tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner
    env.tf = tf;
    env.tfWasmPaths = wasmDir;
    peers['tfjs-wasm'] = tfPeer(tf, 'wasm');
    peers['tfjs-cpu'] = tfPeer(tf, 'cpu');
  }

  if (opts.peers.includes('ort')) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = opts.ortThreads;
    ort.env.wasm.simd = true;
    env.ort = ort;
    peers.ort = ortPeer(ort);
  }

  if (opts.peers.includes('litert') || opts.peers.includes('litert-run')) {
    // Only here: it installs the browser globals LiteRT.js needs in Node
    // (litert-node.mjs), in this benchmark process.
    const { loadLiteRtNode } = await import('./litert-node.mjs');
    const lt = await loadLiteRtNode({ threads: opts.litertThreads });
    env.litert = lt;
    env.versions.litert = lt.version;
    peers.litert = litertPeer(lt.litert, opts.litertThreads, false);
    peers['litert-run'] = litertPeer(lt.litert, opts.litertThreads, true);
  }
  return peers;
}

// LiteRT.js: one TRANSPOSE_CONV of a .tflite model built in memory (weights
// and output shape as constants), on its CPU accelerator. The peer `litert`
// times its full call (input tensor made, run, output copied out), the peer
// `litert-run` its run alone; 3-D shapes have no TFLite operator.
const litertPeer = (litert, threads, runOnly) => async (sh, d) => {
  const m = await liteRtModel(litert, sh, d.f, threads);
  if (m.unsupported) return { unsupported: m.unsupported };
  if (!runOnly) return { isAsync: true, run: () => m.call(d.x), dispose: () => m.dispose() };
  return { isAsync: true, run: () => m.runOnly(d.x), toNHWC: (t) => m.read(t), dispose: () => m.dispose() };
};

// tfjs on one backend: tf.conv2dTranspose / tf.conv3dTranspose, 1-D as 2-D
// with H = 1.
const tfPeer = (tf, backend) => async (sh, d) => {
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
const ortPeer = (ort) => async (sh, d) => {
  const model = buildConvTransposeModel({
    batch: sh.batch, inSpatial: sh.inSpatial, outSpatial: sh.outSpatial, kernel: sh.kernel,
    strides: sh.strides, dilations: sh.dilations, cin: sh.cin, cout: sh.cout, padding: sh.padding, filters: d.f,
  });
  const session = await ort.InferenceSession.create(model.bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', channelsLastToFirst(d.x, sh.batch, sh.inSpatial, sh.cin), [sh.batch, sh.cin, ...sh.inSpatial]);
  const feeds = { x };
  return {
    isAsync: true,
    run: async () => {
      const r = await session.run(feeds);
      return await r.y.getData();
    },
    toNHWC: (y) => channelsFirstToLast(y, sh.batch, sh.outSpatial, sh.cout),
    dispose: () => session.release(),
    info: { pads: model.pads, outputPadding: model.outputPadding },
  };
};
