// The browser benchmark's page (bundled by bench/browser/run.mjs with
// esbuild, served cross-origin isolated): this library's builds against
// LiteRT.js, onnxruntime-web and tfjs-backend-wasm in one page, on the
// Node benchmark's shapes and data (bench/lib/shapes.mjs), made and checked
// as there (bench/lib/peer-kinds.mjs) and timed as there: every peer of a
// shape warmed up, then interleaved rounds in a shuffled order, medians
// (bench/lib/measure.mjs).
//
// This library: every build that init({ backend }) loads here, each from
// its own run of the classic-script bundle (dist/conv-transpose-wasm.js), so
// that each is a separate instance with its own wasm memory and threads (one
// instance loads one build). The build list is what the library names (an
// exported list, or the names in its unknown-backend error) plus the names
// below; a name that does not load is reported as skipped with the reason.
//
// The driver calls window.runBench(config) and reads its result (JSON).

import * as litert from '@litertjs/core';
import { measureInterleaved, timingPolicy } from '../lib/measure.mjs';
import { checkOutput, libraryPeers, litertPeer, ortPeer, tfPeer } from '../lib/peer-kinds.mjs';
import { shapeData, shapeInfo, SHAPES } from '../lib/shapes.mjs';

const LIBRARY_SCRIPT = '/dist/conv-transpose-wasm.js';
const KNOWN_BUILDS = ['wasm-relaxed-simd-threads', 'wasm-simd-threads', 'wasm-simd'];
const LITERT_WASM = '/node_modules/@litertjs/core/wasm/';
const ORT_WASM = '/node_modules/onnxruntime-web/dist/';
const TFJS_WASM = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

const message = (e) => String((e && e.message) || e);

function log(line) {
  console.log(line);
  document.getElementById('log').textContent += `${line}\n`;
}

