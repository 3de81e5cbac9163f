// The sections of a run, in the order bench/run.mjs runs them: the peer
// comparison of each shape (every peer set up, then all timed in interleaved
// rounds, then checked), this library's element types and layouts, the fixed
// cost of a call, and the matrix-multiply ceiling. Each section prints its
// own heading and lines as it goes (a long run shows progress) and returns
// its rows for the JSON.

import { createRequire } from 'node:module';

import * as lib from 'conv-transpose-wasm';
import { buildMatMulModel, channelsLastToFirst } from '../onnx-model.mjs';
import { measure, measureInterleaved, now } from './measure.mjs';
import { checkOutput, reference } from './peers.mjs';
import { fmtGf, fmtGflop, fmtMs, log, logCell, logDtypeTable, logPeer, logVariantTable } from './report.mjs';
import { operands, randomData, shapeById, shapeData, SHAPES, shapeInfo } from './shapes.mjs';

const require = createRequire(import.meta.url);

// tfjs-cpu's rate (GFLOP/s) before any is seen: cautious, so that a slow
// shape is skipped rather than run for minutes.
const CPU_RATE_PRIOR = 0.5;

/**
 * tfjs-cpu's rate so far, { gflops }, to skip its cells that would take over
 * policy.skipSlowCpuMs per run (quick mode). Calibrated on S1 (about 0.1
 * GFLOP) so that the rule does not depend on which shapes were chosen.
 */
export async function calibrateCpu(opts, peers) {
  const cpu = { gflops: Infinity };
  if (isFinite(opts.policy.skipSlowCpuMs) && peers['tfjs-cpu'] && opts.peers.includes('tfjs-cpu') && opts.shapes.length > 0) {
    const sh = shapeInfo(SHAPES[0]);
    const h = await peers['tfjs-cpu'](sh, operands(sh, 7, 8));
    const m = await measure(h.run, false, { ...opts.policy, warmupMs: 0, warmRuns: 1, timeMs: 0, minRuns: 2 });
    h.dispose();
    cpu.gflops = sh.flops / m.medianMs / 1e6;
    log(`tfjs-cpu calibration on S1: ${fmtGf(cpu.gflops)} GFLOP/s (tfjs-cpu is skipped where a run would take > ${opts.policy.skipSlowCpuMs / 1000} s)`);
    log('');
  }
  return cpu;
}

// Why tfjs-cpu is skipped on shape sh (its estimated run is too long), or null.
function cpuSkip(sh, opts, cpu) {
  if (!isFinite(opts.policy.skipSlowCpuMs)) return null;
  const cpuRate = isFinite(cpu.gflops) ? cpu.gflops : CPU_RATE_PRIOR;
  const estMs = sh.flops / cpuRate / 1e6;
  if (estMs <= opts.policy.skipSlowCpuMs) return null;
  return { estMs, note: `skipped (slow): estimated ${(estMs / 1000).toFixed(1)} s per run at ${cpuRate.toFixed(2)} GFLOP/s` };
}

/**
 * One shape against all peers of the run: returns its JSON entry (a cell per
 * peer, ratios to ours). Every peer is set up first, then all are timed in
 * interleaved rounds, then each output is checked against the reference.
 */
