// The models section: whole tfjs Layers models with and without
// registerTfjsKernels, the drop-in form of this library for tfjs users.
//
//   node --no-liftoff --expose-gc bench/run.mjs ... (the section runs last; --no-models skips it)
//   node --no-liftoff --expose-gc bench/lib/models.mjs [--quick] [--time-ms N] [--rounds N] [--warmup-ms N] [--threads N]
//                                        this section alone
//
// Models (tests/js/helpers/tfjs-models.js, fixed random weights): a
// DCGAN-style generator (conv2dTranspose k5 s2 'same' 512 -> 256 -> 128 ->
// 64 -> 3) and a pix2pix-style U-Net decoder (conv2dTranspose k4 s2 with
// skip concatenations, 64x64x3 out).
//
// 1. Predict: model.predict at batch 1 and 8 on tfjs-wasm and tfjs cpu,
//    with and without the plug-in, the four cells of a (model, batch)
//    interleaved in one process; timed region: predict plus dataSync() of
//    the prediction. Medians. The plug-in is registered or unregistered
//    before a cell's slice (untimed) and its packed filters warmed by two
//    untimed predicts. The share of predict time spent in the transposed
//    convolutions comes from the same runs: the current Conv2DBackpropInput
//    kernel (tfjs's or the plug-in's) is wrapped in a timer (two clock reads
//    a layer); both backends are synchronous, so the kernel's time is its
//    own.
// 2. Overhead per layer: each transposed-convolution layer's kernel call
//    through tfjs with the plug-in (runKernel('Conv2DBackpropInput'): tfjs's
//    bookkeeping, the plan, the cache lookup, reading and writing tfjs's
//    memory) against the prepared op alone (createConvTranspose(...).run
//    into a reused output array) on the same shapes, interleaved; overhead
//    = (kernel - prepared) / kernel.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import * as lib from 'conv-transpose-wasm';
import { measureInterleaved, now, timingPolicy } from './measure.mjs';
import { fmtMs, fmtRatio, log } from './report.mjs';

const require = createRequire(import.meta.url);
const M = require('../../tests/js/helpers/tfjs-models.js');

const MODELS = ['generator', 'decoder'];
const BATCHES = [1, 8];
const BACKENDS = ['wasm', 'cpu'];
const KERNEL = 'Conv2DBackpropInput';

async function loadTfjs() {
  const tf = await import('@tensorflow/tfjs');
  const tfw = await import('@tensorflow/tfjs-backend-wasm');
  tfw.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  tf.enableProdMode();
  for (const b of BACKENDS) if (!(await tf.setBackend(b))) throw new Error(`tf.setBackend('${b}') failed`);
  return tf;
}

// The plug-in on or off, and a timer around whichever kernel is current on
// each backend (put back before the plug-in changes the registry).
function kernelState(tf) {
  let reg = null;
  const wrapped = [];
  const timer = { ms: 0 };
  const unwrap = () => {
    for (const { backendName, inner } of wrapped.splice(0)) {
      tf.unregisterKernel(KERNEL, backendName);
      tf.registerKernel(inner);
    }
  };
  const wrap = () => {
    for (const backendName of BACKENDS) {
      const inner = tf.getKernel(KERNEL, backendName);
      tf.unregisterKernel(KERNEL, backendName);
      tf.registerKernel({ ...inner, kernelFunc: (args) => { const t = now(); try { return inner.kernelFunc(args); } finally { timer.ms += now() - t; } } });
      wrapped.push({ backendName, inner });
    }
  };
  return {
    timer,
    set(plugin) {
      unwrap();
      if (plugin && !reg) reg = lib.registerTfjsKernels(tf, { backends: BACKENDS });
      if (!plugin && reg) {
        reg.unregister();
        reg = null;
      }
      wrap();
    },
    stats: () => reg?.stats() ?? null,
    done() {
      unwrap();
      reg?.unregister();
      reg = null;
    },
  };
}

function median(a) {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

async function predictCells(tf, state, models, name, batch, policy) {
  const handles = [];
  const shares = {};
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const model = models[backend][name];
    const x = M.inputsFor(tf, model, batch);
    for (const plugin of [false, true]) {
      const key = `${backend}${plugin ? '+plugin' : ''}`;
      shares[key] = [];
      handles.push({
        key,
        x,
        before: async () => {
          await tf.setBackend(backend);
          state.set(plugin);
          if (plugin) for (let i = 0; i < 2; i++) M.predictData(model, x);
        },
        run: () => {
          state.timer.ms = 0;
          const t = now();
          M.predictData(model, x);
          shares[key].push(state.timer.ms / (now() - t));
        },
      });
    }
  }
  const measured = await measureInterleaved(handles, policy);
  const rows = [];
  for (const backend of BACKENDS) {
    const own = measured.get(backend);
    const ours = measured.get(`${backend}+plugin`);
    const row = {
      model: name, batch, backend,
      tfjsMs: own.medianMs ?? null, pluginMs: ours.medianMs ?? null,
      speedup: own.medianMs && ours.medianMs ? own.medianMs / ours.medianMs : null,
      shareBefore: median(shares[backend]), shareAfter: median(shares[`${backend}+plugin`]),
      runs: [own.runs ?? 0, ours.runs ?? 0],
      error: own.error?.message ?? ours.error?.message ?? null,
    };
    rows.push(row);
    log(`| ${name} | ${batch} | tfjs-${backend} | ${fmtMs(row.tfjsMs)} | ${fmtMs(row.pluginMs)} | ${fmtRatio(row.speedup)} | ${pct(row.shareBefore)} | ${pct(row.shareAfter)} | ${row.runs.join(' / ')} |${row.error ? ` ${row.error}` : ''}`);
  }
  tf.dispose(handles.filter((h, i) => i % 2 === 0).map((h) => h.x));
  return rows;
}