let instanceCount = 0;
// A new instance of the library: the classic script run again (a new URL, so
// that it is fetched and run anew) defines the global afresh.
function loadLibraryInstance() {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${LIBRARY_SCRIPT}?instance=${++instanceCount}`;
    s.onload = () => resolve(globalThis.convTransposeWasm);
    s.onerror = () => reject(new Error(`could not load ${s.src}`));
    document.head.appendChild(s);
  });
}

async function buildNames() {
  const probe = await loadLibraryInstance();
  const listed = probe.BACKENDS ?? probe.backends;
  const names = Array.isArray(listed) ? [...listed] : [];
  try {
    await probe.init({ backend: '?' });
  } catch (e) {
    names.push(...[...message(e).matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]));
  }
  return [...new Set([...names, ...KNOWN_BUILDS])];
}

// The build init() picks by default first (the ratios' reference), then every
// other build that loads, each in its own instance.
async function loadBuilds(threads) {
  const first = await loadLibraryInstance();
  const init = await first.init({ numThreads: threads });
  const builds = [{ backend: init.backend, lib: first, init, isDefault: true }];
  const skipped = [];
  for (const backend of await buildNames()) {
    if (backend === init.backend) continue;
    try {
      const lib = await loadLibraryInstance();
      const r = await lib.init({ backend, numThreads: threads });
      if (r.backend !== backend) throw new Error(`init({ backend: '${backend}' }) loaded '${r.backend}'`);
      builds.push({ backend, lib, init: r, isDefault: false });
    } catch (e) {
      skipped.push({ backend, reason: message(e) });
    }
  }
  return { builds, skipped };
}

// LiteRT's runtime log (INFO lines at every compile), kept out of the
// console: its loader hands globalThis.Module to its wasm glue as options.
const liteRtLog = [];
const keepLog = (line) => {
  liteRtLog.push(String(line));
  if (liteRtLog.length > 200) liteRtLog.shift();
};

async function loadLiteRt() {
  // Its threaded build needs relaxed SIMD and cross-origin isolation; without
  // them loadLiteRt refuses { threads: true }, and the single-thread build runs.
  globalThis.Module = { print: keepLog, printErr: keepLog };
  try {
    await litert.loadLiteRt(LITERT_WASM, { threads: true });
    return { threaded: true };
  } catch (e) {
    globalThis.Module = { print: keepLog, printErr: keepLog };
    await litert.loadLiteRt(LITERT_WASM);
    return { threaded: false, whyNot: message(e) };
  }
}

async function makePeers(threads) {
  const env = {};
  const peers = {};
  const { builds, skipped } = await loadBuilds(threads);
  env.builds = builds.map(({ backend, init, isDefault }) => ({ backend, init, isDefault }));
  env.skippedBuilds = skipped;
  for (const b of builds) peers[`ours:${b.backend}`] = libraryPeers(b.lib, true, { prepared: true }).preparedPeer(b.init.threads);

  const tf = globalThis.tf;
  tf.wasm.setWasmPaths(TFJS_WASM);
  tf.wasm.setThreadsCount(threads);
  tf.enableProdMode();
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  env.tfjs = { version: tf.version.tfjs, threads: tf.wasm.getThreadsCount(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
  peers['tfjs-wasm'] = tfPeer(tf, 'wasm');

  const ort = globalThis.ort;
  ort.env.wasm.wasmPaths = ORT_WASM;
  ort.env.wasm.numThreads = threads;
  env.ort = { version: ort.env.versions?.web ?? null, threads };
  peers.ort = ortPeer(ort);

  env.litert = { ...(await loadLiteRt()), threads, log: liteRtLog };
  peers.litert = litertPeer(litert, threads, false);
  peers['litert-run'] = litertPeer(litert, threads, true);
  return { env, peers, reference: builds[0].lib };
}

// One shape: every peer prepared, warmed up and timed in interleaved rounds,
// then checked against this library's one-call output (default build).
async function shapeSection(sh, peers, lib, policy) {
  const d = shapeData(sh);
  const ref = lib.convTranspose({ data: d.x, shape: sh.input }, { data: d.f, shape: sh.filterShape }, sh.output, sh.strides, sh.padding).data;
  const entry = { id: sh.id, desc: sh.desc, note: sh.note, flops: sh.flops, cells: {} };
  const handles = [];
  for (const [key, prepare] of Object.entries(peers)) {
    const cell = { peer: key };
    entry.cells[key] = cell;
    try {
      const h = await prepare(sh, d);
      if (h.unsupported) {
        Object.assign(cell, { status: 'unsupported', note: h.unsupported });
        continue;
      }
      const warm = async () => (h.isAsync ? h.run() : h.run());
      handles.push({ key, h, run: h.run, isAsync: !!h.isAsync, before: h.restore ? async () => { await h.restore(); await warm(); } : null });
    } catch (e) {
      Object.assign(cell, { status: 'error', error: message(e) });
    }
  }
  const measured = await measureInterleaved(handles, policy);
  for (const { key, h } of handles) {
    const cell = entry.cells[key];
    const m = measured.get(key);
    if (m.error) {
      Object.assign(cell, { status: 'error', error: message(m.error) });
    } else {
      Object.assign(cell, { status: 'measured', medianMs: m.medianMs, minMs: m.minMs, runs: m.runs, gflops: sh.flops / m.medianMs / 1e6 });
      if (h.kernel) cell.kernel = h.kernel;
      checkOutput(cell, h, m.output, ref);
    }
    await h.dispose();
  }
  for (const c of Object.values(entry.cells)) {
    const what = c.status === 'measured'
      ? `${c.medianMs.toPrecision(3)} ms, ${c.gflops.toFixed(1)} GFLOP/s, ${c.runs} runs, check ${c.checkOk ? 'ok' : 'FAILED'} (max error ${c.relError.toExponential(1)})${c.note ? ` [${c.note}]` : ''}`
      : `${c.status}: ${c.note ?? c.error}`;
    log(`  ${c.peer.padEnd(28)} ${what}`);
  }
  return entry;
}

globalThis.runBench = async (config) => {
  const { policy } = timingPolicy({ quick: !!config.quick, timeMs: config.timeMs ?? null, warmupMs: config.warmupMs ?? null,
    rounds: config.rounds ?? null, cpuSkipS: null });
  const { env, peers, reference } = await makePeers(config.threads);
  Object.assign(env, { userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency, gc: typeof globalThis.gc === 'function', policy });
  log(`builds: ${env.builds.map((b) => `${b.backend} (${b.init.threads} threads)`).join(', ')}; skipped: ${env.skippedBuilds.map((s) => `${s.backend} (${s.reason})`).join(', ') || 'none'}`);
  const shapes = [];
  for (const id of config.shapes ?? SHAPES.map((s) => s.id)) {
    const sh = shapeInfo(SHAPES.find((s) => s.id === id));
    log(`${sh.id}: ${sh.desc}`);
    shapes.push(await shapeSection(sh, peers, reference, policy));
  }
  return JSON.parse(JSON.stringify({ env, shapes }, (k, v) => (typeof v === 'number' && !isFinite(v) ? null : v)));
};
globalThis.benchReady = true;
