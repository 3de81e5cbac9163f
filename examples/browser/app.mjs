// The browser example: upsamples a picture with conv-transpose-wasm (the
// classic-script bundle, global `convTransposeWasm`), times it against tfjs's
// wasm and cpu backends, and shows that convTransposeAsync keeps the page
// responsive.
//
// For tests, the page publishes what it computed on `window.__results`
// (small: backend, timings, checksums, a fixed test case's whole output) and
// `window.__demo` (functions: the picture's raw arrays, the heavy layer in
// either mode, the library itself).
import * as U from './upsample.mjs';

const api = globalThis.convTransposeWasm;
const tf = globalThis.tf;
const $ = (id) => document.getElementById(id);

const results = {
  ready: false,
  error: null,
  runs: 0,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  init: null,
  worker: null,
  picture: null,
  lastRunId: 0,
  timings: {},
  fixed: null,
  heavy: {},
};
window.__results = results;

function showError(e) {
  const msg = e && e.stack ? e.stack : String(e && e.message ? e.message : e);
  results.error = String(e && e.message ? e.message : e);
  const box = $('error');
  box.hidden = false;
  box.textContent = msg;
  console.error(e);
}
window.addEventListener('error', (ev) => showError(ev.error || ev.message));
window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));

// ------------------------------------------------------------------ ticker
// Drawn on every animation frame by the main thread, so it visibly stops
// whenever the main thread is blocked. Trackers record frames and the longest
// pause between frames while a computation runs.

let frames = 0;
let lastFrame = null;
const recentGaps = [];
// The header's longest pause counts from the first interaction: the page's
// own loading (scripts, wasm compilation, the first runs) is not a pause a
// user meets while using it.
let interacted = false;
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
  window.addEventListener(type, () => {
    if (interacted) return;
    interacted = true;
    recentGaps.length = 0;
    $('gap').textContent = '0';
  }, { capture: true, passive: true });
}
const trackers = new Set();
const started = performance.now();
const spinner = $('spinner').getContext('2d');

function drawSpinner(t) {
  const ctx = spinner;
  const s = 56;
  ctx.clearRect(0, 0, s, s);
  const a = (t / 1000) * Math.PI;
  ctx.save();
  ctx.translate(s / 2, s / 2);
  for (let i = 0; i < 12; i++) {
    const ang = a + (i * Math.PI) / 6;
    ctx.strokeStyle = `hsl(${(20 + i * 28) % 360} 90% 65% / ${0.35 + 0.65 * (i / 11)})`;
    ctx.lineWidth = 3;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(Math.cos(ang) * 15, Math.sin(ang) * 15);
    ctx.lineTo(Math.cos(ang) * 24, Math.sin(ang) * 24);
    ctx.stroke();
  }
  const g = ctx.createRadialGradient(0, 0, 2, 0, 0, 12);
  g.addColorStop(0, '#ffe3a3');
  g.addColorStop(1, '#ff7a59');
  ctx.fillStyle = g;
  ctx.beginPath();
  ctx.arc(0, 0, 10 + Math.sin(t / 180) * 1.5, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
}

function tick(t) {
  frames++;
  if (lastFrame !== null) {
    const gap = t - lastFrame;
    if (interacted) recentGaps.push(gap);
    if (recentGaps.length > 240) recentGaps.shift();
    for (const tr of trackers) {
      tr.frames++;
      tr.maxGap = Math.max(tr.maxGap, gap);
    }
  }
  lastFrame = t;
  drawSpinner(t);
  $('frames').textContent = String(frames);
  $('clock').textContent = ((performance.now() - started) / 1000).toFixed(1);
  $('gap').textContent = interacted ? String(Math.round(Math.max(0, ...recentGaps))) : '–';
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);
window.__frames = () => frames;
window.__longestPause = () => (interacted ? Math.max(0, ...recentGaps) : null);

function startTracker() {
  const tr = { frames: 0, maxGap: 0, t0: performance.now() };
  trackers.add(tr);
  return {
    stop() {
      trackers.delete(tr);
      // a pause still going on (no frame since) counts too
      const open = lastFrame === null ? 0 : performance.now() - lastFrame;
      return { frames: tr.frames, maxGap: Math.max(tr.maxGap, Math.min(open, performance.now() - tr.t0)) };
    },
  };
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));
const pause = () => new Promise((r) => setTimeout(r, 0));

// ------------------------------------------------------------------ state

const state = {
  factor: 4,
  layout: 'batch',
  amount: 1.25,
  image: { ...U.makePicture(96), source: 'bundled' },
};
const latest = { id: 0, outputs: {}, args: {} }; // raw arrays of the last finished run

