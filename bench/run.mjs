// Benchmark of conv-transpose-wasm against other WebAssembly/JS
// implementations of a transposed convolution, all in this one process and
// this one run (ratios between peers of the same run are what to compare;
// absolute figures move 20-30% between processes on a shared machine).
//
//   node --no-liftoff --expose-gc bench/run.mjs     full run (~2 s per cell); `npm run bench`
//   node --no-liftoff --expose-gc bench/run.mjs --quick   whole run in under a minute
//   node --no-liftoff --expose-gc bench/run.mjs --shapes S1,S3 --peers ours,ort
// (--expose-gc: a full run collects garbage before each timed slice, see collectGarbage)
//   node --no-liftoff bench/run.mjs --json out.json (default bench/results/latest.json)
//   node bench/run.mjs --help                       all flags, shapes and peers
//
// Peers (names for --peers):
//   ours          this library, all threads, prepared form (createConvTranspose:
//                 filters handed over once; falls back to convTranspose if the
//                 build has no prepared form, and says so)
//   ours-1t       the same on 1 thread (init({ numThreads: 1 }))
//   ours-into     the prepared form, all threads, writing into one output array
//                 reused across runs (run(input, shape, { output })): the same
//                 work without allocating the result; not in the ratios
//   ours-into-1t  the same on 1 thread: with ours-into, the thread scaling of
//                 the call without the cost of a fresh result array
//   ours-call     this library, all threads, one-call form convTranspose()
//   ours-call-1t  the one-call form on 1 thread
//   tfjs-wasm     @tensorflow/tfjs-backend-wasm: tf.conv2dTranspose /
//                 tf.conv3dTranspose (1-D as conv2dTranspose with H = 1);
//                 scalar loop, one thread (tfjs-wasm turns threads off in Node)
//   tfjs-cpu      @tensorflow/tfjs cpu backend (plain JS), same calls
//   ort           onnxruntime-web, wasm execution provider, 2 threads, SIMD,
//                 one ConvTranspose node of an ONNX model built in memory
//                 (bench/onnx-model.mjs), weights as an initializer
//
// Timed region: one op call including the read-back of its output into a JS
// typed array (our .data, tfjs dataSync(), ort `await session.run()` +
// `await tensor.getData()`). Outside it: creating input tensors, preparing
// filters / creating the ORT session, NHWC <-> NCHW conversion for ORT.
//
// Output check: every peer's output against this library's one-call output
// (all threads) computed before the timings, as max|diff| / max|reference|,
// tolerance 1e-4.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import * as lib from 'conv-transpose-wasm';
import {
  buildConvTransposeModel,
  buildMatMulModel,
  channelsLastToFirst,
  channelsFirstToLast,
} from './onnx-model.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const require = createRequire(import.meta.url);

const TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------
// Shapes. Input NHWC-style ([N, spatial..., Cin]), output [N, spatial..., Cout],
// filters [k..., Cout, Cin]. The same k and s on every spatial dimension.
// ---------------------------------------------------------------------------
const SHAPES = [
  { id: 'S1', input: [1, 4, 4, 512], output: [1, 8, 8, 256], k: 5, s: 2, padding: 'SAME',
    note: 'DCGAN generator first up-sampling layer: tiny image, many channels' },
  { id: 'S2', input: [8, 16, 16, 256], output: [8, 32, 32, 128], k: 5, s: 2, padding: 'SAME',
    note: 'generator layer, batch 8' },
  { id: 'S3', input: [1, 32, 32, 256], output: [1, 64, 64, 128], k: 2, s: 2, padding: 'VALID',
    note: 'U-Net decoder 2x2/2 (no overlap between taps)' },
  { id: 'S4', input: [1, 64, 64, 64], output: [1, 128, 128, 32], k: 3, s: 2, padding: 'SAME',
    note: 'decoder layer, larger image, fewer channels' },
  { id: 'S5', input: [1, 8, 8, 8, 64], output: [1, 16, 16, 16, 32], k: 3, s: 2, padding: 'SAME',
    note: '3-D (volumetric decoder)' },
  { id: 'S6', input: [1, 256, 512], output: [1, 2048, 256], k: 16, s: 8, padding: 'SAME',
    note: '1-D audio up-sampler (MelGAN-style 8x)' },
  { id: 'S7', input: [1, 1, 1, 512], output: [1, 4, 4, 256], k: 4, s: 1, padding: 'VALID',
    note: '1x1 latent -> 4x4 (projection layer)' },
  { id: 'S8', input: [1, 56, 56, 64], output: [1, 56, 56, 64], k: 3, s: 1, padding: 'SAME',
    note: 'stride 1 (conv backprop-input of a ResNet 3x3)' },
  // Extra shapes: odd sizes, few/odd channel counts, stride 3, one output
  // channel with a long kernel, large batch.
  { id: 'E1', input: [1, 33, 47, 17], output: [1, 99, 141, 3], k: 5, s: 3, padding: 'SAME',
    note: 'odd sizes, 17 -> 3 channels, stride 3' },
  { id: 'E2', input: [1, 2000, 1], output: [1, 16000, 1], k: 64, s: 8, padding: 'SAME',
    note: '1-D, 1 -> 1 channel, long kernel (signal interpolation filter)' },
  { id: 'E3', input: [64, 7, 7, 128], output: [64, 14, 14, 64], k: 4, s: 2, padding: 'SAME',
    note: 'large batch (64), small images' },
  { id: 'E4', input: [4, 31, 31, 64], output: [4, 63, 63, 3], k: 3, s: 2, padding: 'VALID',
    note: 'RGB output layer, odd sizes, VALID' },
  { id: 'E5', input: [2, 5, 9, 11, 17], output: [2, 15, 27, 33, 3], k: 4, s: 3, padding: 'SAME',
    note: '3-D, odd sizes, 17 -> 3 channels, stride 3' },
];

