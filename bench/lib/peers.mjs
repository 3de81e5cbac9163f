// The peers the benchmark compares in Node: their names, the libraries they
// load, and the reference output (how each kind is made for a shape and how
// its output is checked is in peer-kinds.mjs, which the browser bench shares).
// A peer is prepare(shape, data) -> handle, where the
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
import { checkOutput, libraryPeers, litertPeer, ortPeer, relError, tfPeer, TOLERANCE } from './peer-kinds.mjs';

export { checkOutput, relError, TOLERANCE };

const require = createRequire(import.meta.url);

export const PEERS = ['ours', 'ours-1t', 'ours-into', 'ours-into-1t', 'ours-resident', 'ours-call', 'ours-call-1t', 'base', 'base-1t', 'tfjs-wasm', 'tfjs-cpu', 'ort', 'litert', 'litert-run'];
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
  'ours-resident': 'ours (prepared, all threads, input and output tensors in wasm memory: no copies)',
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
 * Loads the build in dir (a dist/ folder: index.mjs or index.js, wasm/) as a
 * second instance of this library and starts it on `threads` threads, as
 * ours was started: its first init() sizes its thread pool. backend: the
 * build it loads (init's backend option), or its own choice when absent.
 */
export async function loadBaseline(dir, threads, backend) {
  // A wrong folder is the caller's to fix: said as a flag error, no stack.
  const usage = (message) => Object.assign(new Error(message), { isUsage: true });
  const file = ['index.mjs', 'index.js'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) throw usage(`--baseline ${dir}: no index.mjs or index.js there (give the dist/ folder of a build)`);
  const m = await import(pathToFileURL(file).href);
  const base = typeof m.init === 'function' ? m : m.default;
  // The same module would share ours' thread count and memory: no comparison.
  if (base.init === lib.init) throw usage(`--baseline ${dir} is the build under test itself; copy it elsewhere first`);
  const init = await base.init({ numThreads: threads, ...(backend ? { backend } : {}) });
  let version = null;
  try { version = JSON.parse(fs.readFileSync(path.join(dir, '..', 'package.json'), 'utf8')).version; } catch { /* not in a package */ }
  return { lib: base, file, init, version, hasPrepared: typeof base.createConvTranspose === 'function' };
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
  if (prepared && typeof lib.createWasmTensor === 'function') peers['ours-resident'] = ours.preparedPeer(env.threads, false, true);
  peers['ours-call'] = ours.callPeer(env.threads);
  peers['ours-call-1t'] = ours.callPeer(1);

  if (opts.baseline) {
    const b = await loadBaseline(opts.baseline, env.threads, opts.baselineBackend);
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