function readControls() {
  state.factor = Number(document.querySelector('input[name=factor]:checked').value);
  state.layout = document.querySelector('input[name=layout]:checked').value;
  state.amount = Number($('amount').value);
  $('amount-out').textContent = state.amount.toFixed(2);
  for (const el of document.querySelectorAll('.f-label')) el.textContent = String(state.factor);
}

// ------------------------------------------------------------------ drawing

function drawRgb(canvas, rgb, width, height, resolution) {
  if (canvas.width !== resolution) {
    canvas.width = resolution;
    canvas.height = resolution;
  }
  const src = document.createElement('canvas');
  src.width = width;
  src.height = height;
  src.getContext('2d').putImageData(new ImageData(U.rgbToRgba(rgb, width * height), width, height), 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, resolution, resolution);
  const scale = resolution / Math.max(width, height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  ctx.drawImage(src, 0, 0, width, height, Math.floor((resolution - w) / 2), Math.floor((resolution - h) / 2), w, h);
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)) + ' ms';
const shapeStr = (s) => `[${s.join(', ')}]`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Runs fn until its times settle, then at least minRuns times (and while
// under budgetMs), yielding to the page between runs. Median milliseconds.
// Settled: the engine first runs wasm from a quick baseline compile and
// optimises hot functions in the background, so early runs can be several
// times slower; warm-up goes on until the median of the last five runs is
// within 10% of the five before (at most warmMaxMs).
let lastWarmup = null;  // { runs, settled } of the last timeIt, for tests
async function timeIt(fn, { minRuns = 5, maxRuns = 15, budgetMs = 400, warmMaxMs = 3000 } = {}) {
  const warm = [];
  let settled = false;
  const w0 = performance.now();
  for (;;) {
    const t = performance.now();
    fn();
    warm.push(performance.now() - t);
    await pause();
    if (warm.length >= 10) {
      const last = median(warm.slice(-5));
      const before = median(warm.slice(-10, -5));
      settled = Math.abs(last - before) <= 0.1 * before;
      if (settled) break;
    }
    if (performance.now() - w0 > warmMaxMs) break;
  }
  lastWarmup = { runs: warm.length, settled };
  const times = [];
  const t0 = performance.now();
  while (times.length < minRuns || (times.length < maxRuns && performance.now() - t0 < budgetMs)) {
    await pause();
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

// ------------------------------------------------------------------ upsampling

function kernelNote(kind, args) {
  const k = args.filters.shape[0];
  return kind === 'bilinear'
    ? `${k}×${k} taps, stride ${args.strides}`
    : `${k}×${k} taps, bilinear + ${state.amount.toFixed(2)}× unsharp`;
}

function showCode(args) {
  const planes = state.layout === 'batch';
  const [, H, W] = args.input.shape;
  $('code').textContent =
`import { init, convTranspose } from 'conv-transpose-wasm';   // or the global convTransposeWasm
const { backend, threads } = await init();                     // ${results.init ? `'${results.init.backend}', ${results.init.threads}` : '…'}

// ${planes ? 'the R, G and B planes as a batch of 3 one-channel images' : 'one image with 3 channels; the kernel on the filters\' diagonal'},
// edge-padded by one pixel to ${H}×${W}
const y = convTranspose(
  { data: ${planes ? 'planes' : 'pixels'}, shape: ${shapeStr(args.input.shape)} },
  { data: kernel, shape: ${shapeStr(args.filters.shape)} },   // [kh, kw, out_channels, in_channels]
  ${shapeStr(args.outputShape)},            // output_shape: ${state.factor}× the picture
  ${args.strides},                           // strides
  ${JSON.stringify(args.padding).replace(/,/g, ', ')});   // explicit padding crops the border
// tfjs: tf.conv2dTranspose(x, kernel, ${shapeStr(args.outputShape)}, ${args.strides}, ${args.tfjsPad})`;
}

// tfjs's backends to time against: wasm (what browser users of tfjs run on
// the CPU; its files are served from node_modules) and cpu. Each timing sets
// the backend it needs and puts the previous one back.
const TFJS_WASM_DIR = '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/';
let tfWasmReady = null;
function tfjsBackends() {
  if (!tf) return Promise.resolve([]);
  if (!tfWasmReady) {
    if (tf.wasm && tf.wasm.setWasmPaths) tf.wasm.setWasmPaths(TFJS_WASM_DIR);
    tfWasmReady = tf.findBackendFactory && tf.findBackendFactory('wasm')
      ? withBackend('wasm', () => true).catch(() => false)
      : Promise.resolve(false);
  }
  return tfWasmReady.then((wasm) => (wasm ? ['wasm', 'cpu'] : ['cpu']));
}

async function withBackend(name, fn) {
  const previous = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} did not start`);
  await tf.ready();
  try {
    return await fn();
  } finally {
    if (previous && previous !== name) await tf.setBackend(previous);
  }
}

// One tfjs backend's median time and its output, on the same arguments as ours.
function timeTfjs(backend, a) {
  return withBackend(backend, async () => {
    const x = tf.tensor4d(a.input.data, a.input.shape);
    const w = tf.tensor4d(a.filters.data, a.filters.shape);
    let out = null;
    const ms = await timeIt(
      () => {
        const t = tf.conv2dTranspose(x, w, a.outputShape, a.strides, a.tfjsPad);
        out = t.dataSync();
        t.dispose();
      },
      { minRuns: 3, maxRuns: 7, budgetMs: 600, warmMaxMs: 2000 }
    );
    x.dispose();
    w.dispose();
    return { ms, out };
  });
}

async function run() {
  readControls();
  const id = ++latest.id;
  const stale = () => id !== latest.id;
  const { rgb, width, height } = state.image;
  const f = state.factor;
  const resolution = Math.max(384, width * f, height * f);
  drawRgb($('c-input'), rgb, width, height, resolution);
  $('s-input').textContent = `${width}×${height}`;
  const outputs = {};
  const argsByKernel = {};
  for (const kernel of ['bilinear', 'sharp']) {
    const args = U.upsampleArgs(rgb, height, width, { factor: f, kernel, layout: state.layout, amount: state.amount });
    const y = api.convTranspose(args.input, args.filters, args.outputShape, args.strides, args.padding);
    outputs[kernel] = y;
    argsByKernel[kernel] = args;
    drawRgb($(`c-${kernel}`), U.toRgb(y.data, state.layout, height * f, width * f), width * f, height * f, resolution);
    $(`s-${kernel}`).textContent = `${width * f}×${height * f}`;
    $(`k-${kernel}`).textContent = kernelNote(kernel, args);
    if (kernel === 'sharp') showCode(args);
  }
  latest.outputs = outputs;
  latest.args = argsByKernel;
  latest.settings = { factor: f, layout: state.layout, amount: state.amount, width, height };
  results.picture = {
    runId: id,
    source: state.image.source,
    width,
    height,
    factor: f,
    layout: state.layout,
    amount: state.amount,
    outputs: Object.fromEntries(
      Object.entries(outputs).map(([k, y]) => [k, { shape: y.shape, fnv: U.fnv1a(y.data), sum: U.sum(y.data) }])
    ),
  };

  // Timing: ours, then tfjs (wasm, cpu) on the very same arguments.
  for (const row of ['bilinear', 'sharp']) for (const c of ['ours', 'tfjs-wasm', 'tfjs', 'ratio', 'diff']) $(`t-${row}`).querySelector(`.${c}`).textContent = '…';
  await nextFrame();
  const tfBackends = await tfjsBackends();
  const haveTf = tfBackends.includes('cpu');
  const timings = {};
  for (const kernel of ['bilinear', 'sharp']) {
    if (stale()) return;
    const a = argsByKernel[kernel];
    const row = $(`t-${kernel}`);
    const ours = await timeIt(() => api.convTranspose(a.input, a.filters, a.outputShape, a.strides, a.padding));
    row.querySelector('.ours').textContent = fmtMs(ours);
    timings[kernel] = { ours, warmup: lastWarmup };
    if (!haveTf) {
      row.querySelector('.tfjs').textContent = 'tfjs not loaded';
      continue;
    }
    const ours2 = outputs[kernel].data;
    let maxDiff = 0;
    for (const backend of tfBackends) {
      await nextFrame();
      if (stale()) return;
      const { ms, out } = await timeTfjs(backend, a);
      for (let i = 0; i < ours2.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours2[i] - out[i]));
      timings[kernel][backend === 'cpu' ? 'tfjs' : 'tfjsWasm'] = ms;
      row.querySelector(backend === 'cpu' ? '.tfjs' : '.tfjs-wasm').textContent = fmtMs(ms);
    }
    if (!tfBackends.includes('wasm')) row.querySelector('.tfjs-wasm').textContent = 'not loaded';
    timings[kernel].maxDiffVsTfjs = maxDiff;
    // "faster": against tfjs's fastest CPU backend here.
    const best = Math.min(timings[kernel].tfjs, timings[kernel].tfjsWasm ?? Infinity);
    row.querySelector('.ratio').textContent = `${(best / ours).toFixed(1)}×`;
    row.querySelector('.diff').textContent = maxDiff.toExponential(1);
  }
  if (stale()) return;
  results.timings = timings;
  results.lastRunId = id;
  results.runs++;
  results.ready = true;
  document.body.dataset.runs = String(results.runs);
}

let scheduled = null;
function schedule(delay = 0) {
  clearTimeout(scheduled);
  scheduled = setTimeout(() => run().catch(showError), delay);
}

// ------------------------------------------------------------------ images from the user

async function loadImageFile(file) {
  if (!file || !file.type.startsWith('image/')) throw new Error(`not an image: ${file ? file.name : '(none)'}`);
  const bitmap = await createImageBitmap(file);
  const max = 160; // 4x gives at most 640 pixels a side
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  state.image = { rgb: U.rgbaToRgb(rgba, width * height), width, height, source: file.name };
  schedule();
}

$('file').addEventListener('change', (e) => loadImageFile(e.target.files[0]).catch(showError));
$('reset').addEventListener('click', () => {
  state.image = { ...U.makePicture(96), source: 'bundled' };
  schedule();
});
let dragDepth = 0;
window.addEventListener('dragenter', (e) => {
  e.preventDefault();
  dragDepth++;
  document.body.classList.add('dragging');
});
window.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    document.body.classList.remove('dragging');
  }
});
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
  loadImageFile(e.dataTransfer.files[0]).catch(showError);
});
for (const el of document.querySelectorAll('input[name=factor], input[name=layout]')) el.addEventListener('change', () => schedule());
$('amount').addEventListener('input', () => {
  readControls();
  schedule(120);
});

// ------------------------------------------------------------------ the worker

function log(html, cls = '') {
  const li = document.createElement('li');
  li.innerHTML = html;
  if (cls) li.className = cls;
  $('log').prepend(li);
}

function setBusy(busy) {
  for (const id of ['btn-worker-upscale', 'btn-heavy-worker', 'btn-heavy-main']) $(id).disabled = busy;
}

async function upscaleInWorker() {
  await api.initWorker();
  const { rgb, width, height } = state.image;
  const settings = { factor: state.factor, layout: state.layout, amount: state.amount };
  const t0 = performance.now();
  // Both kernels in flight at once; each promise gets its own answer.
  const outs = await Promise.all(
    ['bilinear', 'sharp'].map((kernel) => {
      const a = U.upsampleArgs(rgb, height, width, { ...settings, kernel });
      return api.convTransposeAsync(a.input, a.filters, a.outputShape, a.strides, a.padding);
    })
  );
  const ms = performance.now() - t0;
  const same =
    latest.settings &&
    latest.settings.factor === settings.factor &&
    latest.settings.layout === settings.layout &&
    latest.settings.amount === settings.amount &&
    outs.every((y, i) => U.fnv1a(y.data) === U.fnv1a(latest.outputs[['bilinear', 'sharp'][i]].data));
  return { ms, identical: same, fnv: outs.map((y) => U.fnv1a(y.data)) };
}

const heavyCache = new Map();
function heavyArgs({ n = 96, c = 256, k = 4 } = {}) {
  const key = `${n}/${c}/${k}`;
  if (!heavyCache.has(key)) {
    let s = 12345;
    const rnd = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s >>> 8) / 16777216 - 0.5;
    };
    const x = Float32Array.from({ length: n * n * c }, rnd);
    const w = Float32Array.from({ length: k * k * c * c }, () => rnd() * 0.1);
    heavyCache.clear();
    heavyCache.set(key, {
      input: { data: x, shape: [1, n, n, c] },
      filters: { data: w, shape: [k, k, c, c] },
      outputShape: [1, 2 * n, 2 * n, c],
      strides: 2,
      padding: 'SAME',
      flops: 2 * n * n * c * c * k * k,
    });
  }
  return heavyCache.get(key);
}

/** The heavy layer in 'worker' (convTransposeAsync) or 'main' (convTranspose) mode. */
async function runHeavy(mode, size = {}) {
  const a = heavyArgs(size);
  if (mode === 'worker') await api.initWorker();
  await nextFrame();
  const tracker = startTracker();
  const t0 = performance.now();
  const y =
    mode === 'worker'
      ? await api.convTransposeAsync(a.input, a.filters, a.outputShape, a.strides, a.padding)
      : api.convTranspose(a.input, a.filters, a.outputShape, a.strides, a.padding);
  const ms = performance.now() - t0;
  await nextFrame();
  const { frames: framesDuring, maxGap } = tracker.stop();
  const r = { mode, ms, gflops: a.flops / ms / 1e6, framesDuring, maxGapMs: maxGap, fnv: U.fnv1a(y.data), shape: y.shape };
  results.heavy[mode] = r;
  return r;
}

function describeHeavy() {
  const a = heavyArgs();
  $('heavy-desc').textContent =
    `Heavy layer: x ${shapeStr(a.input.shape)} → ${shapeStr(a.outputShape)}, ${a.filters.shape[0]}×${a.filters.shape[1]} kernel, ` +
    `stride 2 (${(a.flops / 1e9).toFixed(1)} GFLOP).`;
}

$('btn-worker-upscale').addEventListener('click', async () => {
  setBusy(true);
  try {
    const r = await upscaleInWorker();
    log(`Worker: both kernels (2 calls in flight) in <b>${fmtMs(r.ms)}</b>${r.identical ? ' — identical to the main thread ✓' : ''}`, 'ok');
  } catch (e) {
    showError(e);
  } finally {
    setBusy(false);
  }
});
for (const [id, mode] of [['btn-heavy-worker', 'worker'], ['btn-heavy-main', 'main']]) {
  $(id).addEventListener('click', async () => {
    setBusy(true);
    try {
      const r = await runHeavy(mode);
      const where = mode === 'worker' ? 'Worker' : 'Main thread';
      // Responsive: frames kept coming (on a busy 2-core machine, with the
      // worker's threads on both cores, a pause of a quarter second now and
      // then); frozen: one pause over most of the call (on the main thread
      // it is the whole call). Half the call, or 300 ms, lies between.
      const responsive = r.maxGapMs < Math.max(300, 0.5 * r.ms);
      const resp = responsive
        ? `${r.framesDuring} frames drawn meanwhile, longest pause ${Math.round(r.maxGapMs)} ms ✓`
        : `page frozen for ${Math.round(r.maxGapMs)} ms (${r.framesDuring} frames)`;
      log(`${where}: <b>${fmtMs(r.ms)}</b> (${r.gflops.toFixed(1)} GFLOP/s) — ${resp}`, responsive ? 'ok' : 'slow');
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  });
}

// ------------------------------------------------------------------ for tests

function toBase64(typed) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

window.__demo = {
  api,
  lib: U,
  run: () => run(),
  runHeavy,
  heavyArgs,
  upscaleInWorker,
  toBase64,
  /** The last run's input picture and raw outputs, as base64 of their bytes. */
  exportPicture() {
    return {
      settings: latest.settings,
      rgb: toBase64(state.image.rgb),
      outputs: Object.fromEntries(Object.entries(latest.outputs).map(([k, y]) => [k, { shape: y.shape, data: toBase64(y.data) }])),
    };
  },
};

// ------------------------------------------------------------------ start

function badge(id, text, cls) {
  const b = $(id);
  b.textContent = text;
  b.className = `badge ${cls}`;
}

async function main() {
  if (!api) throw new Error('convTransposeWasm is not defined: build the package first (npm run build), then serve the repository root');
  readControls();
  describeHeavy();
  const info = await api.init();
  results.init = info;
  badge('b-backend', info.backend, info.backend === 'wasm-simd-threads' ? 'good' : 'warnb');
  badge('b-threads', `${info.threads} thread${info.threads === 1 ? '' : 's'}`, info.threads > 1 ? 'good' : 'warnb');
  badge('b-simd', info.simd ? 'SIMD128' : 'no SIMD', info.simd ? 'good' : 'warnb');
  badge('b-coi', results.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated (no COOP/COEP)', results.crossOriginIsolated ? 'good' : 'warnb');

  // A fixed small case whose whole output the tests compare with Node's.
  const img = U.fixedImage(5, 7, 1);
  const fa = U.upsampleArgs(img.rgb, img.height, img.width, { factor: 2, kernel: 'sharp', layout: 'channels', amount: 1.25 });
  const fy = api.convTranspose(fa.input, fa.filters, fa.outputShape, fa.strides, fa.padding);
  results.fixed = {
    image: { height: 5, width: 7, seed: 1 },
    factor: 2,
    kernel: 'sharp',
    layout: 'channels',
    amount: 1.25,
    outputShape: fy.shape,
    dtype: fy.dtype,
    output: Array.from(fy.data),
    fnv: U.fnv1a(fy.data),
  };

  await run();
  // Start the worker in the background so the first click is quick.
  api.initWorker().then(
    (w) => {
      results.worker = w;
      log(`Worker ready: ${w.backend}, ${w.threads} thread${w.threads === 1 ? '' : 's'}`);
    },
    (e) => showError(e)
  );
}

main().catch(showError);
