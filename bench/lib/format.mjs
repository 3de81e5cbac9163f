// How the benchmark writes its numbers (milliseconds, ratios, GFLOP and
// GFLOP/s), one way everywhere: in Node's tables (report.mjs) and in the
// browser bench's (bench/browser/). No Node modules: the browser page
// bundles the modules that import this one.

export function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}
export function fmtRatio(r) {
  if (r === null || r === undefined || !isFinite(r)) return '-';
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}
export function fmtGflop(flops) {
  const g = flops / 1e9;
  return g >= 0.1 ? g.toFixed(2) : g.toPrecision(2);
}
export function fmtGf(g) {
  if (g === null || g === undefined || !isFinite(g)) return '-';
  return g >= 10 ? g.toFixed(1) : g.toFixed(2);
}