const PEERS = ['ours', 'ours-1t', 'ours-into', 'ours-into-1t', 'ours-call', 'ours-call-1t', 'tfjs-wasm', 'tfjs-cpu', 'ort'];
const QUICK_OMITS = ['ours-into-1t', 'ours-call-1t'];
const PEER_LABEL = {
  ours: 'ours (prepared, all threads)',
  'ours-1t': 'ours (prepared, 1 thread)',
  'ours-into': 'ours (prepared, all threads, into a reused output array)',
  'ours-into-1t': 'ours (prepared, 1 thread, into a reused output array)',
  'ours-call': 'ours (one-call, all threads)',
  'ours-call-1t': 'ours (one-call, 1 thread)',
  'tfjs-wasm': 'tfjs-backend-wasm 4.22',
  'tfjs-cpu': 'tfjs cpu backend 4.22',
  ort: 'onnxruntime-web (wasm EP)',
};

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------
function usage() {
  return `usage: node --no-liftoff --expose-gc bench/run.mjs [flags]
  --quick              short warm-up and timing (whole run under 60 s; without ${QUICK_OMITS.join(' and ')} unless --peers names them)
  --shapes S1,S3,...   shapes to run (default: all)          ${SHAPES.map((s) => s.id).join(',')}
  --peers ours,ort,... peers to run (default: all)           ${PEERS.join(',')}
  --json PATH          where to write the results (default bench/results/latest.json)
  --threads N          "all threads" for this library (default: os.availableParallelism())
  --ort-threads N      onnxruntime-web threads (default 2)
  --time-ms N          target timed duration per cell (default 2000, quick 100; quick element-type and layout lines 40)
  --rounds N           the cells of a shape are timed in N interleaved rounds (default 8, quick 3)
  --warmup-ms N        minimum warm-up duration per cell (default 500, quick 40; quick element-type and layout lines 20)
  --no-ceiling         skip the matrix-multiply ceiling line(s)
  --no-dtypes          skip the float64/float16/bfloat16 and layout/dilation sections (ours only)
  --cpu-skip-s N       skip tfjs-cpu where one run is estimated over N s (default: quick 0.5, full never)
  --no-prepared        measure "ours"/"ours-1t" with the one-call form even if createConvTranspose exists
  --help`;
}

class UsageError extends Error {
  get isUsage() { return true; }
}

function parseArgs(argv) {
  const o = {
    quick: false,
    shapes: SHAPES.map((s) => s.id),
    peers: PEERS.slice(),
    json: path.join(HERE, 'results', 'latest.json'),
    threads: null,
    ortThreads: 2,
    timeMs: null,
    warmupMs: null,
    ceiling: true,
    dtypes: true,
    prepared: true,
    cpuSkipS: null,
    rounds: null,
  };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline = null;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    const take = () => (inline !== null ? inline : value(i++, a));
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--shapes': o.shapes = take().split(',').map((s) => s.trim().toUpperCase()).filter(Boolean); break;
      case '--peers': o.peers = take().split(',').map((s) => s.trim().toLowerCase()).filter(Boolean); o.peersGiven = true; break;
      case '--json': o.json = path.resolve(take()); break;
      case '--threads': o.threads = parseInt(take(), 10); break;
      case '--ort-threads': o.ortThreads = parseInt(take(), 10); break;
      case '--time-ms': o.timeMs = Number(take()); break;
      case '--warmup-ms': o.warmupMs = Number(take()); break;
      case '--no-ceiling': o.ceiling = false; break;
      case '--no-dtypes': o.dtypes = false; break;
      case '--no-prepared': o.prepared = false; break;
      case '--cpu-skip-s': o.cpuSkipS = Number(take()); break;
      case '--rounds': o.rounds = parseInt(take(), 10); break;
      case '--help': case '-h': console.log(usage()); listShapes(); process.exit(0); break;
      default: throw new UsageError(`unknown flag ${argv[i]}\n${usage()}`);
    }
  }
  for (const s of o.shapes) if (!SHAPES.some((x) => x.id === s)) throw new UsageError(`unknown shape ${s}; have ${SHAPES.map((x) => x.id).join(',')}`);
  for (const p of o.peers) if (!PEERS.includes(p)) throw new UsageError(`unknown peer ${p}; have ${PEERS.join(',')}`);
  // Quick, unless --peers says otherwise: without the two one-thread
  // diagnostics of the full run, so that the whole run stays under a minute.
  if (o.quick && !o.peersGiven) o.peers = o.peers.filter((p) => !QUICK_OMITS.includes(p));
  o.peers = PEERS.filter((p) => o.peers.includes(p)); // fixed order
  o.shapes = SHAPES.filter((s) => o.shapes.includes(s.id)).map((s) => s.id);
  if (o.threads !== null && !(o.threads >= 1)) throw new UsageError('--threads must be >= 1');
  if (!(o.ortThreads >= 1)) throw new UsageError('--ort-threads must be >= 1');
  // Measurement policy. Warm-up: run until warmupMs has passed and at least
  // warmRuns runs were made (whichever is later). Timed: enough runs to fill
  // timeMs, at least minRuns (quick: a run estimated over slowRunMs gets one).
  // collect: a full garbage collection before each timed slice (full runs;
  // in quick runs' 33 ms slices it would take a large share of the minute).
  o.policy = o.quick
    ? { warmupMs: o.warmupMs ?? 40, warmRuns: 2, timeMs: o.timeMs ?? 100, minRuns: 3, maxRuns: 2000,
        slowRunMs: 250, skipSlowCpuMs: (o.cpuSkipS ?? 0.5) * 1000, pauseMs: 10, rounds: o.rounds ?? 3, collect: false }
    : { warmupMs: o.warmupMs ?? 500, warmRuns: 3, timeMs: o.timeMs ?? 2000, minRuns: 5, maxRuns: 100000,
        slowRunMs: Infinity, skipSlowCpuMs: o.cpuSkipS !== null ? o.cpuSkipS * 1000 : Infinity, pauseMs: 100,
        rounds: o.rounds ?? 8, collect: true };
  // The element-type and layout lines (ours against ours): in quick mode
  // shorter, so that the whole run stays under a minute.
  o.sidePolicy = o.quick ? { ...o.policy, warmupMs: o.warmupMs ?? 20, timeMs: o.timeMs ?? 40 } : o.policy;
  return o;
}

