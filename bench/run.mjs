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
//   node --no-liftoff --expose-gc bench/run.mjs --quick --shapes S1,E1 --baseline ../previous/dist
//                        this build against another build of the library (see base below)
//   node --experimental-wasm-relaxed-simd --no-liftoff --expose-gc bench/run.mjs --quick --no-models \
//        --backend wasm-relaxed-simd-threads --baseline-backend wasm-simd-threads
//                        two wasm builds of this library in one process (the relaxed-SIMD
//                        build needs the flag in Node 20; Node 22 has relaxed SIMD on)
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
//   ours-resident the prepared form, all threads, its input and output tensors
//                 in wasm memory (createWasmTensor): no copy in or out; the
//                 column "copies saved" is ours-into / ours-resident
//   ours-call     this library, all threads, one-call form convTranspose()
//   ours-call-1t  the one-call form on 1 thread
//   base          only with --baseline DIR, where DIR is the dist/ folder of
//                 another build of this library (e.g. one built from the
//                 previous commit): that build, loaded as a second module
//                 instance, made and timed exactly as ours (prepared form,
//                 all threads, a new result array per call). Adds the columns
//                 "base ms" and "vs base" (base / ours; > 1: the current
//                 build is faster). Two builds in one process, interleaved,
//                 is the fair comparison: between processes figures move by
//                 more than most changes gain. With --baseline-backend B
//                 and no --baseline, base is another instance of this very
//                 dist/ (copied to a temporary folder) started on build B
//   base-1t       the baseline build on 1 thread, as ours-1t; adds the column
//                 "1T vs base-1T" (base-1t / ours-1t)
//   tfjs-wasm     @tensorflow/tfjs-backend-wasm: tf.conv2dTranspose /
//                 tf.conv3dTranspose (1-D as conv2dTranspose with H = 1);
//                 scalar loop, one thread (tfjs-wasm turns threads off in Node)
//   tfjs-cpu      @tensorflow/tfjs cpu backend (plain JS), same calls
//   ort           onnxruntime-web, wasm execution provider, 2 threads, SIMD,
//                 one ConvTranspose node of an ONNX model built in memory
//                 (bench/onnx-model.mjs), weights as an initializer
//   litert        LiteRT.js (@litertjs/core), its CPU accelerator (XNNPACK in
//                 wasm; the threaded relaxed-SIMD build: npm run bench passes
//                 --experimental-wasm-relaxed-simd), 2 threads, one
//                 TRANSPOSE_CONV of a .tflite model built in memory
//                 (bench/tflite-model.mjs); 1-D as 2-D with H = 1, no 3-D.
//                 Timed: the full call (input tensor made, run, output
//                 copied out)
//   litert-run    the same model, its run alone on an input tensor made once
//
// Timed region: one op call including the read-back of its output into a JS
// typed array (our .data, tfjs dataSync(), ort `await session.run()` +
// `await tensor.getData()`, litert `new Tensor(x)` + `await run()` +
// `toTypedArray()`; litert-run: `await run()` alone). Outside it: creating input tensors, preparing
// filters / creating the ORT session, NHWC <-> NCHW conversion for ORT.
//
// Output check: every peer's output against this library's one-call output
// (all threads) computed before the timings, as max|diff| / max|reference|,
// tolerance 1e-4.
//
// The parts live in bench/lib/: shapes.mjs (the shapes and their data),
// peers.mjs (making each peer, the output check), measure.mjs (timing and its
// policy), report.mjs (formatting, Markdown tables, the JSON),
// sections.mjs (the sections that main() runs in order) and models.mjs
// (whole tfjs models with and without registerTfjsKernels, run last).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as lib from 'conv-transpose-wasm';
import { now, timingPolicy } from './lib/measure.mjs';
import { BASELINE_PEERS, makePeers, PEERS, QUICK_OMITS } from './lib/peers.mjs';
import { logHeader, logPeerSetup, logResults, resultsMeta, writeJson } from './lib/report.mjs';
import { calibrateCpu, ceilingLines, dtypeLines, fixedCostLines, shapeSection, variantLines } from './lib/sections.mjs';
import { listShapes, shapeById, SHAPES } from './lib/shapes.mjs';
import { layersSection } from './lib/layers.mjs';
import { modelsSection } from './lib/models.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------
function usage() {
  return `usage: node --no-liftoff --expose-gc bench/run.mjs [flags]
  --quick              short warm-up and timing (whole run under 60 s; without ${QUICK_OMITS.join(' and ')} unless --peers names them)
  --shapes S1,S3,...   shapes to run (default: all)          ${SHAPES.map((s) => s.id).join(',')}
  --peers ours,ort,... peers to run (default: all)           ${PEERS.join(',')} (${BASELINE_PEERS.join(',')} only with --baseline)
  --baseline DIR       also measure the build in DIR (the dist/ folder of another build of this library, with
                       index.mjs or index.js and wasm/) as peers base (all threads) and base-1t (1 thread), made and
                       timed exactly as ours and ours-1t; the table gains "base ms", "vs base" and "1T vs base-1T"
  --backend B          load this library's build B (init({ backend: B }): wasm-relaxed-simd-threads, wasm-simd-threads, wasm-simd)
  --baseline-backend B start the baseline on build B; without --baseline, the baseline is this build's own dist/
                       (a copy, loaded as a second instance), so that two of its wasm builds are timed in one process
  --json PATH          where to write the results (default bench/results/latest.json)
  --threads N          "all threads" for this library (default: os.availableParallelism())
  --ort-threads N      onnxruntime-web threads (default 2)
  --litert-threads N   LiteRT.js threads (default 2)
  --time-ms N          target timed duration per cell (default 2000, quick 100; quick element-type and layout lines 40)
  --rounds N           the cells of a shape are timed in N interleaved rounds (default 8, quick 3)
  --warmup-ms N        minimum warm-up duration per cell (default 500, quick 40; quick element-type and layout lines 20)
  --no-ceiling         skip the matrix-multiply ceiling line(s)
  --no-dtypes          skip the float64/float16/bfloat16 and layout/dilation sections (ours only)
  --no-layers          skip the decoder layers section (fused epilogue, groups; bench/lib/layers.mjs)
  --no-models          skip the tfjs models section (bench/lib/models.mjs; alone: node bench/lib/models.mjs)
  --models             run the models section in a --quick run too (quick leaves it out: tfjs cpu needs seconds a predict at batch 8)
  --cpu-skip-s N       skip tfjs-cpu where one run is estimated over N s (default: quick 0.5, full never)
  --no-prepared        measure "ours"/"ours-1t" (and "base"/"base-1t") with the one-call form even if createConvTranspose exists
  --help`;
}

