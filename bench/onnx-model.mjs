// A one-node ConvTranspose model whose output equals TensorFlow's
// tf.nn.conv_transpose for the same arguments (the ONNX writer is the
// tests' helper, tests/js/helpers/onnx-model.js), and the layout helpers.

// A CommonJS module imported as one (its exports object), so that the
// browser benchmark's bundler takes it in as well.
import onnxModel from '../tests/js/helpers/onnx-model.js';

const { convTransposeModel } = onnxModel;

/**
 * Pads and output_padding for ONNX ConvTranspose that reproduce
 * TensorFlow's output size and alignment for one spatial dimension.
 * TF: total = max(0, (in-1)*s + kEff - out) for SAME (0 for VALID),
 * pad_before = floor(total / 2). ONNX: out = s*(in-1) + outPad + kEff -
 * padBegin - padEnd, with outPad added at the end.
 */
export function onnxPadsFor(inSize, outSize, k, s, d, padding) {
  const kEff = (k - 1) * d + 1;
  const full = (inSize - 1) * s + kEff;
  let total = padding === 'SAME' ? Math.max(0, full - outSize) : 0;
  const begin = Math.floor(total / 2);
  const end = total - begin;
  const outPad = outSize - (full - total);
  if (outPad < 0) throw new Error(`no ONNX pads for in=${inSize} out=${outSize} k=${k} s=${s} ${padding}`);
  return { begin, end, outPad };
}

/**
 * TF filters [k..., Cout, Cin] (flat, row-major) -> ONNX W [Cin, Cout, k...]
 * (grouped filters: Cout is the output channels of one group).
 */
export function tfFilterToOnnx(data, kernel, cout, cin) {
  const kProd = kernel.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let kk = 0; kk < kProd; kk++) {
    for (let co = 0; co < cout; co++) {
      const src = (kk * cout + co) * cin;
      for (let ci = 0; ci < cin; ci++) {
        out[(ci * cout + co) * kProd + kk] = data[src + ci];
      }
    }
  }
  return out;
}

/**
 * A ModelProto with one ConvTranspose node: input "X" [N, Cin, spatial...],
 * initializer "W" [Cin, Cout / group, k...] (and "B" [Cout] with a bias),
 * output "Y" [N, Cout, outSpatial...], then an activation node when
 * spec.activation names one ('Relu', 'Sigmoid').
 * spec: { batch, inSpatial, outSpatial, kernel, strides, dilations, cin, cout,
 *         padding: 'SAME' | 'VALID', filters: Float32Array in TF layout
 *         ([k..., Cout / group, Cin]), group?, bias?: Float32Array, activation? }
 */
export function buildConvTransposeModel(spec) {
  const { batch, inSpatial, outSpatial, kernel, strides, dilations, cin, cout, padding } = spec;
  const group = spec.group ?? 1;
  const rank = kernel.length;
  const begins = [];
  const ends = [];
  const outPads = [];
  for (let i = 0; i < rank; i++) {
    const p = onnxPadsFor(inSpatial[i], outSpatial[i], kernel[i], strides[i], dilations[i], padding);
    begins.push(p.begin);
    ends.push(p.end);
    outPads.push(p.outPad);
  }
  const w = tfFilterToOnnx(spec.filters, kernel, cout / group, cin);
  const bytes = convTransposeModel({
    xRank: rank + 2, w, wShape: [cin, cout / group, ...kernel], b: spec.bias, activation: spec.activation,
    attrs: { auto_pad: 'NOTSET', kernel_shape: kernel, strides, dilations, pads: [...begins, ...ends],
      output_padding: outPads, group },
  });
  return { bytes, pads: [...begins, ...ends], outputPadding: outPads };
}

// Layout helpers (outside the timed region).

/** [N, spatial..., C] -> [N, C, spatial...] */
export function channelsLastToFirst(data, batch, spatial, c) {
  const sp = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * sp * c;
    for (let p = 0; p < sp; p++) {
      const src = base + p * c;
      for (let ch = 0; ch < c; ch++) out[base + ch * sp + p] = data[src + ch];
    }
  }
  return out;
}

/** [N, C, spatial...] -> [N, spatial..., C] */
export function channelsFirstToLast(data, batch, spatial, c) {
  const sp = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * sp * c;
    for (let ch = 0; ch < c; ch++) {
      const src = base + ch * sp;
      for (let p = 0; p < sp; p++) out[base + p * c + ch] = data[src + p];
    }
  }
  return out;
}

/**
 * A ModelProto with one MatMul node: c[m, n] = a[m, k] x b[k, n], with b an
 * initializer (used for the matrix-multiply ceiling line).
 */
export function buildMatMulModel(m, k, n, b) {
  return onnxModel.matMulModel(m, k, n, b);
}
