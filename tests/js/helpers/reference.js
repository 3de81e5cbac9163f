'use strict';
// Independent float64 reference for tf.nn.conv_transpose, plus test utilities
// (seeded PRNG, float16 / bfloat16 codecs, output-size rules, comparison).
//
// The reference is written straight from the definition of the transposed
// convolution as a scatter (channels last, per spatial dimension j):
//
//   out[n, o, co] += x[n, i, ci] * w[k, co, ci]   for every i, k, ci, co
//   with o_j = i_j * s_j + k_j * d_j - padBefore_j   (skipped if outside)
//
// where padBefore is the "before" padding that the forward convolution of a
// tensor of the output's shape would use (TF's rules):
//   VALID:    0
//   SAME:     total = max(0, (ceil(out/s) - 1) * s + eff - out), before = floor(total/2)
//   EXPLICIT: the given "before" value
// with eff = (k - 1) * d + 1.
//
// Channel groups and the output epilogue (optional): with `groups`, output
// channel co belongs to group g = floor(co / (cout / groups)), sums only the
// input channels [g, g + 1) * cin / groups and reads w[k, co mod (cout /
// groups), ci]; then out = act(sum + bias[co]) with the activations below.

// ---------------------------------------------------------------------------
// Shapes and layout
// ---------------------------------------------------------------------------

function prod(shape) {
  let p = 1;
  for (const v of shape) p *= v;
  return p;
}

// Row-major strides of a shape.
function rowMajorStrides(shape) {
  const st = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i];
  }
  return st;
}

// Returns { batch, channels, spatial[], channelAxis, spatialAxes[] } of an
// N+2 dimensional shape in channels-last or channels-first layout.
function splitShape(shape, channelsFirst) {
  const N = shape.length - 2;
  const spatialAxes = [];
  for (let j = 0; j < N; j++) spatialAxes.push(channelsFirst ? 2 + j : 1 + j);
  const channelAxis = channelsFirst ? 1 : N + 1;
  return {
    batch: shape[0],
    channels: shape[channelAxis],
    spatial: spatialAxes.map((a) => shape[a]),
    channelAxis,
    spatialAxes,
  };
}

// Builds an N+2 shape from parts.
function joinShape(batch, spatial, channels, channelsFirst) {
  return channelsFirst ? [batch, channels, ...spatial] : [batch, ...spatial, channels];
}

// Calls fn(idx) for every multi-index of `dims` (row-major order). idx is reused.
function forEachIndex(dims, fn) {
  const n = dims.length;
  for (const d of dims) if (d <= 0) return;
  const idx = new Array(n).fill(0);
  for (;;) {
    fn(idx);
    let j = n - 1;
    while (j >= 0) {
      idx[j]++;
      if (idx[j] < dims[j]) break;
      idx[j] = 0;
      j--;
    }
    if (j < 0) return;
  }
}

// ---------------------------------------------------------------------------
// TF output-size rules (forward convolution of a tensor of the output's size)
// ---------------------------------------------------------------------------

function effectiveKernel(k, d) {
  return (k - 1) * d + 1;
}

// C++ style truncating integer division.
function truncDiv(a, b) {
  return Math.trunc(a / b);
}

// Spatial size the forward convolution of an `out`-sized tensor gives.
// padding: 'SAME' | 'VALID' | [before, after]
function forwardSize(out, k, s, d, padding) {
  const eff = effectiveKernel(k, d);
  if (padding === 'VALID') return truncDiv(out - eff + s, s);
  if (padding === 'SAME') return truncDiv(out + s - 1, s); // ceil for out >= 0
  const [pb, pa] = padding;
  return truncDiv(out + pb + pa - eff + s, s);
}

// All output sizes TF accepts for one spatial dim, input size `inp`
// (exactly s of them when inp >= 1).
function legalOutputSizes(inp, k, s, d, padding) {
  const eff = effectiveKernel(k, d);
  let lo;
  if (padding === 'VALID') lo = (inp - 1) * s + eff;
  else if (padding === 'SAME') lo = (inp - 1) * s + 1;
  else lo = (inp - 1) * s + eff - padding[0] - padding[1];
  const res = [];
  for (let o = Math.max(0, lo - s); o <= lo + 2 * s; o++) {
    if (forwardSize(o, k, s, d, padding) === inp && o >= 0) res.push(o);
  }
  return res;
}