function shapeInfo(s) {
  const rank = s.input.length - 2;
  const kernel = new Array(rank).fill(s.k);
  const strides = new Array(rank).fill(s.s);
  const dilations = new Array(rank).fill(1);
  const batch = s.input[0];
  const inSpatial = s.input.slice(1, -1);
  const outSpatial = s.output.slice(1, -1);
  const cin = s.input[rank + 1];
  const cout = s.output[rank + 1];
  const prod = (a) => a.reduce((x, y) => x * y, 1);
  const flops = 2 * batch * prod(inSpatial) * cin * cout * prod(kernel);
  const filterShape = [...kernel, cout, cin];
  const desc = `${rank}-D x[${s.input}] -> [${s.output}] k${s.k} s${s.s} ${s.padding}`;
  // TensorFlow accepts exactly `stride` output sizes per dimension.
  for (let i = 0; i < rank; i++) {
    const full = (inSpatial[i] - 1) * s.s + s.k;
    const lo = s.padding === 'SAME' ? (inSpatial[i] - 1) * s.s + 1 : full;
    const hi = s.padding === 'SAME' ? inSpatial[i] * s.s : full + s.s - 1;
    if (outSpatial[i] < lo || outSpatial[i] > hi) throw new Error(`${s.id}: output size ${outSpatial[i]} is not one TensorFlow accepts (${lo}..${hi})`);
  }
  return { ...s, rank, kernel, strides, dilations, batch, inSpatial, outSpatial, cin, cout, flops, filterShape, desc };
}