// This build's dist/ copied to a temporary folder: loaded from there it is a
// second instance of the library (its own module state, wasm memory and
// thread pool), which may start another of its wasm builds.
function copyOfThisBuild() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctw-bench-base-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'dist');
}

class UsageError extends Error {
  get isUsage() { return true; }
}

function parseArgs(argv) {
  const o = {
    quick: false,
    shapes: SHAPES.map((s) => s.id),
    peers: null,
    json: path.join(HERE, 'results', 'latest.json'),
    threads: null,
    ortThreads: 2,
    litertThreads: 2,
    timeMs: null,
    warmupMs: null,
    ceiling: true,
    dtypes: true,
    layers: true,
    models: null,
    prepared: true,
    cpuSkipS: null,
    rounds: null,
    baseline: null,
    backend: null,
    baselineBackend: null,
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
      case '--litert-threads': o.litertThreads = parseInt(take(), 10); break;
      case '--time-ms': o.timeMs = Number(take()); break;
      case '--warmup-ms': o.warmupMs = Number(take()); break;
      case '--no-ceiling': o.ceiling = false; break;
      case '--no-dtypes': o.dtypes = false; break;
      case '--no-models': o.models = false; break;
      case '--no-layers': o.layers = false; break;
      case '--models': o.models = true; break;
      case '--no-prepared': o.prepared = false; break;
      case '--cpu-skip-s': o.cpuSkipS = Number(take()); break;
      case '--rounds': o.rounds = parseInt(take(), 10); break;
      case '--baseline': o.baseline = path.resolve(take()); break;
      case '--backend': o.backend = take(); break;
      case '--baseline-backend': o.baselineBackend = take(); break;
      case '--help': case '-h': console.log(usage()); listShapes(); process.exit(0); break;
      default: throw new UsageError(`unknown flag ${argv[i]}\n${usage()}`);
    }
  }
  if (o.baselineBackend && !o.baseline) o.baseline = copyOfThisBuild();
  for (const s of o.shapes) if (!SHAPES.some((x) => x.id === s)) throw new UsageError(`unknown shape ${s}; have ${SHAPES.map((x) => x.id).join(',')}`);
  // All peers by default; the baseline's only when there is one.
  o.peers ??= PEERS.filter((p) => o.baseline || !BASELINE_PEERS.includes(p));
  for (const p of o.peers) if (!PEERS.includes(p)) throw new UsageError(`unknown peer ${p}; have ${PEERS.join(',')}`);
  for (const p of o.peers) if (BASELINE_PEERS.includes(p) && !o.baseline) throw new UsageError(`peer ${p} needs --baseline DIR`);
  if (o.baseline && !fs.existsSync(o.baseline)) throw new UsageError(`--baseline ${o.baseline}: no such folder`);
  // Quick, unless --peers says otherwise: without the two one-thread
  // diagnostics of the full run, so that the whole run stays under a minute.
  if (o.quick && !o.peersGiven) o.peers = o.peers.filter((p) => !QUICK_OMITS.includes(p));
  o.peers = PEERS.filter((p) => o.peers.includes(p)); // fixed order
  o.shapes = SHAPES.filter((s) => o.shapes.includes(s.id)).map((s) => s.id);
  o.models ??= !o.quick;
  if (o.threads !== null && !(o.threads >= 1)) throw new UsageError('--threads must be >= 1');
  if (!(o.ortThreads >= 1)) throw new UsageError('--ort-threads must be >= 1');
  if (!(o.litertThreads >= 1)) throw new UsageError('--litert-threads must be >= 1');
  Object.assign(o, timingPolicy(o));
  return o;
}

