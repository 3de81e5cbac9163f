// Image upsampling with a transposed convolution: the pieces shared by the
// browser example (app.mjs) and the tests that check it against Node
// (tests/browser/). Plain functions on Float32Arrays, no DOM, no library
// import: the caller passes convTranspose (sync or async) in.
//
// An RGB image of H x W becomes H*f x W*f. Each colour channel is upsampled
// on its own, in one call, in either of two layouts:
//   'batch':    the three planes as a batch, x [3, H+2, W+2, 1], filters [k, k, 1, 1];
//   'channels': one image of 3 channels,     x [1, H+2, W+2, 3], filters [k, k, 3, 3]
//               with the kernel on the diagonal (channel c feeds only channel c).
// Both give the same numbers. The input is first padded by one pixel on each
// side with its edge values (so borders do not fade to black), and explicit
// padding of the transposed convolution crops the output back to exactly
// H*f x W*f.

/** Upsampling factors the example offers (even, so the kernels are centred). */
export const FACTORS = [2, 4];

/** The 1-D bilinear (triangle) kernel for factor f: length 2f, taps sum to f. */
export function bilinear1d(f) {
  const c = (2 * f - 1) / 2;
  return Float64Array.from({ length: 2 * f }, (_, i) => 1 - Math.abs(i - c) / f);
}

/**
 * A k x k kernel (row-major Float32Array, with its size) for factor f.
 * 'bilinear': the outer product of bilinear1d(f) (what segmentation decoders
 *   initialise their transposed convolutions with), size 2f.
 * 'sharp': a "learned-style" kernel: the bilinear one minus `amount` times its
 *   blur by [1 2 1]/4 in each direction, plus the same amount of itself, size
 *   2f + 2. That equals bilinear upsampling followed by an unsharp mask in
 *   output space; the taps still sum to f*f, so flat areas stay flat.
 */
export function makeKernel(kind, f, amount = 1.25) {
  const b = bilinear1d(f);
  if (kind === 'bilinear') {
    const k = 2 * f;
    const data = new Float32Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) data[i * k + j] = b[i] * b[j];
    return { data, size: k };
  }
  if (kind !== 'sharp') throw new Error(`unknown kernel '${kind}'`);
  const k = 2 * f + 2;
  const padded = new Float64Array(k * k);
  for (let i = 0; i < 2 * f; i++) for (let j = 0; j < 2 * f; j++) padded[(i + 1) * k + j + 1] = b[i] * b[j];
  const t = [0.25, 0.5, 0.25];
  const data = new Float32Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let blur = 0;
      for (let di = -1; di <= 1; di++) {
        for (let dj = -1; dj <= 1; dj++) {
          const y = i + di;
          const x = j + dj;
          if (y >= 0 && y < k && x >= 0 && x < k) blur += t[di + 1] * t[dj + 1] * padded[y * k + x];
        }
      }
      data[i * k + j] = (1 + amount) * padded[i * k + j] - amount * blur;
    }
  }
  return { data, size: k };
}

/**
 * Explicit padding (before = after) that, on the edge-padded input, gives an
 * output of exactly H*f x W*f aligned with the image: 3f/2 for a kernel of
 * size 2f, one more for size 2f + 2.
 */
export function cropPadding(kernelSize, f) {
  return (3 * f) / 2 + (kernelSize - 2 * f) / 2;
}

/** rgb: Float32Array H*W*3 (interleaved) -> the same, padded by one edge pixel. */
export function edgePad(rgb, height, width) {
  const H = height + 2;
  const W = width + 2;
  const out = new Float32Array(H * W * 3);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - 1));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(width - 1, Math.max(0, x - 1));
      for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = rgb[(sy * width + sx) * 3 + c];
    }
  }
  return out;
}

/**
 * The arguments of the transposed convolution that upsamples an RGB image
 * (Float32Array of H*W*3, interleaved, values 0..1):
 * { input, filters, outputShape, strides, padding, tfjsPad } ready for
 * convTranspose(input, filters, outputShape, strides, padding).
 * tfjsPad is the same padding as the single number tf.conv2dTranspose takes.
 */
