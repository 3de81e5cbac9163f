// Decoder layers beyond TensorFlow's op, in one process, interleaved:
//
//  - the fused epilogue: the same convolution plain, with bias + relu and
//    with bias + sigmoid fused into the kernels' stores, and plain followed
//    by a separate pass over the output for bias + relu (what a caller
//    without the fused form does), against onnxruntime-web's ConvTranspose
//    with its bias input B (and a Relu node after it) and LiteRT.js's
//    TRANSPOSE_CONV with its bias input (full call: input tensor made, run,
//    output copied out);
//  - groups: a 4-group layer and a depthwise one (groups = channels)
//    against onnxruntime-web's ConvTranspose with `group`.
//
// All on this library's prepared form, all threads; onnxruntime-web's wasm
// execution provider with the same thread count. Timed region as in the main
// benchmark: the call and its output in a JS typed array. Every peer's
// output is checked against this library's before the timings.

import * as lib from 'conv-transpose-wasm';
import { buildConvTransposeModel, channelsLastToFirst, channelsFirstToLast } from '../onnx-model.mjs';
import { liteRtModel } from './litert-run.mjs';
import { measureInterleaved } from './measure.mjs';
import { fmtMs, fmtRatio, log } from './report.mjs';
import { count, randomData } from './shapes.mjs';

// Layers, NHWC. groups: 1 for the epilogue layers.
export const LAYERS = [
  { id: 'L1', input: [8, 16, 16, 256], output: [8, 32, 32, 128], k: 5, s: 2, padding: 'SAME', groups: 1,
    note: 'generator layer + bias + activation' },
  { id: 'L2', input: [1, 64, 64, 64], output: [1, 128, 128, 32], k: 3, s: 2, padding: 'SAME', groups: 1,
    note: 'decoder layer + bias + activation, larger image' },
  { id: 'L3', input: [1, 56, 56, 64], output: [1, 56, 56, 64], k: 3, s: 1, padding: 'SAME', groups: 1,
    note: 'stride 1 + bias + activation' },
  { id: 'G1', input: [1, 32, 32, 128], output: [1, 64, 64, 128], k: 4, s: 2, padding: 'SAME', groups: 4,
    note: '4 groups of 32 -> 32 channels' },
  { id: 'G2', input: [1, 64, 64, 128], output: [1, 128, 128, 128], k: 4, s: 2, padding: 'SAME', groups: 128,
    note: 'depthwise (groups = channels = 128)' },
];

function layerInfo(l) {
  const spatial = l.input.slice(1, -1);
  const cin = l.input[l.input.length - 1];
  const cout = l.output[l.output.length - 1];
  const kernel = spatial.map(() => l.k);
  const filterShape = [...kernel, cout / l.groups, cin];
  const macs = count(l.input.slice(0, -1)) * count(kernel) * cin * (cout / l.groups);
  return { ...l, spatial, outSpatial: l.output.slice(1, -1), cin, cout, kernel, filterShape, flops: 2 * macs,
    strides: kernel.map(() => l.s), dilations: kernel.map(() => 1) };
}

// A separate pass over an NHWC output: y = max(y + bias[c], 0).
function biasReluPass(y, bias) {
  const c = bias.length;
  for (let i = 0; i < y.length; i += c) {
    for (let j = 0; j < c; j++) {
      const v = y[i + j] + bias[j];
      y[i + j] = v > 0 ? v : 0;
    }
  }
  return y;
}