// ---------------------------------------------------------------------------
// The library under test and the machine: what every section and the report
// share (threads, versions, where the library came from).
// ---------------------------------------------------------------------------
async function environment(opts) {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const initResult = await lib.init({ numThreads: opts.threads ?? cores, ...(opts.backend ? { backend: opts.backend } : {}) });
  const verOf = (name) => {
    // Not require.resolve(`${name}/package.json`): some packages (onnxruntime-web) do not export it.
    for (let dir = ROOT; ; dir = path.dirname(dir)) {
      try { return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { /* next */ }
      if (path.dirname(dir) === dir) return null;
    }
  };
  return {
    root: ROOT,
    cores,
    threads: initResult.threads,
    initResult,
    noLiftoff: process.execArgv.includes('--no-liftoff') || (process.env.NODE_OPTIONS || '').includes('--no-liftoff'),
    libVersion: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
    libPath: fileURLToPath(import.meta.resolve('conv-transpose-wasm')),
    hasPrepared: typeof lib.createConvTranspose === 'function',
    versions: { tfjs: verOf('@tensorflow/tfjs'), tfjsWasm: verOf('@tensorflow/tfjs-backend-wasm'), onnxruntimeWeb: verOf('onnxruntime-web'), litert: verOf('@litertjs/core') },
  };
}

// ---------------------------------------------------------------------------
// Main: the sections in order, then the results tables and the JSON.
// ---------------------------------------------------------------------------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = now();
  const env = await environment(opts);
  logHeader(opts, env);
  const peers = await makePeers(opts, env);
  logPeerSetup(opts, env);

  const results = { meta: resultsMeta(opts, env), ceiling: [], shapes: [] };
  const cpu = await calibrateCpu(opts, peers);
  for (const id of opts.shapes) results.shapes.push(await shapeSection(shapeById(id), opts, env, peers, cpu));
  const ours = opts.peers.includes('ours');
  if (opts.dtypes && ours) results.dtypes = await dtypeLines(opts, env);
  if (opts.dtypes && ours) results.variants = await variantLines(opts, env);
  if (ours) results.fixedCost = await fixedCostLines(opts, env);
  if (opts.ceiling) results.ceiling = await ceilingLines(opts, env);
  if (opts.layers && ours) {
    results.layers = await layersSection({ policy: opts.policy, threads: env.threads, ort: env.ort ?? null,
      litert: env.litert?.litert ?? null, litertThreads: opts.litertThreads });
  }
  if (opts.models) results.models = await modelsSection(opts);

  const markdown = logResults(results, opts);
  results.meta.loadavgEnd = os.loadavg();
  results.meta.totalSeconds = (now() - t0) / 1000;
  results.markdown = markdown;
  writeJson(opts.json, results);
}

main().then(
  () => process.exit(0), // onnxruntime-web / emscripten workers would keep the process alive
  (e) => {
    console.error(e && e.isUsage ? `bench/run.mjs: ${e.message}` : e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
