// The shapes the benchmark runs, what each one means (rank, FLOPs, the filter
// shape, a one-line description) and the random data it runs on. The data is
// seeded, so every run and every peer computes the same numbers and their
// outputs can be compared with each other.
//
// Input NHWC-style ([N, spatial..., Cin]), output [N, spatial..., Cout],
// filters [k..., Cout, Cin]. The same k and s on every spatial dimension.

import { mulberry32 } from './measure.mjs';
import { fmtGflop } from './format.mjs';

export const SHAPES = [
  { id: 'S1', input: [1, 4, 4, 512], output: [1, 8, 8, 256], k: 5, s: 2, padding: 'SAME',
    note: 'DCGAN generator first up-sampling layer: tiny image, many channels' },
  { id: 'S2', input: [8, 16, 16, 256], output: [8, 32, 32, 128], k: 5, s: 2, padding: 'SAME',
    note: 'generator layer, batch 8' },
  { id: 'S3', input: [1, 32, 32, 256], output: [1, 64, 64, 128], k: 2, s: 2, padding: 'VALID',
    note: 'U-Net decoder 2x2/2 (no overlap between taps)' },
  { id: 'S4', input: [1, 64, 64, 64], output: [1, 128, 128, 32], k: 3, s: 2, padding: 'SAME',
    note: 'decoder layer, larger image, fewer channels' },
  { id: 'S5', input: [1, 8, 8, 8, 64], output: [1, 16, 16, 16, 32], k: 3, s: 2, padding: 'SAME',
    note: '3-D (volumetric decoder)' },
  { id: 'S6', input: [1, 256, 512], output: [1, 2048, 256], k: 16, s: 8, padding: 'SAME',
    note: '1-D audio up-sampler (MelGAN-style 8x)' },
  { id: 'S7', input: [1, 1, 1, 512], output: [1, 4, 4, 256], k: 4, s: 1, padding: 'VALID',
    note: '1x1 latent -> 4x4 (projection layer)' },
  { id: 'S8', input: [1, 56, 56, 64], output: [1, 56, 56, 64], k: 3, s: 1, padding: 'SAME',
    note: 'stride 1 (conv backprop-input of a ResNet 3x3)' },
  // Extra shapes: odd sizes, few/odd channel counts, stride 3, one output
  // channel with a long kernel, large batch.
  { id: 'E1', input: [1, 33, 47, 17], output: [1, 99, 141, 3], k: 5, s: 3, padding: 'SAME',
    note: 'odd sizes, 17 -> 3 channels, stride 3' },
  { id: 'E2', input: [1, 2000, 1], output: [1, 16000, 1], k: 64, s: 8, padding: 'SAME',
    note: '1-D, 1 -> 1 channel, long kernel (signal interpolation filter)' },
  { id: 'E3', input: [64, 7, 7, 128], output: [64, 14, 14, 64], k: 4, s: 2, padding: 'SAME',
    note: 'large batch (64), small images' },
  { id: 'E4', input: [4, 31, 31, 64], output: [4, 63, 63, 3], k: 3, s: 2, padding: 'VALID',
    note: 'RGB output layer, odd sizes, VALID' },
  { id: 'E5', input: [2, 5, 9, 11, 17], output: [2, 15, 27, 33, 3], k: 4, s: 3, padding: 'SAME',
    note: '3-D, odd sizes, 17 -> 3 channels, stride 3' },
];

/** Number of elements of a tensor of this shape. */
export const count = (shape) => shape.reduce((a, b) => a * b, 1);

export function shapeInfo(s) {
  const rank = s.input.length - 2;
  const kernel = new Array(rank).fill(s.k);
  const strides = new Array(rank).fill(s.s);
  const dilations = new Array(rank).fill(1);
  const batch = s.input[0];
  const inSpatial = s.input.slice(1, -1);
  const outSpatial = s.output.slice(1, -1);
  const cin = s.input[rank + 1];
  const cout = s.output[rank + 1];
  const flops = 2 * batch * count(inSpatial) * cin * cout * count(kernel);
  const filterShape = [...kernel, cout, cin];
  const desc = `${rank}-D x[${s.input}] -> [${s.output}] k${s.k} s${s.s} ${s.padding}`;
  // TensorFlow accepts exactly `stride` output sizes per dimension.
  for (let i = 0; i < rank; i++) {
    const full = (inSpatial[i] - 1) * s.s + s.k;
    const lo = s.padding === 'SAME' ? (inSpatial[i] - 1) * s.s + 1 : full;
    const hi = s.padding === 'SAME' ? inSpatial[i] * s.s : full + s.s - 1;
    if (outSpatial[i] < lo || outSpatial[i] > hi) throw new Error(`${s.id}: output size ${outSpatial[i]} is not one TensorFlow accepts (${lo}..${hi})`);
  }
  return { ...s, rank, kernel, strides, dilations, batch, inSpatial, outSpatial, cin, cout, flops, filterShape, desc };
}

/** shapeInfo of the shape with this id (ids are checked when the flags are read). */
export const shapeById = (id) => shapeInfo(SHAPES.find((s) => s.id === id));

export function listShapes() {
  console.log('\nshapes:');
  for (const s of SHAPES) {
    const i = shapeInfo(s);
    console.log(`  ${s.id}  ${i.desc.padEnd(58)} ${fmtGflop(i.flops).padStart(7)} GFLOP  ${s.note}`);
  }
}

export function randomData(n, seed) {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Input x and filters f of shape sh, uniform in [-1, 1), from two seeds. */
export function operands(sh, xSeed, fSeed) {
  return { x: randomData(count(sh.input), xSeed), f: randomData(count(sh.filterShape), fSeed) };
}

/** The data of a shape's peer comparison: seeds from its id, so each shape has its own. */
export function shapeData(sh) {
  const seed = sh.id.charCodeAt(0) * 31 + Number(sh.id.slice(1));
  return operands(sh, 1000 + seed, 2000 + seed);
}
