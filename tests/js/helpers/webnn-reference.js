'use strict';
// A float64 reference for WebNN's convTranspose2d, written from the
// specification (https://www.w3.org/TR/webnn/#api-mlgraphbuilder-convtranspose2d)
// and nothing of the library: a scatter over the input's pixels, NCHW input
// and IOHW filter ([inputChannels, outputChannels / groups, kh, kw]):
//
//   out[n, g * Og + o, ih * sh + kh * dh - padTop, iw * sw + kw * dw - padLeft]
//     += x[n, c, ih, iw] * w[c, o, kh, kw]     with g = floor(c / (C / groups))
//
// then the bias per output channel and the activation. It also returns each
// output's sum of |terms| (products and bias), which the tolerances scale with.
// Layout helpers turn NHWC and the other filter layouts into these and back.

// Output size by WebNN's formula, before outputPadding.
function calculatedSize(input, filter, begin, end, stride, dilation) {
  return (input - 1) * stride + (filter - 1) * dilation + 1 - begin - end;
}

// erf to double precision: its Maclaurin series below 3, erfc's continued
// fraction above (both converge there far past 1e-15).
function erf(x) {
  const z = Math.abs(x);
  let r;
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 80; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let k = z;
    for (let n = 80; n >= 1; n--) k = z + n / 2 / k;
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / k;
  }
  return x < 0 ? -r : r;
}

// Each activation and the largest |slope| it has (for the tolerances: an
// error in its argument grows by at most that factor).
const sigmoid = (v) => 1 / (1 + Math.exp(-v));
function activationOf(a) {
  const type = a === undefined ? 'linear' : typeof a === 'string' ? a : a.type;
  switch (type) {
    case 'linear': return { f: (v) => v, slope: 1 };
    case 'relu': return { f: (v) => Math.max(0, v), slope: 1 };
    case 'relu6': return { f: (v) => Math.min(6, Math.max(0, v)), slope: 1 };
    case 'sigmoid': return { f: sigmoid, slope: 0.25 };
    case 'tanh': return { f: Math.tanh, slope: 1 };
    case 'gelu': return { f: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), slope: 1.13 };
    case 'silu': return { f: (v) => v * sigmoid(v), slope: 1.1 };
    case 'elu': {
      const alpha = typeof a === 'object' && a.alpha !== undefined ? a.alpha : 1;
      return { f: (v) => (v > 0 ? v : alpha * (Math.exp(v) - 1)), slope: Math.max(1, alpha) };
    }
    case 'leakyRelu': {
      const alpha = typeof a === 'object' && a.alpha !== undefined ? a.alpha : 0.01;
      return { f: (v) => (v >= 0 ? v : alpha * v), slope: Math.max(1, Math.abs(alpha)) };
    }
    case 'clamp': {
      const lo = typeof a === 'object' && a.minValue !== undefined ? a.minValue : -Infinity;
      const hi = typeof a === 'object' && a.maxValue !== undefined ? a.maxValue : Infinity;
      return { f: (v) => Math.min(hi, Math.max(lo, v)), slope: 1 };
    }
    default: throw new Error(`reference: unknown activation ${JSON.stringify(a)}`);
  }
}

/**
 * x: values [N, C, H, W]; w: values [C, O / groups, kh, kw]; options as
 * WebNN's (defaults applied here), bias values or undefined.
 * Returns { out, absSum, shape } in NCHW (out before the activation is `pre`).
 */
function convTranspose2dRef(x, xShape, w, wShape, options = {}) {
  const [N, C, H, W] = xShape;
  const [Cw, Og, KH, KW] = wShape;
  const groups = options.groups ?? 1;
  const [pt, pb, pl, pr] = options.padding ?? [0, 0, 0, 0];
  const [sh, sw] = options.strides ?? [1, 1];
  const [dh, dw] = options.dilations ?? [1, 1];
  const [oph, opw] = options.outputPadding ?? [0, 0];
  if (Cw !== C || C % groups !== 0) throw new Error('reference: channels do not fit the groups');
  const OH = options.outputSizes ? options.outputSizes[0] : calculatedSize(H, KH, pt, pb, sh, dh) + oph;
  const OW = options.outputSizes ? options.outputSizes[1] : calculatedSize(W, KW, pl, pr, sw, dw) + opw;
  const O = Og * groups;
  const Cg = C / groups;
  const size = N * O * OH * OW;
  const pre = new Float64Array(size);
  const absSum = new Float64Array(size);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const xv = x[((n * C + c) * H + ih) * W + iw];
          for (let o = 0; o < Og; o++) {
            const co = g * Og + o;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh + kh * dh - pt;
              if (oh < 0 || oh >= OH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw + kw * dw - pl;
                if (ow < 0 || ow >= OW) continue;
                const term = xv * w[((c * Og + o) * KH + kh) * KW + kw];
                const at = ((n * O + co) * OH + oh) * OW + ow;
                pre[at] += term;
                absSum[at] += Math.abs(term);
              }
            }
          }
        }
      }
    }
  }
  if (options.bias) {
    for (let i = 0; i < size; i++) {
      const b = options.bias[Math.floor(i / (OH * OW)) % O];
      pre[i] += b;
      absSum[i] += Math.abs(b);
    }
  }
  const act = activationOf(options.activation);
  return { out: pre.map(act.f), pre, absSum, slope: act.slope, shape: [N, O, OH, OW] };
}

// A 4-D array's values with its axes permuted: out axis j is in axis perm[j].
function permute(values, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const stride = [1, 1, 1, 1];
  for (let d = 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  const s = perm.map((p) => stride[p]);
  const out = new Float64Array(values.length);
  let at = 0;
  for (let a = 0; a < outShape[0]; a++) {
    for (let b = 0; b < outShape[1]; b++) {
      for (let c = 0; c < outShape[2]; c++) {
        for (let d = 0; d < outShape[3]; d++) out[at++] = values[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
      }
    }
  }
  return { values: out, shape: outShape };
}

// From IOHW to each filter layout, and between NCHW and NHWC.
const FROM_IOHW = { iohw: [0, 1, 2, 3], hwoi: [2, 3, 1, 0], ohwi: [1, 2, 3, 0] };
const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

module.exports = { calculatedSize, convTranspose2dRef, permute, FROM_IOHW, NCHW_TO_NHWC, NHWC_TO_NCHW, activationOf, erf };