async function ortSession(ort, l, f, bias, activation) {
  const model = buildConvTransposeModel({
    batch: l.input[0], inSpatial: l.spatial, outSpatial: l.outSpatial, kernel: l.kernel,
    strides: l.kernel.map(() => l.s), dilations: l.kernel.map(() => 1), cin: l.cin, cout: l.cout,
    padding: l.padding, filters: f, group: l.groups, bias, activation,
  });
  return ort.InferenceSession.create(model.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

function maxRelError(out, ref) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(out[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return num / (den || 1);
}

/**
 * The section: one table for the epilogue layers, one for the grouped
 * layers. opts: { policy, threads, ort (the onnxruntime-web module or
 * null), litert (the @litertjs/core module, loaded, or null), litertThreads }.
 */
export async function layersSection(opts) {
  const { policy, threads, ort, litert } = opts;
  await lib.init({ numThreads: threads });
  const epilogueRows = [];
  const groupRows = [];
  for (const l of LAYERS.map(layerInfo)) {
    const x = randomData(count(l.input), 11);
    const f = randomData(count(l.filterShape), 12);
    const bias = randomData(l.cout, 13);
    const input = { data: x, shape: l.input };
    const xNchw = channelsLastToFirst(x, l.input[0], l.spatial, l.cin);
    const filters = { data: f, shape: l.filterShape };
    const base = { strides: l.s, padding: l.padding, groups: l.groups };
    const handles = [];
    const ops = [];
    const ours = (key, options, after) => {
      const op = lib.createConvTranspose(filters, { ...base, ...options });
      ops.push(op);
      handles.push({ key, run: () => (after ? after(op.run(input, l.output).data) : op.run(input, l.output).data) });
      return op;
    };
    const sessions = [];
    const ortHandle = async (key, b, activation) => {
      if (!ort) return;
      const session = await ortSession(ort, l, f, b, activation);
      sessions.push(session);
      const feeds = { X: new ort.Tensor('float32', xNchw, [l.input[0], l.cin, ...l.spatial]) };
      handles.push({ key, isAsync: true, run: async () => (await (await session.run(feeds)).Y.getData()),
        nhwc: (y) => channelsFirstToLast(y, l.input[0], l.outSpatial, l.cout) });
    };
    const models = [];
    if (l.groups === 1 && litert) {
      const m = await liteRtModel(litert, l, f, opts.litertThreads ?? threads, bias);
      if (!m.unsupported) {
        models.push(m);
        handles.push({ key: 'litert bias', isAsync: true, run: () => m.call(x) });
      }
    }
    if (l.groups === 1) {
      ours('plain', {});
      ours('fused bias', { bias });
      ours('fused relu', { bias, activation: 'relu' });
      ours('fused sigmoid', { bias, activation: 'sigmoid' });
      ours('plain + pass', {}, (y) => biasReluPass(y, bias));
      await ortHandle('ort bias', bias, null);
      await ortHandle('ort bias+relu', bias, 'Relu');
    } else {
      ours('ours', { bias });
      await ortHandle('ort', bias, null);
    }
    // Outputs checked before timing: each against ours with the same epilogue.
    const refs = {};
    for (const key of ['fused relu', 'fused bias', 'ours']) {
      const h = handles.find((k) => k.key === key);
      if (h) refs[key] = h.run();
    }
    const sameAs = { 'plain + pass': 'fused relu', 'ort bias+relu': 'fused relu', 'ort bias': 'fused bias', 'litert bias': 'fused bias', ort: 'ours' };
    const errors = {};
    for (const h of handles) {
      const want = refs[sameAs[h.key]];
      if (!want) continue;
      const out = h.isAsync ? await h.run() : h.run();
      errors[h.key] = maxRelError(h.nhwc ? h.nhwc(out) : out, want);
    }
    const measured = await measureInterleaved(handles, policy);
    const ms = {};
    for (const h of handles) {
      const m = measured.get(h.key);
      if (m.error) throw m.error;
      ms[h.key] = m.medianMs;
    }
    for (const op of ops) op.dispose();
    for (const s of sessions) await s.release();
    for (const m of models) m.dispose();
    (l.groups === 1 ? epilogueRows : groupRows).push({ l, ms, errors });
  }

  log('');
  log(`## Fused epilogue (prepared form, ${threads} threads, float32): median ms`);
  log('');
  log('| layer | plain | fused bias | fused bias+relu | fused bias+sigmoid | plain + separate bias+relu pass | fused cost (bias / relu / sigmoid) | ort bias | ort bias+Relu | litert bias | ort bias / ours bias | ort bias+Relu / ours relu | litert bias / ours bias |');
  log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const { l, ms } of epilogueRows) {
    const cost = (k) => `${((ms[k] / ms.plain - 1) * 100).toFixed(1)}%`;
    const cell = (k) => (ms[k] ? fmtMs(ms[k]) : '-');
    const ratio = (k, ref) => (ms[k] ? fmtRatio(ms[k] / ms[ref]) : '-');
    log(`| ${l.id} x${JSON.stringify(l.input)} k${l.k} s${l.s} -> ${l.cout} | ${cell('plain')} | ${cell('fused bias')} | ${cell('fused relu')} | ${cell('fused sigmoid')} | ${cell('plain + pass')} | ${cost('fused bias')} / ${cost('fused relu')} / ${cost('fused sigmoid')} | ${cell('ort bias')} | ${cell('ort bias+relu')} | ${cell('litert bias')} | ${ratio('ort bias', 'fused bias')} | ${ratio('ort bias+relu', 'fused relu')} | ${ratio('litert bias', 'fused bias')} |`);
  }
  log('');
  log(`## Grouped layers with bias (prepared form, ${threads} threads, float32): median ms`);
  log('');
  log('| layer | kernel | ours | ort | ort / ours |');
  log('|---|---|--:|--:|--:|');
  for (const { l, ms } of groupRows) {
    const kernel = lib.createConvTranspose({ data: new Float32Array(count(l.filterShape)), shape: l.filterShape }, { strides: l.s, padding: l.padding, groups: l.groups });
    log(`| ${l.id} x${JSON.stringify(l.input)} k${l.k} s${l.s} groups ${l.groups} -> ${l.cout} | ${kernel.kernel} | ${fmtMs(ms.ours)} | ${ms.ort ? fmtMs(ms.ort) : '-'} | ${ms.ort ? fmtRatio(ms.ort / ms.ours) : '-'} |`);
    kernel.dispose();
  }
  log('');
  const worst = Math.max(...[...epilogueRows, ...groupRows].flatMap((r) => Object.values(r.errors)));
  log(`Output check: every peer against ours with the same bias and activation, max |diff| / max |ours| = ${worst.toExponential(1)}`);
  return { epilogueRows, groupRows };
}
