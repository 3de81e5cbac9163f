// One runtime's checks of the package (run by runtimes.test.mjs in Node,
// Bun and Deno; it can also be run by hand):
//
//   node tests/runtime/check.mjs conv-transpose-wasm esm
//   bun tests/runtime/check.mjs ./dist/index.mjs esm
//   deno run --allow-read tests/runtime/check.mjs ./dist/index.mjs esm
//   node tests/runtime/check.mjs conv-transpose-wasm cjs     (require())
//
// It loads the library the way a user would (import, or require), calls the
// default init(), runs several calls synchronously and in the worker mode
// (convTransposeAsync), and compares every result with a float64 reference
// computed by a plain loop (reference.mjs) that shares no code with the
// library. It prints one JSON line with what it measured; the caller asserts
// on it. It never calls process.exit: the runtime must exit by itself once
// the work is done (the idle worker must not keep it alive). Plain JavaScript
// that every runtime runs as it is: process.argv, import.meta.url and
// node:module exist in all three.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { reference, compare } from './reference.mjs';

const [spec = 'conv-transpose-wasm', mode = 'esm'] = process.argv.slice(2);

// A bare name resolves from the working directory's node_modules; a path
// is taken relative to the working directory.
async function load() {
  const base = pathToFileURL(process.cwd() + '/');
  const isPath = spec.startsWith('.') || spec.startsWith('/');
  if (mode === 'cjs') return createRequire(base.href)(isPath ? new URL(spec, base).pathname : spec);
  return import(isPath ? new URL(spec, base).href : spec);
}

// ----------------------------------------------------------------- inputs

/** Deterministic float32 values in [-1, 1) with 2^-20 steps: products and sums round. */
function values(n, seed, Type) {
  let s = seed >>> 0;
  const out = new Type(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.fround(((s >>> 11) - 1048576) / 1048576);
  }
  return out;
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);
const tensor = (shape, seed, Type = Float32Array) => ({ data: values(size(shape), seed, Type), shape });

// The calls, with TensorFlow's argument conventions: filters [k..., out_channels, in_channels].
export const CASES = [
  { name: '1-D NWC stride 3 SAME, batch 2', x: [2, 17, 3], w: [5, 4, 3], out: [2, 51, 4], strides: 3, padding: 'SAME' },
  // Large enough that the threaded build splits it between threads.
  { name: '2-D NHWC 32x32x32 -> 64x64x32 k4 stride 2 SAME', x: [1, 32, 32, 32], w: [4, 4, 32, 32], out: [1, 64, 64, 32], strides: 2, padding: 'SAME' },
  { name: '2-D NCHW dilation 2 VALID', x: [1, 4, 8, 8], w: [3, 3, 5, 4], out: [1, 5, 12, 12], strides: 1, padding: 'VALID', dataFormat: 'NCHW', dilations: 2 },
  { name: '2-D explicit padding stride 2', x: [1, 6, 7, 3], w: [3, 3, 2, 3], out: [1, 11, 14, 2], strides: 2, padding: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: '3-D NDHWC float64 stride 2 SAME', x: [1, 3, 4, 5, 2], w: [2, 3, 3, 3, 2], out: [1, 6, 8, 10, 3], strides: [2, 2, 2], padding: 'SAME', dtype: 'float64' },
];

function caseArgs(c, i) {
  const Type = c.dtype === 'float64' ? Float64Array : Float32Array;
  const args = [tensor(c.x, 100 + 2 * i, Type), tensor(c.w, 101 + 2 * i, Type), c.out, c.strides, c.padding];
  if (c.dataFormat || c.dilations) args.push(c.dataFormat ?? null, c.dilations ?? null);
  return args;
}

function fnv1a(data) {
  const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 16777619) >>> 0;
  return h.toString(16);
}

// ------------------------------------------------------------------- main

function runtimeName() {
  if (typeof globalThis.Deno !== 'undefined') return { runtime: 'deno', version: globalThis.Deno.version.deno };
  if (process.versions.bun) return { runtime: 'bun', version: process.versions.bun };
  return { runtime: 'node', version: process.versions.node };
}

// Each step on stderr, so that a run that hangs shows where.
const step = (what) => process.stderr.write(`check: ${what}\n`);

async function main() {
  const t0 = Date.now();
  const lib = await load();
  step('loaded');
  const api = lib; // the ESM entry's namespace, or require()'s object
  const report = { ...runtimeName(), spec, mode, cases: [], async: [] };
  if (mode === 'esm' && typeof lib.default?.convTranspose === 'function') {
    report.defaultExportSame = lib.default.convTranspose === lib.convTranspose;
  }
  report.init = await api.init();
  report.initMs = Date.now() - t0;
  step('init() resolved');

  const refs = CASES.map((c, i) => {
    const [x, w] = caseArgs(c, i);
    return reference(x.data, c.x, w.data, c.w, c.out, c.strides, c.padding, c.dataFormat, c.dilations);
  });

  CASES.forEach((c, i) => {
    const t = Date.now();
    const y = api.convTranspose(...caseArgs(c, i));
    report.cases.push({ name: c.name, shape: y.shape, dtype: y.dtype, ms: Date.now() - t, fnv: fnv1a(y.data), ...compare(y.data, refs[i], c.dtype) });
  });

  step('synchronous calls done');

  // Worker mode: every call in flight at once, plus one invalid call.
  const t1 = Date.now();
  report.worker = await api.initWorker();
  step('initWorker() resolved');
  const settled = await Promise.all([
    ...CASES.map((c, i) =>
      api.convTransposeAsync(...caseArgs(c, i)).then(
        (y) => ({ name: c.name, shape: y.shape, dtype: y.dtype, fnv: fnv1a(y.data), ...compare(y.data, refs[i], c.dtype) }),
        (e) => ({ name: c.name, error: String(e && e.message) })
      )
    ),
    api
      .convTransposeAsync({ data: new Float32Array(3), shape: [1, 3, 1] }, { data: new Float32Array(3), shape: [3, 1, 1] }, [1, 9, 1], 2, 'VALID')
      .then(
        () => ({ name: 'invalid output shape', error: null }),
        (e) => ({ name: 'invalid output shape', error: String(e && e.message), argumentError: e instanceof api.ArgumentError })
      ),
  ]);
  report.async = settled;
  report.asyncMs = Date.now() - t1;
  step('worker calls settled');

  // The threads at work: a 1.2 GFLOP call on 1 thread and on all (for the
  // log; timings on a shared machine are not asserted).
  if (report.init.backend !== 'wasm-simd') {
    const big = [tensor([1, 48, 48, 128], 7), tensor([4, 4, 128, 128], 8), [1, 96, 96, 128], 2, 'SAME'];
    const time = () => {
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        api.convTranspose(...big);
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    await api.init({ numThreads: 1 });
    const one = time();
    await api.init({ numThreads: report.init.threads });
    const all = time();
    report.speedup = { threads: report.init.threads, oneMs: +one.toFixed(2), allMs: +all.toFixed(2), ratio: +(one / all).toFixed(2) };
  }
  console.log(JSON.stringify(report));
  step('done');
}

main().catch((e) => {
  console.error((e && e.stack) || e);
  process.exitCode = 1;
});