function listShapes() {
  console.log('\nshapes:');
  for (const s of SHAPES) {
    const i = shapeInfo(s);
    console.log(`  ${s.id}  ${i.desc.padEnd(58)} ${fmtGflop(i.flops).padStart(7)} GFLOP  ${s.note}`);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomData(n, seed) {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
function median(a) {
  const s = Float64Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function relError(out, ref) {
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
function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}
// One thread's into-array median over all threads' (> 1: the threads help).
function intoScaling(e) {
  const one = e.cells['ours-into-1t'];
  const all = e.cells['ours-into'];
  if (one?.status !== 'measured' || all?.status !== 'measured') return null;
  return one.medianMs / all.medianMs;
}

function fmtRatio(r) {
  if (r === null || r === undefined || !isFinite(r)) return '-';
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}
function fmtGflop(flops) {
  const g = flops / 1e9;
  return g >= 0.1 ? g.toFixed(2) : g.toPrecision(2);
}
function fmtGf(g) {
  if (g === null || g === undefined || !isFinite(g)) return '-';
  return g >= 10 ? g.toFixed(1) : g.toFixed(2);
}

/**
 * Warm-up then timed runs of fn (sync, or async when isAsync). fn returns the
 * output; the last one is kept for the check.
 */
async function measure(fn, isAsync, policy) {
  const warmTimes = [];
  let last;
  // The first call often carries one-time work (allocations, thread start,
  // lazy init): the warm-up clock starts after it.
  let w0 = 0;
  while (warmTimes.length < policy.warmRuns || now() - w0 < policy.warmupMs) {
    const t = now();
    last = isAsync ? await fn() : fn();
    warmTimes.push(now() - t);
    if (warmTimes.length === 1) w0 = now();
    if (warmTimes[warmTimes.length - 1] > policy.slowRunMs) break; // quick: one slow warm-up is enough
  }
  const est = Math.min(...warmTimes.slice(-2));
  let runs = Math.ceil(policy.timeMs / Math.max(est, 1e-3));
  runs = Math.min(policy.maxRuns, Math.max(est > policy.slowRunMs ? 1 : policy.minRuns, runs));
  const times = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t = now();
    last = isAsync ? await fn() : fn();
    times[i] = now() - t;
  }
  return {
    medianMs: median(times),
    minMs: times.reduce((x, y) => Math.min(x, y), Infinity),
    runs,
    warmupRuns: warmTimes.length,
    warmupMs: warmTimes.reduce((a, b) => a + b, 0),
    firstRunMs: warmTimes[0],
    output: last,
  };
}

// A full garbage collection where the engine allows it (node --expose-gc, as
// `npm run bench` runs it); a no-op otherwise.
function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/**
 * Several handles measured against each other on a shared, noisy machine:
 * each is warmed up (as in measure()), then all are timed in policy.rounds
 * rounds, every handle running for timeMs / rounds (at least one run) per
 * round, in an order shuffled anew each round, with a pause before each. Drift in the machine's speed then falls on every handle alike.
 * handle: { key, run, isAsync, before?: async () => void } (before: e.g. set
 * the thread count). Returns a Map key -> measure()-like result.
 */
async function measureInterleaved(handles, policy) {
  const state = new Map();
  for (const h of handles) {
    const warm = [];
    let last;
    let w0 = 0;
    try {
      if (h.before) await h.before();
      while (warm.length < policy.warmRuns || now() - w0 < policy.warmupMs) {
        const t = now();
        last = h.isAsync ? await h.run() : h.run();
        warm.push(now() - t);
        if (warm.length === 1) w0 = now();
        if (warm[warm.length - 1] > policy.slowRunMs) break;
      }
      state.set(h.key, { warm, times: [], last, est: Math.min(...warm.slice(-2)) });
    } catch (e) {
      state.set(h.key, { error: e });
    }
    await sleep(policy.pauseMs);
  }
  const slice = policy.timeMs / policy.rounds;
  // A new order every round (seeded shuffle): a peer does not always follow
  // the same peer, whose threads or garbage may still be busy for a while.
  const rng = mulberry32(12345);
  for (let r = 0; r < policy.rounds; r++) {
    const order = handles.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < order.length; i++) {
      const h = order[i];
      const st = state.get(h.key);
      if (st.error) continue;
      // A run far longer than its share (tfjs-cpu on the large shapes): one run
      // per round until it has minRuns (quick: one in all), not one per round.
      const slow = st.est > policy.slowRunMs || st.est > 2 * slice;
      if (slow && st.times.length >= (st.est > policy.slowRunMs ? 1 : policy.minRuns)) continue;
      // The garbage of the slice before (result arrays: megabytes a run) is
      // collected here, not in this handle's timed runs; the pause gives the
      // engine's background threads time to finish freeing it.
      if (policy.collect) collectGarbage();
      await sleep(policy.pauseMs);
      try {
        if (h.before) await h.before();
        const t0 = now();
        do {
          const t = now();
          st.last = h.isAsync ? await h.run() : h.run();
          st.times.push(now() - t);
        } while (now() - t0 < slice && st.times.length < policy.maxRuns);
      } catch (e) {
        st.error = e;
      }
    }
  }
  const out = new Map();
  for (const [key, st] of state) {
    if (st.error) {
      out.set(key, { error: st.error });
      continue;
    }
    out.set(key, {
      medianMs: median(st.times),
      minMs: st.times.reduce((x, y) => Math.min(x, y), Infinity),
      runs: st.times.length,
      warmupRuns: st.warm.length,
      warmupMs: st.warm.reduce((a, b) => a + b, 0),
      firstRunMs: st.warm[0],
      output: st.last,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Peers: prepare(shape, data) -> { run, isAsync, toNHWC?, dispose, note? }
// ---------------------------------------------------------------------------
async function makePeers(opts, env) {
  const peers = {};
  const prepared = opts.prepared && typeof lib.createConvTranspose === 'function';
  env.preparedAvailable = prepared;

  // into: write every run's result into one reused output array (run(x, shape, { output })).
  const oursPrepared = (threads, into = false) => async (sh, d) => {
    await lib.init({ numThreads: threads });
    const x = { data: d.x, shape: sh.input };
    if (!prepared) {
      return {
        run: () => lib.convTranspose(x, { data: d.f, shape: sh.filterShape }, sh.output, sh.strides, sh.padding).data,
        dispose: () => {},
        restore: () => lib.init({ numThreads: threads }),
        note: `prepared form ${opts.prepared ? 'not available' : 'off (--no-prepared)'}: one-call convTranspose measured`,
      };
    }
    const op = lib.createConvTranspose({ data: d.f, shape: sh.filterShape }, {
      strides: sh.strides, padding: sh.padding, dataFormat: null, dilations: null,
    });
    const runOptions = into ? { output: new Float32Array(sh.output.reduce((a, b) => a * b, 1)) } : undefined;
    return { run: () => op.run(x, sh.output, runOptions).data, dispose: () => op.dispose(), restore: () => lib.init({ numThreads: threads }), kernel: op.kernel };
  };
  const oursCall = (threads) => async (sh, d) => {
    await lib.init({ numThreads: threads });
    const x = { data: d.x, shape: sh.input };
    const f = { data: d.f, shape: sh.filterShape };
    return { run: () => lib.convTranspose(x, f, sh.output, sh.strides, sh.padding).data, dispose: () => {}, restore: () => lib.init({ numThreads: threads }) };
  };
  peers.ours = oursPrepared(env.threads);
  peers['ours-1t'] = oursPrepared(1);
  if (prepared) peers['ours-into'] = oursPrepared(env.threads, true);
  if (prepared) peers['ours-into-1t'] = oursPrepared(1, true);
  peers['ours-call'] = oursCall(env.threads);
  peers['ours-call-1t'] = oursCall(1);

  if (opts.peers.includes('tfjs-wasm') || opts.peers.includes('tfjs-cpu') || opts.ceiling) {
    const tf = await import('@tensorflow/tfjs');
    const tfw = await import('@tensorflow/tfjs-backend-wasm');
    const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    tfw.setWasmPaths(wasmDir);
    tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner
    env.tf = tf;
    env.tfWasmPaths = wasmDir;
    const tfPeer = (backend) => async (sh, d) => {
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
    peers['tfjs-wasm'] = tfPeer('wasm');
    peers['tfjs-cpu'] = tfPeer('cpu');
  }

  if (opts.peers.includes('ort')) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = opts.ortThreads;
    ort.env.wasm.simd = true;
    env.ort = ort;
    peers.ort = async (sh, d) => {
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
  }
  return peers;
}

// ---------------------------------------------------------------------------
// Matrix-multiply ceiling lines
// ---------------------------------------------------------------------------
async function ceilingLines(opts, env) {
  const lines = [];
  const n = 1024;
  const flops = 2 * n * n * n;
  const a = randomData(n * n, 11);
  const b = randomData(n * n, 12);
  if (env.tf) {
    const tf = env.tf;
    try {
      await tf.setBackend('wasm');
      await tf.ready();
      const ta = tf.tensor(a, [n, n]);
      const tb = tf.tensor(b, [n, n]);
      const m = await measure(() => {
        const c = tf.matMul(ta, tb);
        const d = c.dataSync();
        c.dispose();
        return d;
      }, false, opts.policy);
      ta.dispose();
      tb.dispose();
      lines.push({ id: 'tfjs-wasm-matmul', what: `tfjs-backend-wasm tf.matMul ${n}x${n}x${n} (XNNPACK SIMD sgemm, 1 thread: tfjs-wasm runs single-threaded in Node)`,
        medianMs: m.medianMs, gflops: flops / m.medianMs / 1e6, runs: m.runs });
    } catch (e) {
      lines.push({ id: 'tfjs-wasm-matmul', what: 'tfjs-backend-wasm tf.matMul', error: String(e && e.message || e) });
    }
  }
  if (env.ort) {
    const ort = env.ort;
    try {
      const model = buildMatMulModel(n, n, n, b);
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      const feeds = { a: new ort.Tensor('float32', a, [n, n]) };
      const m = await measure(async () => (await session.run(feeds)).c.getData(), true, opts.policy);
      await session.release();
      lines.push({ id: 'ort-matmul', what: `onnxruntime-web MatMul ${n}x${n}x${n} (MLAS SIMD sgemm, ${opts.ortThreads} threads, B an initializer)`,
        medianMs: m.medianMs, gflops: flops / m.medianMs / 1e6, runs: m.runs });
    } catch (e) {
      lines.push({ id: 'ort-matmul', what: 'onnxruntime-web MatMul', error: String(e && e.message || e) });
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Fixed cost: a call with almost no arithmetic (x[1,2,2,1] -> [1,4,4,1], 2x2
// filters, stride 2: 16 multiply-adds), so the time is what every call pays:
// argument checks and planning, allocation, copies in and out, dispatch.
// Both forms, interleaved, many calls each.
// ---------------------------------------------------------------------------
async function fixedCostLines(opts, env) {
  await lib.init({ numThreads: env.threads });
  const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] };
  const w = { data: new Float32Array([1, 0.5, 0.25, 0.125]), shape: [2, 2, 1, 1] };
  const op = lib.createConvTranspose(w, { strides: 2, padding: 'SAME' });
  const handles = [
    { key: 'one-call', run: () => lib.convTranspose(x, w, [1, 4, 4, 1], 2, 'SAME') },
    { key: 'prepared', run: () => op.run(x, [1, 4, 4, 1]) },
  ];
  const measured = await measureInterleaved(handles, { ...opts.policy, timeMs: opts.quick ? 200 : 1000, maxRuns: 1e6 });
  op.dispose();
  return handles.map((h) => {
    const m = measured.get(h.key);
    return { id: h.key, what: `${h.key === 'one-call' ? 'convTranspose' : 'createConvTranspose(...).run'} on x[1,2,2,1] -> [1,4,4,1] (16 multiply-adds)`,
      medianUs: m.medianMs * 1000, runs: m.runs };
  });
}

// ---------------------------------------------------------------------------
// Element types: this library alone, prepared form, all threads, on the
// selected shapes, as float64 / float16 / bfloat16 against its own float32.
// ---------------------------------------------------------------------------
async function dtypeLines(opts, env) {
  const { encodeArray } = require('../tests/js/helpers/reference.js');
  const rows = [];
  await lib.init({ numThreads: env.threads });
  for (const id of opts.shapes) {
    const sh = shapeInfo(SHAPES.find((x) => x.id === id));
    const x32 = randomData(sh.input.reduce((a, b) => a * b, 1), 31);
    const f32 = randomData(sh.filterShape.reduce((a, b) => a * b, 1), 32);
    const row = { id, gflops: {} };
    const handles = ['float32', 'float64', 'float16', 'bfloat16'].map((dtype) => {
      const wrap = (v) => (dtype === 'float32' ? v : dtype === 'float64' ? Float64Array.from(v) : encodeArray(v, dtype));
      const op = lib.createConvTranspose({ data: wrap(f32), shape: sh.filterShape, dtype }, { strides: sh.strides, padding: sh.padding });
      const input = { data: wrap(x32), shape: sh.input, dtype };
      return { key: dtype, run: () => op.run(input, sh.output), op };
    });
    const measured = await measureInterleaved(handles, opts.sidePolicy);
    for (const h of handles) {
      h.op.dispose();
      row.gflops[h.key] = sh.flops / measured.get(h.key).medianMs / 1e6;
    }
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Layout and dilation: this library alone, prepared form, all threads. Each
// selected 2-D/3-D shape as given (channels last), channels first (input and
// output transposed outside the timed region), and with dilation 2 (SAME,
// so the output shape is unchanged).
// ---------------------------------------------------------------------------
async function variantLines(opts, env) {
  const rows = [];
  await lib.init({ numThreads: env.threads });
  for (const id of opts.shapes) {
    const sh = shapeInfo(SHAPES.find((x) => x.id === id));
    const rank = sh.input.length - 2;
    if (rank < 2 || sh.padding !== 'SAME') continue;
    const x = randomData(sh.input.reduce((a, b) => a * b, 1), 41);
    const f = randomData(sh.filterShape.reduce((a, b) => a * b, 1), 42);
    const first = (s) => [s[0], s[s.length - 1], ...s.slice(1, -1)];
    const format = rank === 2 ? 'NCHW' : 'NCDHW';
    const cases = [
      ['channels last', { data: x, shape: sh.input }, sh.output, null, null],
      [format, { data: channelsLastToFirst(x, sh.input[0], sh.input.slice(1, -1), sh.input[rank + 1]), shape: first(sh.input) }, first(sh.output), format, null],
      ['dilation 2', { data: x, shape: sh.input }, sh.output, null, 2],
    ];
    const row = { id, gflops: {} };
    const handles = cases.map(([label, input, outShape, dataFormat, dilations]) => {
      const op = lib.createConvTranspose({ data: f, shape: sh.filterShape }, { strides: sh.strides, padding: sh.padding, dataFormat, dilations });
      return { key: label, run: () => op.run(input, outShape), op };
    });
    const measured = await measureInterleaved(handles, opts.sidePolicy);
    for (const h of handles) {
      h.op.dispose();
      row.gflops[h.key] = sh.flops / measured.get(h.key).medianMs / 1e6;
    }
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = now();
  const noLiftoff = process.execArgv.includes('--no-liftoff') || (process.env.NODE_OPTIONS || '').includes('--no-liftoff');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const env = { threads: opts.threads ?? cores };

  const initResult = await lib.init({ numThreads: env.threads });
  env.threads = initResult.threads;
  const libPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const verOf = (name) => {
    // Not require.resolve(`${name}/package.json`): some packages (onnxruntime-web) do not export it.
    for (let dir = ROOT; ; dir = path.dirname(dir)) {
      try { return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { /* next */ }
      if (path.dirname(dir) === dir) return null;
    }
  };

  const log = (...a) => console.log(...a);
  log(`# conv-transpose-wasm benchmark${opts.quick ? ' (--quick)' : ''}`);
  log('');
  log(`- date: ${new Date().toISOString()}`);
  log(`- Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}, CPU: ${os.cpus()[0]?.model ?? '?'}, ${cores} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`- node flags: ${process.execArgv.join(' ') || '(none)'}${noLiftoff
    ? ' — Liftoff off: wasm is optimized (TurboFan) before its first run'
    : ' — WARNING: Liftoff on; wasm runs baseline code until V8 tiers up. Run with `node --no-liftoff` for stable figures'}`);
  log(`- warm-up per cell: the first call, then until ${opts.policy.warmupMs} ms have passed and at least ${opts.policy.warmRuns} runs were made (whichever is later)${opts.quick ? `; a run over ${opts.policy.slowRunMs} ms ends it` : ''}`);
  const collects = opts.policy.collect && typeof globalThis.gc === 'function';
  log(`- timed per cell: ~${opts.policy.timeMs} ms of runs in ${opts.policy.rounds} interleaved rounds: each round times every peer of the shape for ~${Math.round(opts.policy.timeMs / opts.policy.rounds)} ms (at least one run; a run longer than two such slices only until ${opts.policy.minRuns} runs${opts.quick ? `, one if over ${opts.policy.slowRunMs} ms` : ''}), the order shuffled anew each round and ${collects ? 'a full garbage collection and ' : ''}a ${opts.policy.pauseMs} ms pause before each${collects || !opts.policy.collect ? '' : ' (no collection: run with --expose-gc for one)'}; median of all runs reported. Drift in the machine's speed falls on every peer alike`);
  log(`- timed region: one op call including read-back of its output (ours: .data; tfjs: dataSync(); ort: await run() + await getData()). Input/session/filter preparation and NHWC<->NCHW conversion are outside it`);
  log(`- conv-transpose-wasm ${libPkg.version}: init() -> ${JSON.stringify(initResult)}; "all threads" = ${env.threads}; prepared form createConvTranspose: ${typeof lib.createConvTranspose === 'function' ? (opts.prepared ? 'yes' : 'yes, but off (--no-prepared): ours = one-call form') : 'NOT AVAILABLE (ours = one-call form)'}`);
  log(`- library loaded from ${path.relative(ROOT, fileURLToPath(import.meta.resolve('conv-transpose-wasm')))} (the built dist/; rebuild before benchmarking changes)`);

  const peers = await makePeers(opts, env);
  if (env.tf) log(`- @tensorflow/tfjs ${verOf('@tensorflow/tfjs')}, tfjs-backend-wasm ${verOf('@tensorflow/tfjs-backend-wasm')} (wasm files: ${path.relative(ROOT, env.tfWasmPaths)}/; prod mode)`);
  if (env.ort) log(`- onnxruntime-web ${verOf('onnxruntime-web')}: wasm EP, env.wasm.numThreads = ${opts.ortThreads}, simd = true, graphOptimizationLevel 'all', opset 17`);
  log(`- output check: max|diff| / max|ref| against ours (one-call, all threads), tolerance ${TOLERANCE}`);
  log(`- FLOPs = 2 * batch * prod(input spatial) * Cin * Cout * prod(kernel)`);
  log('');

  const results = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      v8: process.versions.v8,
      execArgv: process.execArgv,
      noLiftoff,
      argv: process.argv.slice(2),
      platform: `${os.platform()} ${os.arch()}`,
      cpu: os.cpus()[0]?.model ?? null,
      cores,
      loadavgStart: os.loadavg(),
      quick: opts.quick,
      policy: { ...opts.policy, slowRunMs: isFinite(opts.policy.slowRunMs) ? opts.policy.slowRunMs : null,
        skipSlowCpuMs: isFinite(opts.policy.skipSlowCpuMs) ? opts.policy.skipSlowCpuMs : null },
      library: { version: libPkg.version, init: initResult, threads: env.threads, preparedForm: env.preparedAvailable },
      versions: { tfjs: verOf('@tensorflow/tfjs'), tfjsWasm: verOf('@tensorflow/tfjs-backend-wasm'), onnxruntimeWeb: verOf('onnxruntime-web') },
      ortThreads: opts.ortThreads,
      peers: opts.peers,
      peerLabels: PEER_LABEL,
      timedRegion: 'one op call including read-back of its output into a JS typed array; preparation and layout conversion outside',
      flopsFormula: '2 * batch * prod(input spatial) * Cin * Cout * prod(kernel)',
      check: { reference: 'ours one-call, all threads', metric: 'max|diff| / max|ref|', tolerance: TOLERANCE },
    },
    ceiling: [],
    shapes: [],
  };

  // tfjs-cpu rate (GFLOP/s) seen so far, to skip cells that would take > 3 s
  // per run in quick mode. Prior: 0.5 GFLOP/s (cautious).
  const CPU_RATE_PRIOR = 0.5;
  let cpuRateSeen = Infinity;

  if (isFinite(opts.policy.skipSlowCpuMs) && peers['tfjs-cpu'] && opts.peers.includes('tfjs-cpu') && opts.shapes.length > 0) {
    // Calibrate the skip rule on S1 (about 0.1 GFLOP) so it does not depend on
    // which shapes were chosen.
    const sh = shapeInfo(SHAPES[0]);
    const h = await peers['tfjs-cpu'](sh, { x: randomData(sh.input.reduce((a, b) => a * b, 1), 7), f: randomData(sh.filterShape.reduce((a, b) => a * b, 1), 8) });
    const m = await measure(h.run, false, { ...opts.policy, warmupMs: 0, warmRuns: 1, timeMs: 0, minRuns: 2 });
    h.dispose();
    cpuRateSeen = sh.flops / m.medianMs / 1e6;
    log(`tfjs-cpu calibration on S1: ${fmtGf(cpuRateSeen)} GFLOP/s (tfjs-cpu is skipped where a run would take > ${opts.policy.skipSlowCpuMs / 1000} s)`);
    log('');
  }

  for (const id of opts.shapes) {
    const sh = shapeInfo(SHAPES.find((s) => s.id === id));
    log(`## ${sh.id}: ${sh.desc} — ${fmtGflop(sh.flops)} GFLOP — ${sh.note}`);
    const d = {
      x: randomData(sh.input.reduce((a, b) => a * b, 1), 1000 + sh.id.charCodeAt(0) * 31 + Number(sh.id.slice(1))),
      f: randomData(sh.filterShape.reduce((a, b) => a * b, 1), 2000 + sh.id.charCodeAt(0) * 31 + Number(sh.id.slice(1))),
    };
    const entry = { id: sh.id, desc: sh.desc, note: sh.note, input: sh.input, output: sh.output, filters: sh.filterShape,
      kernel: sh.k, stride: sh.s, padding: sh.padding, flops: sh.flops, cells: {} };
    results.shapes.push(entry);

    // Reference: ours, one-call, all threads (outside any timing).
    let ref = null;
    try {
      await lib.init({ numThreads: env.threads });
      ref = lib.convTranspose({ data: d.x, shape: sh.input }, { data: d.f, shape: sh.filterShape }, sh.output, sh.strides, sh.padding).data;
    } catch (e) {
      log(`  reference (ours one-call) FAILED: ${e && e.message || e}`);
    }

    // Every peer is set up first, then all are timed in interleaved rounds.
    const handles = [];
    for (const p of opts.peers) {
      const cell = { peer: p };
      entry.cells[p] = cell;
      if (!peers[p]) {
        cell.status = 'unavailable';
        continue;
      }
      if (p === 'tfjs-cpu' && isFinite(opts.policy.skipSlowCpuMs)) {
        const cpuRate = isFinite(cpuRateSeen) ? cpuRateSeen : CPU_RATE_PRIOR;
        const estMs = sh.flops / cpuRate / 1e6;
        if (estMs > opts.policy.skipSlowCpuMs) {
          cell.status = 'skipped';
          cell.note = `skipped (slow): estimated ${(estMs / 1000).toFixed(1)} s per run at ${cpuRate.toFixed(2)} GFLOP/s`;
          log(`  ${p.padEnd(13)} skipped (slow, est. ${(estMs / 1000).toFixed(1)} s per run)`);
          continue;
        }
      }
      try {
        const ts = now();
        const h = await peers[p](sh, d);
        cell.setupMs = now() - ts;
        // Before each of its slices a peer gets its global state back (our
        // thread count, tfjs's backend) and one untimed run (pool threads
        // started, tfjs tensors moved to the backend).
        handles.push({ key: p, h, run: h.run, isAsync: !!h.isAsync, before: h.restore ? async () => {
          await h.restore();
          if (h.isAsync) await h.run(); else h.run();
        } : null });
      } catch (e) {
        cell.status = 'error';
        cell.error = String(e && e.message || e);
        log(`  ${p.padEnd(13)} ERROR: ${cell.error}`);
      }
    }
    const measured = await measureInterleaved(handles, opts.policy);
    for (const { key: p, h } of handles) {
      const cell = entry.cells[p];
      const m = measured.get(p);
      try {
        if (m.error) throw m.error;
        cell.status = 'measured';
        cell.medianMs = m.medianMs;
        cell.minMs = m.minMs;
        cell.runs = m.runs;
        cell.warmupRuns = m.warmupRuns;
        cell.firstRunMs = m.firstRunMs;
        cell.gflops = sh.flops / m.medianMs / 1e6;
        if (h.kernel) cell.kernel = h.kernel;
        if (h.note) cell.note = h.note;
        if (h.info) cell.info = h.info;
        const out = h.toNHWC ? h.toNHWC(m.output) : m.output;
        if (ref) {
          cell.relError = relError(out, ref);
          cell.checkOk = cell.relError <= TOLERANCE;
          if (h.knownBad) {
            cell.checkOk = false;
            cell.note = h.knownBad + (cell.relError <= TOLERANCE ? ' (passed numerically here, marked failed anyway)' : '');
          }
        }
        if (p === 'tfjs-cpu' && sh.flops >= 1e7) cpuRateSeen = Math.min(cpuRateSeen, cell.gflops);
        const chk = cell.relError === undefined ? 'n/a' : `${cell.checkOk ? 'ok' : 'FAILED'} (${cell.relError.toExponential(1)})`;
        log(`  ${p.padEnd(13)} ${fmtMs(m.medianMs).padStart(8)} ms  ${fmtGf(cell.gflops).padStart(6)} GFLOP/s  runs ${String(m.runs).padStart(5)} (+${m.warmupRuns} warm-up, first ${fmtMs(m.firstRunMs)} ms${cell.setupMs > 100 ? `, setup ${fmtMs(cell.setupMs)} ms` : ''})${cell.kernel ? `  kernel ${cell.kernel}` : ''}  check ${chk}${cell.note ? `  [${cell.note}]` : ''}`);
      } catch (e) {
        cell.status = 'error';
        cell.error = String(e && e.message || e);
        log(`  ${p.padEnd(13)} ERROR: ${cell.error}`);
      } finally {
        try { await h.dispose(); } catch { /* ignore */ }
      }
    }
    await lib.init({ numThreads: env.threads });
    const ours = entry.cells.ours;
    if (ours && ours.status === 'measured') {
      for (const c of Object.values(entry.cells)) {
        if (c.status === 'measured' && c.peer !== 'ours') c.ratio = c.medianMs / ours.medianMs;
      }
    }
  }

  if (opts.dtypes && opts.peers.includes('ours')) {
    log('');
    log('## Element types (ours, prepared form, all threads): GFLOP/s and share of float32');
    results.dtypes = await dtypeLines(opts, env);
    log('');
    log('| shape | float32 | float64 | float16 | bfloat16 |');
    log('|:--|--:|--:|--:|--:|');
    for (const r of results.dtypes) {
      const g = r.gflops;
      const pct = (d) => `${fmtGf(g[d])} (${Math.round((100 * g[d]) / g.float32)}%)`;
      log(`| ${r.id} | ${fmtGf(g.float32)} | ${pct('float64')} | ${pct('float16')} | ${pct('bfloat16')} |`);
    }
  }

  if (opts.dtypes && opts.peers.includes('ours')) {
    log('');
    log('## Layout and dilation (ours, prepared form, all threads, float32): GFLOP/s and share of channels last');
    results.variants = await variantLines(opts, env);
    log('');
    log('| shape | channels last | channels first | dilation 2 |');
    log('|:--|--:|--:|--:|');
    for (const r of results.variants) {
      const [base, cf, dil] = Object.values(r.gflops);
      const pct = (g) => `${fmtGf(g)} (${Math.round((100 * g) / base)}%)`;
      log(`| ${r.id} | ${fmtGf(base)} | ${pct(cf)} | ${pct(dil)} |`);
    }
  }

  if (opts.peers.includes('ours')) {
    log('');
    log('## Fixed cost of a call (ours, all threads)');
    results.fixedCost = await fixedCostLines(opts, env);
    for (const f of results.fixedCost) log(`- ${f.what}: median ${f.medianUs.toFixed(1)} us over ${f.runs} calls`);
  }

  if (opts.ceiling) {
    log('');
    log('## Matrix-multiply ceiling (reference for what SIMD sgemm reaches here)');
    results.ceiling = await ceilingLines(opts, env);
    for (const c of results.ceiling) {
      log(c.error ? `- ${c.what}: ERROR ${c.error}` : `- ${c.what}: ${fmtMs(c.medianMs)} ms, ${fmtGf(c.gflops)} GFLOP/s`);
    }
  }

  // ---- Markdown tables ----
  const cellMs = (c) => {
    if (!c) return '-';
    if (c.status === 'skipped') return 'skipped (slow)';
    if (c.status === 'error') return 'error';
    if (c.status !== 'measured') return '-';
    return fmtMs(c.medianMs) + (c.checkOk === false ? ' ✗' : '');
  };
  const has = (p) => opts.peers.includes(p);
  const cols = [
    ['shape', (e) => e.id],
    ['GFLOP', (e) => fmtGflop(e.flops)],
  ];
  if (has('ours')) cols.push(['ours ms', (e) => cellMs(e.cells.ours)], ['ours GFLOP/s', (e) => fmtGf(e.cells.ours?.gflops)]);
  if (has('ours-1t')) cols.push(['ours 1T GFLOP/s', (e) => fmtGf(e.cells['ours-1t']?.gflops)]);
  if (has('ours-into')) cols.push(['ours into-array ms', (e) => cellMs(e.cells['ours-into'])]);
  if (has('ours-into') && has('ours-into-1t')) cols.push(['into-array 2T/1T', (e) => fmtRatio(intoScaling(e))]);
  if (has('ours-call')) cols.push(['ours one-call ms', (e) => cellMs(e.cells['ours-call'])]);
  if (has('ours-call-1t')) cols.push(['ours one-call 1T ms', (e) => cellMs(e.cells['ours-call-1t'])]);
  if (has('tfjs-wasm')) cols.push(['tfjs-wasm ms', (e) => cellMs(e.cells['tfjs-wasm'])]);
  if (has('tfjs-cpu')) cols.push(['tfjs-cpu ms', (e) => cellMs(e.cells['tfjs-cpu'])]);
  if (has('ort')) cols.push(['ort-web ms', (e) => cellMs(e.cells.ort)]);
  if (has('ours')) {
    for (const [p, label] of [['ours-1t', 'vs ours 1T'], ['ours-call', 'vs one-call'], ['tfjs-wasm', 'vs tfjs-wasm'], ['tfjs-cpu', 'vs tfjs-cpu'], ['ort', 'vs ort-web']]) {
      if (has(p)) cols.push([label, (e) => fmtRatio(e.cells[p]?.ratio)]);
    }
  }
  const table = [];
  table.push(`| ${cols.map((c) => c[0]).join(' | ')} |`);
  table.push(`|${cols.map((c, i) => (i === 0 ? ':--' : '--:')).join('|')}|`);
  for (const e of results.shapes) table.push(`| ${cols.map((c) => c[1](e)).join(' | ')} |`);

  const checkCols = opts.peers;
  const checks = [];
  checks.push(`| shape | ${checkCols.join(' | ')} |`);
  checks.push(`|:--|${checkCols.map(() => ':--').join('|')}|`);
  for (const e of results.shapes) {
    checks.push(`| ${e.id} | ${checkCols.map((p) => {
      const c = e.cells[p];
      if (!c || c.status === 'skipped') return 'skipped';
      if (c.status === 'error') return 'error';
      if (c.relError === undefined) return 'n/a';
      return `${c.checkOk ? 'ok' : 'FAILED'} ${c.relError.toExponential(0)}`;
    }).join(' | ')} |`);
  }

  log('');
  log('## Results');
  log('');
  log('Median ms per call (timed region: one op call including output read-back). "vs X" = X median / ours median (ours = prepared form, all threads; > 1 means ours is faster). ✗ = output check failed.');
  log('');
  for (const s of results.shapes) log(`- ${s.id}: ${s.desc} — ${s.note}`);
  log('');
  for (const l of table) log(l);
  log('');
  log(`Output check: max|diff| / max|ref| vs ours one-call (all threads), tolerance ${TOLERANCE}.`);
  log('');
  for (const l of checks) log(l);
  const notes = [];
  for (const e of results.shapes) for (const c of Object.values(e.cells)) if (c.note || c.error) notes.push(`- ${e.id} ${c.peer}: ${c.note || ''}${c.error ? `ERROR ${c.error}` : ''}`);
  if (notes.length) {
    log('');
    log('Notes:');
    for (const n of notes) log(n);
  }
  if (results.ceiling.some((c) => !c.error)) log('');
  for (const c of results.ceiling) {
    if (!c.error) log(`Ceiling: ${c.what}: ${fmtGf(c.gflops)} GFLOP/s`);
  }

  results.meta.loadavgEnd = os.loadavg();
  results.meta.totalSeconds = (now() - t0) / 1000;
  results.markdown = { table, checks };
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  fs.writeFileSync(opts.json, JSON.stringify(results, (k, v) => (typeof v === 'number' && !isFinite(v) ? null : v), 2) + '\n');
  log('');
  log(`JSON: ${path.relative(process.cwd(), opts.json) || opts.json}; total ${results.meta.totalSeconds.toFixed(1)} s`);
}

main().then(
  () => process.exit(0), // onnxruntime-web / emscripten workers would keep the process alive
  (e) => {
    console.error(e && e.isUsage ? `bench/run.mjs: ${e.message}` : e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
