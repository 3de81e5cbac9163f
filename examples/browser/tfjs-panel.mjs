// The "tfjs model" panel of the example page: a TensorFlow.js Layers model
// whose two conv2dTranspose layers are the page's upsampling kernels
// (bilinear and sharpening, factor 4, as 3-channel filters with the kernel
// on the diagonal), run with tfjs's own kernels and then with
// registerTfjsKernels, both times shown, on tfjs's cpu backend and on its
// wasm backend where the page has started it. The model is unchanged
// between the two runs: the plug-in replaces the kernel tfjs runs for the
// layers.
//
// It starts after the page's own timings (window.__results.ready), so the
// two do not share the main thread; it unregisters the plug-in afterwards,
// so that the page's tfjs columns stay tfjs's own, and puts the page's tfjs
// backend back. Results for the browser tests: window.__tfjsPanel.

import * as U from './upsample.mjs';

const FACTOR = 4;
const RUNS = 5;
const api = globalThis.convTransposeWasm;
const tf = globalThis.tf;
const state = (globalThis.__tfjsPanel = { ready: false });

function card() {
  const el = document.createElement('section');
  el.className = 'card';
  el.id = 'tfjs-panel';
  el.style.marginTop = '18px';
  el.innerHTML = `
    <h2>A tfjs model, with and without the plug-in</h2>
    <p class="small">A TensorFlow.js Layers model whose <code>conv2dTranspose</code> layers are the two kernels above
      (${FACTOR}×, on the picture), run by <code>model.predict</code> on tfjs's cpu backend (and its wasm backend when the page
      has started it): first with tfjs's own kernels, then after
      <code>registerTfjsKernels(tf)</code>, which routes the same layers through this library. The model does not change.</p>
    <table class="timing">
      <thead><tr><th>model.predict</th><th>tfjs kernels</th><th>with the plug-in</th><th>faster</th><th>max |Δ|</th></tr></thead>
      <tbody id="tp-rows"></tbody>
    </table>
    <p class="muted small" id="tp-note">Waiting for the page's own timings…</p>
    <div class="buttons"><button id="tp-run" disabled>Run again</button></div>
<pre>const plugin = registerTfjsKernels(tf);   // Conv2DBackpropInput now computed here
model.predict(x);                         // same model, same weights
plugin.unregister();                      // tfjs's own kernels again</pre>`;
  (document.querySelector('main') ?? document.body).insertBefore(el, document.querySelector('section.card.code'));
  return el;
}

// The model: the picture in, two upsampled pictures out. Padding 'same'
// puts each kernel where the page's explicit padding does (offset k/2 - f/2),
// on the picture itself rather than its edge-padded copy: only the borders
// differ from the panels above (they fade, as zero padding does).
function buildModel(height, width, amount) {
  const input = tf.input({ shape: [height, width, 3] });
  const outputs = ['bilinear', 'sharp'].map((kind) => {
    const K = U.makeKernel(kind, FACTOR, amount);
    const k = K.size;
    const w = new Float32Array(k * k * 9);
    for (let t = 0; t < k * k; t++) for (let c = 0; c < 3; c++) w[t * 9 + c * 3 + c] = K.data[t];
    const layer = tf.layers.conv2dTranspose({ filters: 3, kernelSize: k, strides: FACTOR, padding: 'same', useBias: false, name: `up_${kind}` });
    const y = layer.apply(input);
    layer.setWeights([tf.tensor4d(w, [k, k, 3, 3])]);
    return y;
  });
  return tf.model({ inputs: input, outputs });
}

function timePredict(model, x) {
  // Not inside tf.tidy: tidy walks what it returns, element by element for typed arrays.
  const predict = () => {
    const ys = model.predict(x);
    const out = ys.map((t) => t.dataSync());
    tf.dispose(ys);
    return out;
  };
  let out = predict(); // warm-up
  predict();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    out = predict();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[(RUNS - 1) >> 1], out };
}

// One backend's row: the model made on it, predicted with tfjs's kernels,
// then with the plug-in registered on that backend only.
async function runOn(backend, row, picture, size) {
  await tf.setBackend(backend);
  const model = buildModel(size, size, 1.25);
  const x = tf.tensor4d(picture, [1, size, size, 3]);
  try {
    const own = timePredict(model, x);
    const plugin = api.registerTfjsKernels(tf, { backends: [backend] });
    let ours;
    let stats;
    try {
      ours = timePredict(model, x);
      stats = plugin.stats();
    } finally {
      plugin.unregister();
    }
    let maxDiff = 0;
    own.out.forEach((o, j) => o.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ours.out[j][i])))));
    row.querySelector('.tfjs').textContent = `${own.ms.toFixed(1)} ms`;
    row.querySelector('.ours').textContent = `${ours.ms.toFixed(1)} ms`;
    row.querySelector('.ratio').textContent = `${(own.ms / ours.ms).toFixed(1)}×`;
    row.querySelector('.diff').textContent = maxDiff.toExponential(1);
    return { tfjsMs: own.ms, pluginMs: ours.ms, maxDiff, computed: stats.computed[backend], fallbacks: stats.fallbacks[backend] };
  } finally {
    tf.dispose(x);
    model.dispose();
  }
}

async function run(el) {
  const button = el.querySelector('#tp-run');
  button.disabled = true;
  const note = el.querySelector('#tp-note');
  const previous = tf.getBackend();
  try {
    await api.init();
    // tfjs's cpu backend, and its wasm backend where the page has started it.
    const backends = ['cpu', ...(tf.findBackend('wasm') ? ['wasm'] : [])];
    const body = el.querySelector('#tp-rows');
    body.innerHTML = backends.map((b) => `<tr id="tp-${b}"><td>tfjs ${b}</td><td class="tfjs">…</td><td class="ours">…</td><td class="ratio">–</td><td class="diff">–</td></tr>`).join('');
    const size = 96;
    const { rgb: picture } = U.makePicture(size);
    note.textContent = 'Running…';
    const results = {};
    for (const backend of backends) {
      await new Promise((r) => setTimeout(r, 0)); // let the page draw between rows
      results[backend] = await runOn(backend, el.querySelector(`#tp-${backend}`), picture, size);
    }
    note.textContent = `Median of ${RUNS} predicts each, after warm-up, on the page's main thread; x [1, ${size}, ${size}, 3] -> ` +
      `2 × [1, ${size * FACTOR}, ${size * FACTOR}, 3]. The plug-in computed ` +
      backends.map((b) => `${results[b].computed} layer calls on ${b} (${results[b].fallbacks} fell back)`).join(', ') + '.';
    Object.assign(state, { ready: true, backends: results, runs: (state.runs ?? 0) + 1 });
  } catch (e) {
    note.textContent = `Error: ${e && e.message ? e.message : e}`;
    state.error = String(e && e.stack ? e.stack : e);
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous); // the page's own choice
    button.disabled = false;
  }
}

async function start() {
  const el = card();
  el.querySelector('#tp-run').addEventListener('click', () => run(el));
  if (!api || !tf) {
    state.error = 'the page needs the library bundle and tfjs (tf.min.js)';
    el.querySelector('#tp-note').textContent = state.error;
    return;
  }
  // After the page's own timings, or after 30 s whatever they do.
  const t0 = performance.now();
  while (!(globalThis.__results && (globalThis.__results.ready || globalThis.__results.error)) && performance.now() - t0 < 30000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await run(el);
}

start();
