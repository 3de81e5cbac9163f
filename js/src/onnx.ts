// ONNX ConvTranspose (and so PyTorch's ConvTranspose1d / ConvTranspose2d,
// which export to it) restated as convTranspose2d's WebNN options.
//
// ONNX's weights W are [C_in, C_out / group, k...] for any group: WebNN's
// 'iohw'. Its pads are [x1_begin, x2_begin, x1_end, x2_end] where WebNN's are
// [beginHeight, endHeight, beginWidth, endWidth]. output_shape and the SAME
// auto_pads fix the output size and derive the pads from it, by the ONNX
// specification's equations:
//   total = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - out
//   SAME_UPPER: begin = floor(total / 2), end = total - begin
//   otherwise:  end = floor(total / 2), begin = total - end
// A negative total (an output longer than the full one, below the stride)
// is no padding and the output size as given: WebNN's outputSizes.
// 1-D is 2-D with a height of 1.

import { ArgumentError, describe, intList, toTensor } from './args.js';
import type { Tensor, TensorLike } from './args.js';
import { convTranspose2d } from './webnn.js';
import type { ConvTranspose2dOptions } from './webnn.js';

export type OnnxAutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/** ConvTranspose's attributes as an ONNX node holds them (lists per spatial dimension). */
export interface OnnxConvTransposeAttributes {
  auto_pad?: OnnxAutoPad;
  dilations?: readonly number[];
  group?: number;
  kernel_shape?: readonly number[];
  output_padding?: readonly number[];
  /** The spatial output sizes. */
  output_shape?: readonly number[];
  pads?: readonly number[];
  strides?: readonly number[];
}

