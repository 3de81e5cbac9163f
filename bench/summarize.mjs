// Several benchmark runs (the JSON files bench/run.mjs writes) as one table:
// per shape and peer, the median over the runs of each run's median, and
// for each ratio to ours the median with the smallest and largest value
// seen. On a shared machine one run can land in a slow spell; a ratio that
// holds in every run is the claim worth making.
//
//   node bench/summarize.mjs run1.json run2.json run3.json

import fs from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/summarize.mjs RESULT.json [RESULT.json ...]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const median = (a) => {
  const s = a.filter((v) => v !== null && v !== undefined && isFinite(v)).sort((x, y) => x - y);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (ms) => (ms === null ? '-' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const fmtX = (r) => (r === null ? '-' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);
const fmtG = (g) => (g === null ? '-' : g >= 10 ? g.toFixed(1) : g.toFixed(2));

const ids = runs[0].shapes.map((s) => s.id);
const cell = (run, id, peer) => run.shapes.find((s) => s.id === id)?.cells?.[peer];
const measured = (c) => (c && c.status === 'measured' ? c : null);

console.log(`${runs.length} runs: ${runs.map((r) => r.meta.date).join(', ')}`);
console.log('');
console.log('| shape | ours ms | ours GFLOP/s | 1 thread GFLOP/s | into-array ms | one-call ms | tfjs-wasm ms | tfjs cpu ms | onnxruntime-web ms | litert ms | litert run ms | 2T / 1T | into-array 2T / 1T | vs tfjs-wasm | vs ort-web | vs litert | vs litert run |');
console.log('|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const id of ids) {
  const flops = runs[0].shapes.find((s) => s.id === id).flops;
  const ms = (peer) => median(runs.map((r) => measured(cell(r, id, peer))?.medianMs));
  const failed = (peer) => runs.some((r) => cell(r, id, peer)?.checkOk === false);
  // A peer with no operator for the shape (LiteRT on 3-D).
  const na = (peer) => runs.some((r) => cell(r, id, peer)?.status === 'unsupported');
  const litertMs = (peer) => (na(peer) ? 'n/a' : fmtMs(ms(peer)));
  // Ratios per run, then their median and range over the runs.
  const ratio = (peer, inverse = false) => {
    const rs = runs.map((r) => {
      const o = measured(cell(r, id, 'ours')), p = measured(cell(r, id, peer));
      if (!o || !p) return null;
      return inverse ? o.medianMs / p.medianMs : p.medianMs / o.medianMs;
    }).filter((v) => v !== null);
    if (rs.length === 0) return '-';
    const lo = Math.min(...rs), hi = Math.max(...rs);
    return rs.length === 1 ? fmtX(rs[0]) : `${fmtX(median(rs))} (${fmtX(lo)}-${fmtX(hi)})`;
  };
  const oneT = median(runs.map((r) => measured(cell(r, id, 'ours-1t'))?.gflops));
  // One thread's ms over all threads', per run: with a fresh result array
  // (ours) and writing into one reused array (ours-into).
  const scaling = (all, one) => {
    const rs = runs.map((r) => {
      const o = measured(cell(r, id, all)), t = measured(cell(r, id, one));
      return o && t ? t.medianMs / o.medianMs : null;
    }).filter((v) => v !== null);
    if (rs.length === 0) return '-';
    return rs.length === 1 ? fmtX(rs[0]) : `${fmtX(median(rs))} (${fmtX(Math.min(...rs))}-${fmtX(Math.max(...rs))})`;
  };
  const oursMs = ms('ours');
  console.log(`| ${id} | ${fmtMs(oursMs)} | ${fmtG(oursMs ? flops / oursMs / 1e6 : null)} | ${fmtG(oneT)} | ${fmtMs(ms('ours-into'))} | ${fmtMs(ms('ours-call'))} | ` +
    `${failed('tfjs-wasm') ? 'wrong output' : fmtMs(ms('tfjs-wasm'))} | ${fmtMs(ms('tfjs-cpu'))} | ${fmtMs(ms('ort'))} | ` +
    `${litertMs('litert')} | ${litertMs('litert-run')} | ${scaling('ours', 'ours-1t')} | ` +
    `${scaling('ours-into', 'ours-into-1t')} | ` +
    `${failed('tfjs-wasm') ? '-' : ratio('tfjs-wasm')} | ${ratio('ort')} | ${ratio('litert')} | ${ratio('litert-run')} |`);
}
console.log('');
console.log('Medians over the runs of each run\'s median ms; ratios (peer ms / ours ms, > 1: ours faster; 2T / 1T: one thread\'s ms over two threads\', with a fresh result array per call and, into-array, with one reused output array) as the median over the runs with the range seen.');

const dtypeRows = runs.filter((r) => r.dtypes).map((r) => r.dtypes);
if (dtypeRows.length) {
  console.log('');
  console.log('| shape | float64 / float32 | float16 / float32 | bfloat16 / float32 |');
  console.log('|:--|--:|--:|--:|');
  for (const id of ids) {
    const share = (d) => {
      const v = dtypeRows.map((rows) => rows.find((x) => x.id === id)).filter(Boolean).map((x) => x.gflops[d] / x.gflops.float32);
      if (v.length === 0) return '-';
      const pct = (x) => `${Math.round(100 * x)}%`;
      return v.length === 1 ? pct(v[0]) : `${pct(median(v))} (${pct(Math.min(...v))}-${pct(Math.max(...v))})`;
    };
    console.log(`| ${id} | ${share('float64')} | ${share('float16')} | ${share('bfloat16')} |`);
  }
}

const fixed = runs.filter((r) => r.fixedCost).map((r) => r.fixedCost);
if (fixed.length) {
  console.log('');
  for (const id of ['one-call', 'prepared']) {
    const us = fixed.map((f) => f.find((x) => x.id === id)?.medianUs).filter((v) => v !== undefined);
    console.log(`Fixed cost, ${id}: ${us.map((u) => `${u.toFixed(1)} us`).join(', ')}`);
  }
}
const ceil = runs.map((r) => r.ceiling || []).flat().filter((c) => !c.error);
for (const id of ['tfjs-wasm-matmul', 'ort-matmul']) {
  const g = ceil.filter((c) => c.id === id).map((c) => c.gflops);
  if (g.length) console.log(`Ceiling ${id}: ${g.map((x) => `${x.toFixed(1)}`).join(', ')} GFLOP/s`);
}