export function upsampleArgs(rgb, height, width, { factor, kernel, layout = 'batch', amount }) {
  const f = factor;
  const K = makeKernel(kernel, f, amount);
  const k = K.size;
  const padded = edgePad(rgb, height, width);
  const H = height + 2;
  const W = width + 2;
  const p = cropPadding(k, f);
  const padding = [[0, 0], [p, p], [p, p], [0, 0]];
  if (layout === 'batch') {
    const planes = new Float32Array(3 * H * W);
    for (let c = 0; c < 3; c++) for (let i = 0; i < H * W; i++) planes[c * H * W + i] = padded[i * 3 + c];
    return {
      input: { data: planes, shape: [3, H, W, 1] },
      filters: { data: K.data, shape: [k, k, 1, 1] },
      outputShape: [3, height * f, width * f, 1],
      strides: f,
      padding,
      tfjsPad: p,
    };
  }
  if (layout === 'channels') {
    const w = new Float32Array(k * k * 9);
    for (let t = 0; t < k * k; t++) for (let c = 0; c < 3; c++) w[t * 9 + c * 3 + c] = K.data[t];
    return {
      input: { data: padded, shape: [1, H, W, 3] },
      filters: { data: w, shape: [k, k, 3, 3] },
      outputShape: [1, height * f, width * f, 3],
      strides: f,
      padding,
      tfjsPad: p,
    };
  }
  throw new Error(`unknown layout '${layout}'`);
}

/** The output of either layout as interleaved RGB (Float32Array H*W*3). */
export function toRgb(output, layout, height, width) {
  if (layout === 'channels') return output;
  const n = height * width;
  const rgb = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) rgb[i * 3 + c] = output[c * n + i];
  return rgb;
}