const OP = 'onnxConvTranspose';
const AUTO_PADS: readonly OnnxAutoPad[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

function fail(message: string): never {
  throw new ArgumentError(`${OP}: ${message}`);
}

// An attribute list of `length` entries, or `fallback` when absent.
function attrList(name: string, value: unknown, length: number, fallback: number, what: string): number[] {
  if (value === undefined || value === null) return new Array(length).fill(fallback);
  const v = intList(OP, `attrs.${name}`, value, false);
  if (v.length !== length) fail(`attrs.${name} must have ${length} entries (${what}). Received: attrs.${name}=[${v.join(', ')}]`);
  return v;
}

/**
 * convTranspose2d options (inputLayout 'nchw', filterLayout 'iohw') that
 * compute ONNX ConvTranspose(X, W) with these attributes, for X's and W's
 * shapes: [N, C_in, H, W] and [C_in, C_out / group, kH, kW], or 1-D
 * [N, C_in, L] and [C_in, C_out / group, k] (the options are then for
 * those tensors with a height of 1 inserted). The bias is not among them.
 */
export function onnxConvTransposeOptions(inputShape: readonly number[], weightShape: readonly number[], attrs: OnnxConvTransposeAttributes = {}): ConvTranspose2dOptions {
  if (attrs === null || typeof attrs !== 'object') fail(`attrs must be an object of ConvTranspose attributes. Received: attrs=${describe(attrs)}`);
  const { auto_pad, dilations, group, kernel_shape, output_padding, output_shape, pads, strides } = attrs;
  const xShape = intList(OP, 'X.shape', inputShape, false);
  const wShape = intList(OP, 'W.shape', weightShape, false);
  const rank = xShape.length - 2;
  if (rank !== 1 && rank !== 2) fail(`X must be [N, C, L] or [N, C, H, W] (1-D or 2-D). Received: X.shape=[${xShape.join(', ')}]`);
  if (wShape.length !== xShape.length) fail(`W must have X's rank, ${xShape.length}: [C_in, C_out / group, k...]. Received: W.shape=[${wShape.join(', ')}]`);
  const kernel = wShape.slice(2);
  const spatial = rank === 1 ? 'one per spatial dimension: [x1]' : 'one per spatial dimension: [x1, x2]';
  if (kernel_shape !== undefined && kernel_shape !== null) {
    const k = attrList('kernel_shape', kernel_shape, rank, 0, spatial);
    if (k.some((v, i) => v !== kernel[i])) fail(`attrs.kernel_shape must be W's spatial shape [${kernel.join(', ')}]. Received: attrs.kernel_shape=[${k.join(', ')}]`);
  }
  const s = attrList('strides', strides, rank, 1, spatial);
  const d = attrList('dilations', dilations, rank, 1, spatial);
  const op = attrList('output_padding', output_padding, rank, 0, spatial);
  const p = attrList('pads', pads, 2 * rank, 0, rank === 1 ? '[x1_begin, x1_end]' : '[x1_begin, x2_begin, x1_end, x2_end]');
  const autoPad = auto_pad === undefined || auto_pad === null ? 'NOTSET' : AUTO_PADS.find((a) => a === auto_pad);
  if (!autoPad) fail(`attrs.auto_pad must be ${AUTO_PADS.map((a) => `'${a}'`).join(', ')}. Received: attrs.auto_pad=${describe(auto_pad)}`);
  let outSizes: number[] | null = null;
  if (output_shape !== undefined && output_shape !== null) {
    const o = intList(OP, 'attrs.output_shape', output_shape, false);
    if (o.length !== rank) fail(`attrs.output_shape must have ${rank} entries (the spatial sizes, without batch and channels). Received: attrs.output_shape=[${o.join(', ')}]`);
    outSizes = o;
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    outSizes = xShape.slice(2).map((n, i) => n * s[i]);
  }

  const begin = p.slice(0, rank);
  const end = p.slice(rank);
  if (autoPad === 'VALID') {
    begin.fill(0);
    end.fill(0);
  }
  if (outSizes) {
    for (let i = 0; i < rank; i++) {
      const total = Math.max(0, s[i] * (xShape[2 + i] - 1) + op[i] + (kernel[i] - 1) * d[i] + 1 - outSizes[i]);
      const half = Math.floor(total / 2);
      begin[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      end[i] = total - begin[i];
    }
  }
  // 1-D as 2-D: a height of 1, stride and dilation 1, no padding there.
  const two = (v: number[], h: number) => (rank === 1 ? [h, ...v] : v);
  const [bh, bw] = two(begin, 0);
  const [eh, ew] = two(end, 0);
  const options: ConvTranspose2dOptions = {
    padding: [bh, eh, bw, ew],
    strides: two(s, 1),
    dilations: two(d, 1),
    groups: group ?? 1,
    inputLayout: 'nchw',
    filterLayout: 'iohw',
    label: OP,
  };
  if (outSizes) options.outputSizes = two(outSizes, 1);
  else options.outputPadding = two(op, 0);
  return options;
}

/**
 * ONNX ConvTranspose(X, W, B) with the node's attributes: X [N, C_in, H, W]
 * or [N, C_in, L], W [C_in, C_out / group, k...] (PyTorch's weight as it
 * is), B [C_out] optional. Returns Y in X's layout and dtype.
 */
export function onnxConvTranspose(x: TensorLike, w: TensorLike, attrs: OnnxConvTransposeAttributes = {}, bias?: TensorLike): Tensor {
  const xt = toTensor(OP, 'X', x);
  const wt = toTensor(OP, 'W', w);
  const options = onnxConvTransposeOptions(xt.shape, wt.shape, attrs);
  if (bias !== undefined) options.bias = bias;
  if (xt.shape.length === 4) return convTranspose2d(xt, wt, options);
  // 1-D: the same data viewed with a height of 1.
  const [n, c, l] = xt.shape;
  const [ci, co, kl] = wt.shape;
  const y = convTranspose2d({ ...xt, shape: [n, c, 1, l] }, { ...wt, shape: [ci, co, 1, kl] }, options);
  return { ...y, shape: [y.shape[0], y.shape[1], y.shape[3]] };
}