// "before" padding the forward convolution would use, per TF.
function padBefore(out, k, s, d, padding) {
  if (padding === 'VALID') return 0;
  if (padding === 'SAME') {
    const eff = effectiveKernel(k, d);
    const inp = Math.ceil(out / s);
    const total = Math.max(0, (inp - 1) * s + eff - out);
    return Math.floor(total / 2);
  }
  return padding[0];
}

// ---------------------------------------------------------------------------
// The float64 reference
// ---------------------------------------------------------------------------

// erf in double, from its everywhere-convergent series with positive terms
// (Abramowitz & Stegun 7.1.6): erf(z) = 2/sqrt(pi) exp(-z^2) sum_n
// (2z^2)^n z / (1 * 3 * ... * (2n + 1)). No cancellation, so each value is
// within a few double ulps; beyond |z| = 6, erf(z) is +-1 to double precision.
function erf(z) {
  if (Number.isNaN(z)) return NaN;
  const a = Math.abs(z);
  if (a >= 6) return Math.sign(z);
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(z) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
}

// erfc(z) = 1 - erf(z) without cancellation where erfc is small (z > 2): the
// continued fraction erfc(z) = exp(-z^2) / sqrt(pi) * 1 / (z + (1/2) / (z + 1 /
// (z + (3/2) / (z + ...)))) (A&S 7.1.14), evaluated from the back; 60 levels
// are exact to double precision for z > 2.
function erfc(z) {
  if (!(z > 2)) return 1 - erf(z);
  let f = z;
  for (let n = 60; n >= 1; n--) f = z + n / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

// An activation in the API's forms ('relu', { type: 'elu', alpha }, ...) as
// { type, alpha, lo, hi }, with WebNN's defaults: leakyRelu alpha 0.01, elu
// alpha 1, clamp unbounded; relu6 is clamp(0, 6).
function normalizeActivation(a) {
  const o = typeof a === 'string' ? { type: a } : { ...(a || { type: 'linear' }) };
  if (o.type === 'relu6') return { type: 'clamp', alpha: 0, lo: 0, hi: 6 };
  return {
    type: o.type,
    alpha: o.alpha ?? (o.type === 'elu' ? 1 : 0.01),
    lo: o.minValue ?? -Infinity,
    hi: o.maxValue ?? Infinity,
  };
}

// The activation of x in double, from its definition (WebNN's). NaN stays NaN.
function activate(act, x) {
  if (Number.isNaN(x)) return NaN;
  switch (act.type) {
    case 'linear': return x;
    case 'relu': return x < 0 ? 0 : x;
    case 'clamp': return Math.min(Math.max(x, act.lo), act.hi);
    case 'leakyRelu': return x < 0 ? act.alpha * x : x;
    case 'elu': return x < 0 ? act.alpha * Math.expm1(x) : x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
    case 'gelu': return 0.5 * x * erfc(-x / Math.SQRT2);
    case 'silu': return x / (1 + Math.exp(-x));
    default: throw new Error(`ref: unknown activation ${act.type}`);
  }
}

// An upper bound of |act'| over the reals: how far an error in the sum can
// move the result. gelu' peaks at 1.1289 (x = 1.4142...), silu' at 1.0998.
function lipschitz(act) {
  switch (act.type) {
    case 'leakyRelu':
    case 'elu': return Math.max(1, Math.abs(act.alpha));
    case 'sigmoid': return 0.25;
    case 'gelu': return 1.13;
    case 'silu': return 1.1;
    default: return 1;
  }
}

/**
 * Float64 transposed convolution.
 * @param {object} p
 *   x, xShape: input values (any array-like of numbers) and its N+2 shape
 *   w, wShape: filters, shape spatialKernel + [outChannels, inChannels]
 *   outShape:  N+2 output shape (same layout as xShape)
 *   strides, dilations: arrays of N spatial values
 *   padding: 'SAME' | 'VALID' | array of N spatial [before, after] pairs
 *   channelsFirst: boolean
 *   groups (default 1), then wShape is spatialKernel + [outChannels / groups, inChannels]
 *   bias: outChannels numbers or null; activation: as the API takes it, or null
 * @returns {{ out: Float64Array, sum: Float64Array, absSum: Float64Array, taps: Int32Array, terms: Int32Array }}
 *   out[i]    = act(sum[i]), sum[i] = the convolution's sum plus bias,
 *   absSum[i] = sum over contributing terms of |x*w| (for tolerances),
 *   taps[i]   = number of (input position, kernel position) pairs reaching i,
 *   terms[i]  = number of products summed into i (taps x input channels per group).
 */
function convTransposeRef(p) {
  const { x, xShape, w, wShape, outShape, strides, dilations, padding, channelsFirst } = p;
  const groups = p.groups ?? 1;
  const bias = p.bias ?? null;
  const act = normalizeActivation(p.activation);
  const N = xShape.length - 2;
  if (wShape.length !== N + 2 || outShape.length !== N + 2) throw new Error('ref: rank mismatch');
  if (strides.length !== N || dilations.length !== N) throw new Error('ref: strides/dilations length');
  const xs = splitShape(xShape, channelsFirst);
  const os = splitShape(outShape, channelsFirst);
  const kSp = wShape.slice(0, N);
  const coutG = wShape[N];
  const cout = coutG * groups;
  const cin = wShape[N + 1];
  const cinG = cin / groups;
  if (!Number.isInteger(cinG)) throw new Error('ref: groups must divide the input channels');
  if (bias && bias.length !== cout) throw new Error('ref: bias length');
  if (xs.channels !== cin) throw new Error('ref: input channels mismatch');
  if (os.channels !== cout) throw new Error('ref: output channels mismatch');
  if (xs.batch !== os.batch) throw new Error('ref: batch mismatch');
  const pads = [];
  for (let j = 0; j < N; j++) {
    const pj = Array.isArray(padding) ? padding[j] : padding;
    if (forwardSize(os.spatial[j], kSp[j], strides[j], dilations[j], pj) !== xs.spatial[j]) {
      throw new Error(`ref: output size ${os.spatial[j]} illegal for dim ${j}`);
    }
    pads.push(padBefore(os.spatial[j], kSp[j], strides[j], dilations[j], pj));
  }

  const xSt = rowMajorStrides(xShape);
  const oSt = rowMajorStrides(outShape);
  const wSt = rowMajorStrides(wShape);
  const total = prod(outShape);
  const out = new Float64Array(total);
  const absSum = new Float64Array(total);
  const taps = new Int32Array(total);
  const o = new Array(N);

  for (let n = 0; n < xs.batch; n++) {
    forEachIndex(xs.spatial, (i) => {
      let xBase = n * xSt[0];
      for (let j = 0; j < N; j++) xBase += i[j] * xSt[xs.spatialAxes[j]];
      forEachIndex(kSp, (k) => {
        let oBase = n * oSt[0];
        for (let j = 0; j < N; j++) {
          o[j] = i[j] * strides[j] + k[j] * dilations[j] - pads[j];
          if (o[j] < 0 || o[j] >= os.spatial[j]) return;
          oBase += o[j] * oSt[os.spatialAxes[j]];
        }
        let wBase = 0;
        for (let j = 0; j < N; j++) wBase += k[j] * wSt[j];
        for (let co = 0; co < cout; co++) {
          const oi = oBase + co * oSt[os.channelAxis];
          taps[oi]++;
          let acc = 0;
          let accAbs = 0;
          const g = Math.floor(co / coutG);
          for (let ci = g * cinG; ci < (g + 1) * cinG; ci++) {
            const t = x[xBase + ci * xSt[xs.channelAxis]] * w[wBase + (co % coutG) * wSt[N] + ci];
            acc += t;
            accAbs += Math.abs(t);
          }
          out[oi] += acc;
          absSum[oi] += accAbs;
        }
      });
    });
  }
  const sum = out;
  const terms = taps.map((t) => t * cinG);
  if (bias) {
    forEachIndex([os.batch, cout, prod(os.spatial)], ([n, co, pixel]) => {
      const oi = channelsFirst ? (n * cout + co) * prod(os.spatial) + pixel : (n * prod(os.spatial) + pixel) * cout + co;
      sum[oi] += bias[co];
    });
  }
  return { out: sum.map((v) => activate(act, v)), sum, absSum, taps, terms };
}

// ---------------------------------------------------------------------------
// Seeded PRNG
// ---------------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randInt(rng, lo, hi) {
  // inclusive
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function pick(rng, arr) {
  return arr[Math.floor(rng() * arr.length)];
}

// Uniform values in [-1, 1) stored in the given typed array type.
function randomArray(rng, n, Type = Float32Array) {
  const a = new Type(n);
  for (let i = 0; i < n; i++) a[i] = rng() * 2 - 1;
  return a;
}

// ---------------------------------------------------------------------------
// float16 / bfloat16
// ---------------------------------------------------------------------------

function roundHalfEven(v) {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// IEEE binary16 bits of the number v, rounded to nearest, ties to even.
function f16Encode(v) {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  // Largest finite is 65504; anything at or above 65520 (the midpoint to 2^16)
  // rounds to infinity under ties-to-even.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal (or zero): multiple of 2^-24. A result of 1024 is the smallest
    // normal, whose encoding 0x0400 is exactly 1024.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function f16Decode(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

// bfloat16 bits of float32(v): the float32 bit pattern rounded to its upper
// 16 bits, nearest, ties to even.
function bf16Encode(v) {
  f32Scratch[0] = v;
  const bits = u32Scratch[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return 0x7fc0 | ((bits >>> 16) & 0x8000);
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

function bf16Decode(bits) {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0];
}

function encodeArray(values, dtype) {
  const enc = dtype === 'float16' ? f16Encode : bf16Encode;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = enc(values[i]);
  return out;
}

function decodeArray(bits, dtype) {
  const dec = dtype === 'float16' ? f16Decode : bf16Decode;
  const out = new Float64Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = dec(bits[i]);
  return out;
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/**
 * Compares got[i] against ref[i] with an element-wise bound tol(i, ref[i]).
 * Returns a report with the number of failures, the worst element (largest
 * |err| / bound), and the largest absolute and relative errors with indices.
 */
function compare(got, ref, tol) {
  const rep = {
    n: ref.length,
    lengthOk: got.length === ref.length,
    failures: 0,
    worstIdx: -1,
    worstRatio: 0,
    maxAbs: 0,
    maxAbsIdx: -1,
    maxRel: 0,
    maxRelIdx: -1,
  };
  if (!rep.lengthOk) return rep;
  for (let i = 0; i < ref.length; i++) {
    const g = Number(got[i]);
    const r = ref[i];
    const err = Math.abs(g - r);
    const bound = tol(i, r);
    if (!(err <= bound)) rep.failures++; // NaN counts as a failure
    const ratio = Number.isNaN(err) ? Infinity : err / (bound || Number.MIN_VALUE);
    if (ratio > rep.worstRatio || (rep.worstIdx < 0 && ratio >= rep.worstRatio)) {
      rep.worstRatio = ratio;
      rep.worstIdx = i;
    }
    if (err > rep.maxAbs || Number.isNaN(err)) {
      rep.maxAbs = err;
      rep.maxAbsIdx = i;
    }
    const rel = err / Math.max(Math.abs(r), 1e-30);
    if (rel > rep.maxRel) {
      rep.maxRel = rel;
      rep.maxRelIdx = i;
    }
  }
  return rep;
}

// Multi-index of flat index i in shape.
function unflatten(i, shape) {
  const idx = new Array(shape.length);
  for (let j = shape.length - 1; j >= 0; j--) {
    idx[j] = i % shape[j];
    i = Math.floor(i / shape[j]);
  }
  return idx;
}

// Throws a descriptive Error unless every element is within tolerance.
function assertClose(got, ref, tol, label = '', shape = null) {
  const rep = compare(got, ref, tol);
  if (!rep.lengthOk) {
    throw new Error(`${label}: length ${got.length} != expected ${ref.length}`);
  }
  if (rep.failures > 0) {
    const i = rep.worstIdx;
    const where = shape ? ` at [${unflatten(i, shape).join(', ')}]` : '';
    throw new Error(
      `${label}: ${rep.failures}/${rep.n} elements out of tolerance; worst index ${i}${where}: ` +
        `got ${got[i]}, expected ${ref[i]}, |err| ${Math.abs(got[i] - ref[i]).toExponential(3)}, ` +
        `bound ${tol(i, ref[i]).toExponential(3)}; max abs err ${rep.maxAbs.toExponential(3)} at ${rep.maxAbsIdx}, ` +
        `max rel err ${rep.maxRel.toExponential(3)} at ${rep.maxRelIdx}`,
    );
  }
  return rep;
}

// ---------------------------------------------------------------------------
// Tolerances (see the test files for where each is used)
// ---------------------------------------------------------------------------

// float32 accumulation vs exact: each float32 add rounds with relative error
// <= 2^-24 ~ 6e-8; summing n terms in any order is bounded by
// ~n * 2^-24 * sum|terms|, and in practice by ~sqrt(n) * 2^-24 * sum|terms|.
// For the term counts used here (<= ~600 terms per output) 1e-5 * sum|x*w|
// is a comfortable bound on either; the tiny absolute term covers outputs
// whose terms nearly cancel to 0.
const F32_REL_OF_ABSSUM = 1e-5;
const F32_ATOL = 1e-6;
function f32Tol(absSum) {
  return (i) => F32_REL_OF_ABSSUM * absSum[i] + F32_ATOL;
}

// float64 accumulation: same argument with 2^-53 ~ 1.1e-16.
function f64Tol(absSum) {
  return (i) => 1e-12 * absSum[i] + 1e-300;
}

// float16 output: float32 accumulation error, then one rounding to float16
// (half an ulp: 2^-11 relative for normals, 2^-25 absolute in the subnormal
// range).
function f16Tol(absSum) {
  return (i, r) => 2 ** -11 * Math.abs(r) * (1 + 2 ** -10) + F32_REL_OF_ABSSUM * absSum[i] + 2 ** -25;
}

// bfloat16 output: float32 accumulation, then one rounding to bfloat16 (8
// significant bits: half an ulp is 2^-8 relative).
function bf16Tol(absSum) {
  return (i, r) => 2 ** -8 * Math.abs(r) * (1 + 2 ** -7) + F32_REL_OF_ABSSUM * absSum[i] + 1e-38;
}

// ---------------------------------------------------------------------------
// Case construction
// ---------------------------------------------------------------------------

/**
 * Builds a test case with random data.
 * spec: { N?, channelsFirst, batch, cin, cout, inSp[], kSp[], strides[], dilations[],
 *         padding: 'SAME'|'VALID'|[[b,a],...N], outSp[], Type? }
 * Returns the spec plus xShape, wShape, outShape, x, w.
 */
function makeCase(rng, spec) {
  const Type = spec.Type || Float32Array;
  const xShape = joinShape(spec.batch, spec.inSp, spec.cin, spec.channelsFirst);
  const outShape = joinShape(spec.batch, spec.outSp, spec.cout, spec.channelsFirst);
  const wShape = [...spec.kSp, spec.cout, spec.cin];
  const x = randomArray(rng, prod(xShape), Type);
  const w = randomArray(rng, prod(wShape), Type);
  return { ...spec, xShape, wShape, outShape, x, w };
}

// Padding argument for the library: string, or N+2 pairs in layout order.
function fullPadding(padding, channelsFirst) {
  if (typeof padding === 'string') return padding;
  return channelsFirst ? [[0, 0], [0, 0], ...padding] : [[0, 0], ...padding, [0, 0]];
}

function dataFormatFor(N, channelsFirst) {
  return [
    ['NWC', 'NCW'],
    ['NHWC', 'NCHW'],
    ['NDHWC', 'NCDHW'],
  ][N - 1][channelsFirst ? 1 : 0];
}

function refFor(c, x = c.x, w = c.w) {
  return convTransposeRef({
    x,
    xShape: c.xShape,
    w,
    wShape: c.wShape,
    outShape: c.outShape,
    strides: c.strides,
    dilations: c.dilations,
    padding: c.padding,
    channelsFirst: c.channelsFirst,
  });
}

/**
 * Random case with TF-legal output sizes.
 * opts: { N, channelsFirst, paddings: subset of ['SAME','VALID','EXPLICIT'],
 *         sMax, dMax, kMax, inMax, padMax, channels[], batchMax, Type }
 */
function randomCase(rng, opts) {
  const {
    N,
    channelsFirst = false,
    paddings = ['SAME', 'VALID', 'EXPLICIT'],
    sMax = 3,
    dMax = 1,
    kMax = 4,
    inMax = 5,
    padMax = 3,
    channels = [1, 3, 5, 17],
    batchMax = 2,
    Type = Float32Array,
  } = opts;
  for (;;) {
    const strides = Array.from({ length: N }, () => randInt(rng, 1, sMax));
    const dilations = Array.from({ length: N }, () => randInt(rng, 1, dMax));
    const kSp = Array.from({ length: N }, () => randInt(rng, 1, kMax));
    const inSp = Array.from({ length: N }, () => randInt(rng, 1, inMax));
    let padding = pick(rng, paddings);
    if (padding === 'EXPLICIT') {
      padding = Array.from({ length: N }, () => [randInt(rng, 0, padMax), randInt(rng, 0, padMax)]);
    }
    const legal = inSp.map((inp, j) =>
      legalOutputSizes(inp, kSp[j], strides[j], dilations[j], Array.isArray(padding) ? padding[j] : padding).filter(
        (o) => o > 0,
      ),
    );
    if (legal.some((l) => l.length === 0)) continue; // no non-empty legal output size
    return makeCase(rng, {
      channelsFirst,
      batch: randInt(rng, 1, batchMax),
      cin: pick(rng, channels),
      cout: pick(rng, channels),
      inSp,
      kSp,
      strides,
      dilations,
      padding,
      outSp: legal.map((l) => pick(rng, l)),
      Type,
    });
  }
}

function describeCase(c) {
  const pad = typeof c.padding === 'string' ? c.padding : JSON.stringify(c.padding);
  return (
    `${c.channelsFirst ? 'CF' : 'CL'} x[${c.xShape}] w[${c.wShape}] out[${c.outShape}] ` +
    `s[${c.strides}] d[${c.dilations}] ${pad}`
  );
}

// Typed data of `values` in `dtype` (16-bit types as their bits), and the
// float64 values a typed array of `dtype` holds.
function typed(values, dtype) {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  return encodeArray(values, dtype);
}
function decoded(data, dtype) {
  if (dtype === 'float32' || dtype === 'float64') return Float64Array.from(data);
  return decodeArray(data, dtype);
}

module.exports = {
  typed,
  decoded,
  prod,
  rowMajorStrides,
  splitShape,
  joinShape,
  forEachIndex,
  effectiveKernel,
  forwardSize,
  legalOutputSizes,
  padBefore,
  convTransposeRef,
  erf,
  erfc,
  normalizeActivation,
  activate,
  lipschitz,
  mulberry32,
  randInt,
  pick,
  randomArray,
  f16Encode,
  f16Decode,
  bf16Encode,
  bf16Decode,
  encodeArray,
  decodeArray,
  compare,
  assertClose,
  unflatten,
  f32Tol,
  f64Tol,
  f16Tol,
  bf16Tol,
  F32_REL_OF_ABSSUM,
  F32_ATOL,
  makeCase,
  randomCase,
  fullPadding,
  dataFormatFor,
  refFor,
  describeCase,
};