/** Interleaved RGB floats (0..1, clamped) -> RGBA bytes for ImageData. */
export function rgbToRgba(rgb, n) {
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = Math.round(rgb[i * 3] * 255);
    out[i * 4 + 1] = Math.round(rgb[i * 3 + 1] * 255);
    out[i * 4 + 2] = Math.round(rgb[i * 3 + 2] * 255);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** RGBA bytes -> interleaved RGB floats in 0..1. */
export function rgbaToRgb(rgba, n) {
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = rgba[i * 4 + c] / 255;
  return out;
}

// ---------------------------------------------------------------- picture

const mix = (a, b, t) => a + (b - a) * t;
const clamp01 = (v) => Math.min(1, Math.max(0, v));
const smooth = (e0, e1, v) => {
  const t = clamp01((v - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
};
function hash(x, y) {
  let h = (Math.imul(x, 374761393) + Math.imul(y, 668265263)) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * The bundled picture, drawn pixel by pixel: a synthwave sunset over hills
 * and a lake. Interleaved RGB floats in 0..1, `size` x `size` (default 96).
 */
export function makePicture(size = 96) {
  const S = size;
  const rgb = new Float32Array(S * S * 3);
  const horizon = Math.round(S * 0.66);
  const sunX = S * 0.6;
  const sunY = S * 0.45;
  const sunR = S * 0.2;
  const ridgeFar = (x) => S * 0.5 - S * 0.09 * Math.abs(Math.sin(x * 0.055 + 0.6)) - S * 0.05 * Math.sin(x * 0.17 + 2.1);
  const ridgeNear = (x) => S * 0.6 - S * 0.07 * Math.abs(Math.sin(x * 0.09 + 4.0)) - S * 0.025 * Math.sin(x * 0.31);
  const sky = (y) => {
    const t = y / horizon;
    // indigo -> violet -> rose -> amber
    const stops = [
      [0.0, [0.06, 0.05, 0.2]],
      [0.45, [0.33, 0.13, 0.45]],
      [0.75, [0.85, 0.32, 0.45]],
      [1.0, [1.0, 0.66, 0.35]],
    ];
    for (let s = 1; s < stops.length; s++) {
      if (t <= stops[s][0]) {
        const u = (t - stops[s - 1][0]) / (stops[s][0] - stops[s - 1][0]);
        return stops[s - 1][1].map((v, c) => mix(v, stops[s][1][c], u));
      }
    }
    return stops[stops.length - 1][1];
  };
  const sunColour = (x, y) => {
    const d = Math.hypot(x - sunX, y - sunY);
    if (d > sunR) return null;
    // stripes cut into the lower half, thicker towards the bottom
    const below = (y - sunY) / sunR;
    if (below > 0.05) {
      const period = Math.max(3, Math.round(S / 24));
      const gap = Math.floor(1 + below * 2.2);
      if ((Math.floor(y) % period) < gap) return null;
    }
    const t = clamp01((y - (sunY - sunR)) / (2 * sunR));
    return [1.0, mix(0.93, 0.42, t), mix(0.45, 0.3, t)];
  };
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let c;
      if (y < horizon) {
        c = sky(y);
        const glow = Math.exp(-((x - sunX) ** 2 + (y - sunY) ** 2) / (2 * (sunR * 1.6) ** 2));
        c = c.map((v, i) => clamp01(v + glow * [0.25, 0.12, 0.05][i]));
        const s = sunColour(x, y);
        if (s) c = s;
        if (y < horizon * 0.45 && hash(x, y) > 0.985) c = [0.95, 0.93, 1.0];
        if (y >= ridgeFar(x)) c = [0.36, 0.17, 0.42].map((v, i) => mix(v, sky(y)[i], 0.3));
        if (y >= ridgeNear(x)) c = [0.18, 0.08, 0.25];
      } else {
        // the lake: darker sky reflection, with a shimmering sun path
        const depth = (y - horizon) / (S - horizon);
        c = sky(horizon - 1 - (y - horizon) * 0.8).map((v) => v * mix(0.7, 0.35, depth));
        const wave = Math.sin(y * 1.7 + x * 0.15) * 0.5 + 0.5;
        const path = Math.exp(-((x - sunX) ** 2) / (2 * (sunR * (0.55 + depth * 0.6)) ** 2));
        if ((y % 2 === 0 || wave > 0.6) && path * wave > 0.3) c = [1.0, 0.72, 0.4].map((v, i) => mix(c[i], v, path * 0.9));
        if (hash(x + 7, y) > 0.93 && depth > 0.15) c = c.map((v) => clamp01(v + 0.12));
      }
      // a little pine on the near shore
      const tx = S * 0.18;
      const base = horizon;
      const top = horizon - S * 0.22;
      if (y >= top && y <= base) {
        const half = ((y - top) / (base - top)) * S * 0.06 + 0.5;
        const tier = ((y - top) % (S * 0.06)) / (S * 0.06);
        if (Math.abs(x - tx) <= half * (0.55 + 0.45 * tier)) c = [0.05, 0.09, 0.12];
      }
      if (y > base - S * 0.02 && y <= base + S * 0.03 && Math.abs(x - tx) < S * 0.012 + 0.5) c = [0.1, 0.06, 0.06];
      for (let i = 0; i < 3; i++) rgb[(y * S + x) * 3 + i] = clamp01(c[i]);
    }
  }
  // quantise to 8 bits so the picture is exactly what a PNG of it would hold
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(rgb[i] * 255) / 255;
  return { rgb, width: S, height: S };
}

// ------------------------------------------------------ fixed test input

/** A small deterministic RGB image (exact floats k/256) for tests. */
export function fixedImage(height = 5, width = 7, seed = 1) {
  const rgb = new Float32Array(height * width * 3);
  let s = seed >>> 0;
  for (let i = 0; i < rgb.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    rgb[i] = (s >>> 24) / 256;
  }
  return { rgb, width, height };
}

/** FNV-1a over the bytes of a typed array, as 8 hex digits: equal bits, equal hash. */
export function fnv1a(typed) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Sum of the values in float64: a human-readable checksum. */
export function sum(typed) {
  let s = 0;
  for (let i = 0; i < typed.length; i++) s += typed[i];
  return s;
}