export async function shapeSection(sh, opts, env, peers, cpu) {
  log(`## ${sh.id}: ${sh.desc} — ${fmtGflop(sh.flops)} GFLOP — ${sh.note}`);
  const d = shapeData(sh);
  const entry = { id: sh.id, desc: sh.desc, note: sh.note, input: sh.input, output: sh.output, filters: sh.filterShape,
    kernel: sh.k, stride: sh.s, padding: sh.padding, flops: sh.flops, cells: {} };
  const ref = await reference(sh, d, env);

  const handles = [];
  for (const p of opts.peers) {
    const cell = { peer: p };
    entry.cells[p] = cell;
    if (!peers[p]) {
      cell.status = 'unavailable';
      continue;
    }
    const skip = p === 'tfjs-cpu' ? cpuSkip(sh, opts, cpu) : null;
    if (skip) {
      cell.status = 'skipped';
      cell.note = skip.note;
      logPeer(p, `skipped (slow, est. ${(skip.estMs / 1000).toFixed(1)} s per run)`);
      continue;
    }
    try {
      const ts = now();
      const h = await peers[p](sh, d);
      cell.setupMs = now() - ts;
      if (h.unsupported) {
        cell.status = 'unsupported';
        cell.note = h.unsupported;
        logPeer(p, `not run: ${h.unsupported}`);
        continue;
      }
      // Before each of its slices a peer gets its global state back (our
      // thread count, tfjs's backend) and one untimed run (pool threads
      // started, tfjs tensors moved to the backend).
      handles.push({ key: p, h, run: h.run, isAsync: !!h.isAsync, before: h.restore ? async () => {
        await h.restore();
        if (h.isAsync) await h.run(); else h.run();
      } : null });
    } catch (e) {
      failed(p, cell, e);
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
      // A peer whose output lives in wasm memory reads it afresh (memory may have grown since).
      checkOutput(cell, h, h.output ? h.output() : m.output, ref);
      if (p === 'tfjs-cpu' && sh.flops >= 1e7) cpu.gflops = Math.min(cpu.gflops, cell.gflops);
      logCell(p, cell);
    } catch (e) {
      failed(p, cell, e);
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
  return entry;
}

function failed(p, cell, e) {
  cell.status = 'error';
  cell.error = String(e && e.message || e);
  logPeer(p, `ERROR: ${cell.error}`);
}

// A section of this library alone, prepared form, all threads: for each
// selected shape, several prepared ops (handlesOf(sh) -> [{ key, run, op }],
// or null to leave the shape out) timed against each other, as GFLOP/s per
// key; the ops are disposed afterwards.
async function rateLines(opts, env, heading, handlesOf, logTable) {
  log('');
  log(heading);
  const rows = [];
  await lib.init({ numThreads: env.threads });
  for (const id of opts.shapes) {
    const sh = shapeById(id);
    const handles = handlesOf(sh);
    if (!handles) continue;
    const measured = await measureInterleaved(handles, opts.sidePolicy);
    const gflops = {};
    for (const h of handles) {
      h.op.dispose();
      gflops[h.key] = sh.flops / measured.get(h.key).medianMs / 1e6;
    }
    rows.push({ id, gflops });
  }
  logTable(rows);
  return rows;
}

/**
 * Element types: this library alone, prepared form, all threads, on the
 * selected shapes, as float64 / float16 / bfloat16 against its own float32.
 */
export function dtypeLines(opts, env) {
  const { encodeArray } = require('../../tests/js/helpers/reference.js');
  return rateLines(opts, env, '## Element types (ours, prepared form, all threads): GFLOP/s and share of float32', (sh) => {
    const { x: x32, f: f32 } = operands(sh, 31, 32);
    return ['float32', 'float64', 'float16', 'bfloat16'].map((dtype) => {
      const wrap = (v) => (dtype === 'float32' ? v : dtype === 'float64' ? Float64Array.from(v) : encodeArray(v, dtype));
      const op = lib.createConvTranspose({ data: wrap(f32), shape: sh.filterShape, dtype }, { strides: sh.strides, padding: sh.padding });
      const input = { data: wrap(x32), shape: sh.input, dtype };
      return { key: dtype, run: () => op.run(input, sh.output), op };
    });
  }, logDtypeTable);
}

/**
 * Layout and dilation: this library alone, prepared form, all threads. Each
 * selected 2-D/3-D shape as given (channels last), channels first (input and
 * output transposed outside the timed region), and with dilation 2 (SAME,
 * so the output shape is unchanged).
 */
export function variantLines(opts, env) {
  return rateLines(opts, env, '## Layout and dilation (ours, prepared form, all threads, float32): GFLOP/s and share of channels last', (sh) => {
    const rank = sh.input.length - 2;
    if (rank < 2 || sh.padding !== 'SAME') return null;
    const { x, f } = operands(sh, 41, 42);
    const first = (s) => [s[0], s[s.length - 1], ...s.slice(1, -1)];
    const format = rank === 2 ? 'NCHW' : 'NCDHW';
    const cases = [
      ['channels last', { data: x, shape: sh.input }, sh.output, null, null],
      [format, { data: channelsLastToFirst(x, sh.input[0], sh.input.slice(1, -1), sh.input[rank + 1]), shape: first(sh.input) }, first(sh.output), format, null],
      ['dilation 2', { data: x, shape: sh.input }, sh.output, null, 2],
    ];
    return cases.map(([label, input, outShape, dataFormat, dilations]) => {
      const op = lib.createConvTranspose({ data: f, shape: sh.filterShape }, { strides: sh.strides, padding: sh.padding, dataFormat, dilations });
      return { key: label, run: () => op.run(input, outShape), op };
    });
  }, logVariantTable);
}

/**
 * Fixed cost: a call with almost no arithmetic (x[1,2,2,1] -> [1,4,4,1], 2x2
 * filters, stride 2: 16 multiply-adds), so the time is what every call pays:
 * argument checks and planning, allocation, copies in and out, dispatch.
 * Both forms, interleaved, many calls each.
 */
export async function fixedCostLines(opts, env) {
  log('');
  log('## Fixed cost of a call (ours, all threads)');
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
  const lines = handles.map((h) => {
    const m = measured.get(h.key);
    return { id: h.key, what: `${h.key === 'one-call' ? 'convTranspose' : 'createConvTranspose(...).run'} on x[1,2,2,1] -> [1,4,4,1] (16 multiply-adds)`,
      medianUs: m.medianMs * 1000, runs: m.runs };
  });
  for (const f of lines) log(`- ${f.what}: median ${f.medianUs.toFixed(1)} us over ${f.runs} calls`);
  return lines;
}

/**
 * Matrix-multiply ceiling: what the SIMD sgemm of tfjs-wasm (XNNPACK) and
 * onnxruntime-web (MLAS) reach on this machine, as a reference for the
 * GFLOP/s of the transposed convolutions.
 */
export async function ceilingLines(opts, env) {
  log('');
  log('## Matrix-multiply ceiling (reference for what SIMD sgemm reaches here)');
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
  for (const c of lines) {
    log(c.error ? `- ${c.what}: ERROR ${c.error}` : `- ${c.what}: ${fmtMs(c.medianMs)} ms, ${fmtGf(c.gflops)} GFLOP/s`);
  }
  return lines;
}
