// What a run prints and writes: numbers and ratios formatted one way
// everywhere, the header that says how the figures were measured, the
// Markdown tables, and the JSON (its fields are what bench/summarize.mjs
// reads; keep them when changing the tables). Nothing here measures.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fmtGf, fmtGflop, fmtMs, fmtRatio } from './format.mjs';
import { policyLines } from './measure.mjs';
import { BASELINE_LABEL, PEER_LABEL, TOLERANCE } from './peers.mjs';

export { fmtGf, fmtGflop, fmtMs, fmtRatio };

export const log = (...a) => console.log(...a);

// Median of peer num over median of peer den in shape entry e (null unless
// both were measured): e.g. one thread's into-array time over all threads'
// (> 1: the threads help).
function cellRatio(e, num, den) {
  const n = e.cells[num];
  const d = e.cells[den];
  if (n?.status !== 'measured' || d?.status !== 'measured') return null;
  return n.medianMs / d.medianMs;
}

/** The header: machine, engine flags, measuring policy, library. */
export function logHeader(opts, env) {
  log(`# conv-transpose-wasm benchmark${opts.quick ? ' (--quick)' : ''}`);
  log('');
  log(`- date: ${new Date().toISOString()}`);
  log(`- Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}, CPU: ${os.cpus()[0]?.model ?? '?'}, ${env.cores} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`- node flags: ${process.execArgv.join(' ') || '(none)'}${env.noLiftoff
    ? ' — Liftoff off: wasm is optimized (TurboFan) before its first run'
    : ' — WARNING: Liftoff on; wasm runs baseline code until V8 tiers up. Run with `node --no-liftoff` for stable figures'}`);
  for (const l of policyLines(opts.policy, opts.quick)) log(l);
  log(`- timed region: one op call including read-back of its output (ours: .data; tfjs: dataSync(); ort: await run() + await getData(); litert: new Tensor(x) + await run() + toTypedArray(), litert-run: await run() alone). Input/session/filter preparation and NHWC<->NCHW conversion are outside it`);
  log(`- conv-transpose-wasm ${env.libVersion}: init() -> ${JSON.stringify(env.initResult)}; "all threads" = ${env.threads}; prepared form createConvTranspose: ${env.hasPrepared ? (opts.prepared ? 'yes' : 'yes, but off (--no-prepared): ours = one-call form') : 'NOT AVAILABLE (ours = one-call form)'}`);
  log(`- library loaded from ${path.relative(env.root, env.libPath)} (the built dist/; rebuild before benchmarking changes)`);
}

/** The rest of the header, once the peers are made: the other libraries and the check. */
export function logPeerSetup(opts, env) {
  if (env.tf) log(`- @tensorflow/tfjs ${env.versions.tfjs}, tfjs-backend-wasm ${env.versions.tfjsWasm} (wasm files: ${path.relative(env.root, env.tfWasmPaths)}/; prod mode)`);
  if (env.baseline) {
    const b = env.baseline;
    log(`- baseline (--baseline): ${path.relative(process.cwd(), b.file) || b.file}${b.version ? `, version ${b.version}` : ''}: a second instance of the library; init() -> ${JSON.stringify(b.init)}${b.threads !== env.threads ? ` (NOT the ${env.threads} threads of ours)` : ''}; prepared form createConvTranspose: ${b.hasPrepared ? (opts.prepared ? 'yes' : 'yes, but off (--no-prepared): base = one-call form') : 'NOT AVAILABLE (base = one-call form)'}; base / base-1t are made and timed exactly as ours / ours-1t`);
  }
  if (env.ort) log(`- onnxruntime-web ${env.versions.onnxruntimeWeb}: wasm EP, env.wasm.numThreads = ${opts.ortThreads}, simd = true, graphOptimizationLevel 'all', opset 17`);
  if (env.litert) {
    const l = env.litert;
    log(`- LiteRT.js ${l.version}: ${l.build} (${l.threaded ? 'threaded, relaxed SIMD' : `NOT threaded${l.relaxedSimd ? '' : ': no relaxed SIMD in this engine (node --experimental-wasm-relaxed-simd)'}`}), accelerator 'wasm' (XNNPACK), cpuOptions.numThreads = ${opts.litertThreads}; one TRANSPOSE_CONV, weights and output shape constant; 1-D as 2-D with H = 1, 3-D not in TFLite`);
  }
  log(`- output check: max|diff| / max|ref| against ours (one-call, all threads), tolerance ${TOLERANCE}`);
  log(`- FLOPs = 2 * batch * prod(input spatial) * Cin * Cout * prod(kernel)`);
  log('');
}

/** The JSON's meta: everything needed to tell two runs' conditions apart. */
export function resultsMeta(opts, env) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    execArgv: process.execArgv,
    noLiftoff: env.noLiftoff,
    argv: process.argv.slice(2),
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? null,
    cores: env.cores,
    loadavgStart: os.loadavg(),
    quick: opts.quick,
    policy: { ...opts.policy, slowRunMs: isFinite(opts.policy.slowRunMs) ? opts.policy.slowRunMs : null,
      skipSlowCpuMs: isFinite(opts.policy.skipSlowCpuMs) ? opts.policy.skipSlowCpuMs : null },
    library: { version: env.libVersion, init: env.initResult, threads: env.threads, preparedForm: env.preparedAvailable },
    versions: env.versions,
    ortThreads: opts.ortThreads,
    litertThreads: opts.litertThreads,
    peers: opts.peers,
    peerLabels: env.baseline ? { ...PEER_LABEL, ...BASELINE_LABEL } : PEER_LABEL,
    timedRegion: 'one op call including read-back of its output into a JS typed array; preparation and layout conversion outside',
    flopsFormula: '2 * batch * prod(input spatial) * Cin * Cout * prod(kernel)',
    check: { reference: 'ours one-call, all threads', metric: 'max|diff| / max|ref|', tolerance: TOLERANCE },
    ...(env.baseline ? { baseline: env.baseline } : {}),
  };
}

/** A peer's line under its shape when it has no figure: why (skipped, error). */
export const logPeer = (p, text) => log(`  ${p.padEnd(13)} ${text}`);

/** A peer's line under its shape: its measured cell. */
export function logCell(p, cell) {
  const chk = cell.relError === undefined ? 'n/a' : `${cell.checkOk ? 'ok' : 'FAILED'} (${cell.relError.toExponential(1)})`;
  logPeer(p, `${fmtMs(cell.medianMs).padStart(8)} ms  ${fmtGf(cell.gflops).padStart(6)} GFLOP/s  runs ${String(cell.runs).padStart(5)} (+${cell.warmupRuns} warm-up, first ${fmtMs(cell.firstRunMs)} ms${cell.setupMs > 100 ? `, setup ${fmtMs(cell.setupMs)} ms` : ''})${cell.kernel ? `  kernel ${cell.kernel}` : ''}  check ${chk}${cell.note ? `  [${cell.note}]` : ''}`);
}

// A Markdown table of GFLOP/s per shape, each column after the first also
// as a share of the first: rows [{ id, gflops: { column: value } }].
function shareTable(rows, heads, columns) {
  log('');
  log(`| shape | ${heads.join(' | ')} |`);
  log(`|:--|${heads.map(() => '--:').join('|')}|`);
  for (const r of rows) {
    const [base, ...rest] = (columns ?? Object.keys(r.gflops)).map((c) => r.gflops[c]);
    const pct = (g) => `${fmtGf(g)} (${Math.round((100 * g) / base)}%)`;
    log(`| ${r.id} | ${[fmtGf(base), ...rest.map(pct)].join(' | ')} |`);
  }
}

export function logDtypeTable(rows) {
  const dtypes = ['float32', 'float64', 'float16', 'bfloat16'];
  shareTable(rows, dtypes, dtypes);
}

export function logVariantTable(rows) {
  shareTable(rows, ['channels last', 'channels first', 'dilation 2']);
}

const cellMs = (c) => {
  if (!c) return '-';
  if (c.status === 'skipped') return 'skipped (slow)';
  if (c.status === 'error') return 'error';
  if (c.status === 'unsupported') return 'n/a';
  if (c.status !== 'measured') return '-';
  return fmtMs(c.medianMs) + (c.checkOk === false ? ' ✗' : '');
};

const cellCheck = (c) => {
  if (!c || c.status === 'skipped') return 'skipped';
  if (c.status === 'error') return 'error';
  if (c.status === 'unsupported') return 'n/a';
  if (c.relError === undefined) return 'n/a';
  return `${c.checkOk ? 'ok' : 'FAILED'} ${c.relError.toExponential(0)}`;
};

// The results table's columns after shape and GFLOP, in order: [head, the
// peers it needs, entry -> text]. A column shows when the run has its peers.
const ms = (p) => (e) => cellMs(e.cells[p]);
const gf = (p) => (e) => fmtGf(e.cells[p]?.gflops);
const ratio = (num, den) => (e) => fmtRatio(cellRatio(e, num, den));
const COLUMNS = [
  ['ours ms', ['ours'], ms('ours')],
  ['ours GFLOP/s', ['ours'], gf('ours')],
  ['ours 1T GFLOP/s', ['ours-1t'], gf('ours-1t')],
  ['ours into-array ms', ['ours-into'], ms('ours-into')],
  ['into-array 2T/1T', ['ours-into', 'ours-into-1t'], ratio('ours-into-1t', 'ours-into')],
  ['ours resident ms', ['ours-resident'], ms('ours-resident')],
  ['copies saved', ['ours-into', 'ours-resident'], ratio('ours-into', 'ours-resident')],
  ['ours one-call ms', ['ours-call'], ms('ours-call')],
  ['ours one-call 1T ms', ['ours-call-1t'], ms('ours-call-1t')],
  ['base ms', ['base'], ms('base')],
  ['tfjs-wasm ms', ['tfjs-wasm'], ms('tfjs-wasm')],
  ['tfjs-cpu ms', ['tfjs-cpu'], ms('tfjs-cpu')],
  ['ort-web ms', ['ort'], ms('ort')],
  ['litert ms', ['litert'], ms('litert')],
  ['litert run ms', ['litert-run'], ms('litert-run')],
  ['vs ours 1T', ['ours', 'ours-1t'], ratio('ours-1t', 'ours')],
  ['vs one-call', ['ours', 'ours-call'], ratio('ours-call', 'ours')],
  ['vs base', ['ours', 'base'], ratio('base', 'ours')],
  ['1T vs base-1T', ['ours-1t', 'base-1t'], ratio('base-1t', 'ours-1t')],
  ['vs tfjs-wasm', ['ours', 'tfjs-wasm'], ratio('tfjs-wasm', 'ours')],
  ['vs tfjs-cpu', ['ours', 'tfjs-cpu'], ratio('tfjs-cpu', 'ours')],
  ['vs ort-web', ['ours', 'ort'], ratio('ort', 'ours')],
  ['vs litert', ['ours', 'litert'], ratio('litert', 'ours')],
  ['vs litert run', ['ours', 'litert-run'], ratio('litert-run', 'ours')],
];

function resultColumns(peers) {
  return [
    ['shape', (e) => e.id],
    ['GFLOP', (e) => fmtGflop(e.flops)],
    ...COLUMNS.filter(([, needs]) => needs.every((p) => peers.includes(p))).map(([head, , text]) => [head, text]),
  ];
}

/** The results section: the table, the output checks, the notes; returns the two tables' lines. */
export function logResults(results, opts) {
  const cols = resultColumns(opts.peers);
  const table = [];
  table.push(`| ${cols.map((c) => c[0]).join(' | ')} |`);
  table.push(`|${cols.map((c, i) => (i === 0 ? ':--' : '--:')).join('|')}|`);
  for (const e of results.shapes) table.push(`| ${cols.map((c) => c[1](e)).join(' | ')} |`);

  const checkCols = opts.peers;
  const checks = [];
  checks.push(`| shape | ${checkCols.join(' | ')} |`);
  checks.push(`|:--|${checkCols.map(() => ':--').join('|')}|`);
  for (const e of results.shapes) checks.push(`| ${e.id} | ${checkCols.map((p) => cellCheck(e.cells[p])).join(' | ')} |`);

  log('');
  log('## Results');
  log('');
  log('Median ms per call (timed region: one op call including output read-back). "vs X" = X median / ours median (ours = prepared form, all threads; > 1 means ours is faster). ✗ = output check failed.');
  if (opts.baseline) log('"base" = the build in --baseline, made and timed as ours; "1T vs base-1T" = base-1t median / ours-1t median. > 1: the current build is faster.');
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
  return { table, checks };
}

/** Writes the JSON (non-finite numbers as null) and says where. */
export function writeJson(file, results) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, (k, v) => (typeof v === 'number' && !isFinite(v) ? null : v), 2) + '\n');
  log('');
  log(`JSON: ${path.relative(process.cwd(), file) || file}; total ${results.meta.totalSeconds.toFixed(1)} s`);
}
