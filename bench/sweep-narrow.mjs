// For 1-4 output channels the core chooses between two kernels: input
// channels in vector lanes ('dot') and output pixels in lanes ('pixels').
// This sweep measures both, forced through createConvTranspose's `kernel`
// option, over input channel counts, in one process and one thread (the
// runs alternate, so both see the same machine), and prints where 'dot'
// starts to win for each output channel count: the table behind
// kDotMinInputChannels in src/fast_kernel.cc.
//
//   node --no-liftoff bench/sweep-narrow.mjs            # ~1 minute
//   node --no-liftoff bench/sweep-narrow.mjs --cin 4,8,16,32 --cout 1,3 --shape e1

import * as lib from 'conv-transpose-wasm';

const SHAPES = {
  // x[4, 31, 31, cin] -> [4, 63, 63, cout], 3x3, stride 2, VALID (an RGB output layer)
  e4: { batch: 4, hw: 31, k: 3, s: 2 },
  // x[1, 33, 47, cin] -> [1, 99, 141, cout], 5x5, stride 3, SAME
  e1: { batch: 1, h: 33, w: 47, k: 5, s: 3, same: true },
};

function parse(argv) {
  const o = { cin: [1, 2, 3, 4, 6, 8, 12, 16, 17, 24, 32, 64], cout: [1, 2, 3, 4], shape: 'e4', threads: 1, ms: 20, rounds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    switch (argv[i]) {
      case '--cin': o.cin = v().split(',').map(Number); break;
      case '--cout': o.cout = v().split(',').map(Number); break;
      case '--shape': o.shape = v(); break;
      case '--threads': o.threads = Number(v()); break;
      case '--quick': o.ms = 8; o.rounds = 5; break;
      default: throw new Error(`unknown flag ${argv[i]}`);
    }
  }
  if (!SHAPES[o.shape]) throw new Error(`--shape: one of ${Object.keys(SHAPES).join(', ')}`);
  return o;
}

const opts = parse(process.argv.slice(2));
await lib.init({ numThreads: opts.threads });
const sh = SHAPES[opts.shape];
const prod = (a) => a.reduce((x, y) => x * y, 1);
const median = (a) => Float64Array.from(a).sort()[a.length >> 1];
const random = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; }
  return a;
};

console.log(`narrow-output kernels, shape ${opts.shape}, ${opts.threads} thread(s), GFLOP/s (median of alternating runs)`);
const header = ['cout \\ cin', ...opts.cin.map(String), 'dot from'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '--:').join('|')}|`);
for (const cout of opts.cout) {
  const cells = [];
  let dotFrom = null;
  for (const cin of opts.cin) {
    const [h, w] = sh.hw ? [sh.hw, sh.hw] : [sh.h, sh.w];
    const out = sh.same ? [h * sh.s, w * sh.s] : [(h - 1) * sh.s + sh.k, (w - 1) * sh.s + sh.k];
    const xShape = [sh.batch, h, w, cin];
    const fShape = [sh.k, sh.k, cout, cin];
    const x = { data: random(prod(xShape), 1), shape: xShape };
    const f = { data: random(prod(fShape), 2), shape: fShape };
    const outShape = [sh.batch, ...out, cout];
    const ops = ['dot', 'pixels'].map((kernel) =>
      lib.createConvTranspose(f, { strides: sh.s, padding: sh.same ? 'SAME' : 'VALID', kernel }));
    for (const op of ops) { const t0 = performance.now(); while (performance.now() - t0 < 100) op.run(x, outShape); }
    const times = [[], []];
    for (let r = 0; r < opts.rounds; r++) {
      for (let v = 0; v < 2; v++) {
        const t0 = performance.now();
        let n = 0;
        while (performance.now() - t0 < opts.ms || n < 2) {
          const t = performance.now();
          ops[v].run(x, outShape);
          times[v].push(performance.now() - t);
          n++;
        }
      }
    }
    ops.forEach((op) => op.dispose());
    const flops = 2 * prod(xShape) * cout * sh.k * sh.k;
    const [dot, pixels] = times.map((t) => flops / median(t) / 1e6);
    cells.push(`${dot.toFixed(0)}/${pixels.toFixed(0)}`);
    if (dotFrom === null && dot > pixels) dotFrom = cin;
    if (dot <= pixels) dotFrom = null;  // the first cin from which dot stays ahead
  }
  console.log(`| ${cout} | ${cells.join(' | ')} | ${dotFrom ?? '-'} |`);
}
console.log('cells: dot/pixels GFLOP/s; "dot from": the smallest cin from which dot stays ahead in this sweep');
process.exit(0);