const pct = (f) => (Number.isFinite(f) ? `${(100 * f).toFixed(f < 0.1 ? 1 : 0)}%` : '-');

async function overheadCells(tf, state, models, name, batch, policy) {
  const rows = [];
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    state.done(); // no timer around the kernel here
    const reg = lib.registerTfjsKernels(tf, { backends: BACKENDS });
    try {
      for (const layer of M.transposedLayers(models[backend][name], batch)) {
        const dy = tf.randomNormal(layer.inputShape, 0, 1, 'float32', 3);
        const attrs = { inputShape: layer.outputShape, strides: layer.strides, pad: layer.padding, dataFormat: 'NHWC' };
        const op = lib.createConvTranspose(layer.kernel, { strides: layer.strides, padding: layer.padding.toUpperCase() });
        const input = { data: dy.dataSync().slice(), shape: layer.inputShape };
        const output = new Float32Array(layer.outputShape.reduce((a, b) => a * b, 1));
        const handles = [
          { key: 'kernel', run: () => tf.dispose(tf.engine().runKernel(KERNEL, { dy, filter: layer.kernel }, attrs)) },
          { key: 'prepared', run: () => op.run(input, layer.outputShape, { output }) },
        ];
        const m = await measureInterleaved(handles, policy);
        const k = m.get('kernel').medianMs;
        const p = m.get('prepared').medianMs;
        const row = { model: name, layer: layer.name, batch, backend, inputShape: layer.inputShape, outputShape: layer.outputShape, kernelMs: k, preparedMs: p, overhead: (k - p) / k };
        rows.push(row);
        log(`| ${name} | ${layer.name} [${layer.inputShape.slice(1).join('x')}] -> [${layer.outputShape.slice(1).join('x')}] | ${batch} | tfjs-${backend} | ${fmtMs(k)} | ${fmtMs(p)} | ${pct(row.overhead)} |`);
        op.dispose();
        dy.dispose();
      }
      const s = reg.stats();
      if (s.fallbacks[backend]) throw new Error(`models: the plug-in fell back on ${backend}: ${JSON.stringify(s.reasons)}`);
    } finally {
      reg.unregister();
    }
  }
  return rows;
}

/** The section: returns { predict: rows, overhead: rows } for the JSON. */
export async function modelsSection(opts) {
  const tf = await loadTfjs();
  const policy = opts.policy;
  log('');
  log('## Models: tfjs Layers model.predict with and without registerTfjsKernels');
  log(`(this library on ${lib.backendInfo()?.threads ?? '?'} threads; tfjs-wasm on one thread, as tfjs runs it in Node)`);
  const models = {};
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    models[backend] = Object.fromEntries(MODELS.map((n) => [n, M.MODELS[n](tf)]));
  }
  const state = kernelState(tf);
  const result = { predict: [], overhead: [] };
  try {
    log('');
    log('| model | batch | backend | tfjs ms | with plug-in ms | speed-up | transposed conv share, tfjs | with plug-in | runs |');
    log('|---|---|---|---|---|---|---|---|---|');
    for (const name of MODELS) for (const batch of BATCHES) result.predict.push(...(await predictCells(tf, state, models, name, batch, policy)));
    state.done();
    log('');
    log('Plug-in overhead per layer: the kernel through tfjs with the plug-in against the prepared op alone');
    log('');
    log('| model | layer | batch | backend | kernel ms | prepared ms | overhead |');
    log('|---|---|---|---|---|---|---|');
    for (const name of MODELS) for (const batch of BATCHES) result.overhead.push(...(await overheadCells(tf, state, models, name, batch, policy)));
  } finally {
    state.done();
    for (const backend of BACKENDS) for (const m of Object.values(models[backend])) m.dispose();
  }
  return result;
}

// Run alone: node --no-liftoff --expose-gc bench/lib/models.mjs [flags]
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  const num = (flag) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : null);
  const o = { quick: argv.includes('--quick'), timeMs: num('--time-ms'), warmupMs: num('--warmup-ms'), rounds: num('--rounds'), cpuSkipS: null };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  lib.init({ numThreads: num('--threads') ?? cores })
    .then(() => modelsSection({ ...o, ...timingPolicy(o) }))
    .then(() => process.exit(0), (e) => {
      console.error(e && e.stack ? e.stack : e);
      process.exit(1);
    });
}
