// How one call of tfjs's Conv2DBackpropInput / Conv3DBackpropInputV2 kernel
// maps onto this library's conv_transpose, so that the result is the one
// tfjs's cpu kernel gives.
//
// tfjs's kernels take the geometry from its own conv-info functions
// (backend_util.computeConv2DInfo / computeConv3DInfo): dx's shape, the
// forward output size per dimension, and the padding before it. They then
// read dy through its own strides but only over that forward output size,
// and they use only the padding before each dimension. So the result depends
// on (dx size, padding before, forward output size), never on the padding
// after, and a dy larger than the forward output is read as its leading
// window. TensorFlow's rule is stricter: dy must be exactly the forward
// output that explicit paddings (before, after >= 0) give. The plan below
// restates every tfjs call in TensorFlow's terms:
//   - a dy larger than the forward output: its leading window (a copy);
//   - a negative padding before (tfjs's 3-D SAME without TensorFlow's
//     max(0, ...) clamp): dx's first rows get no contribution, so they are
//     zero and the rest is a call with padding 0 before;
//   - the padding after: any value >= 0 that gives the forward output size
//     under TensorFlow's floor rule (rounding modes 'ceil' and 'round' only
//     change that size); where even 0 gives too many rows, dx's last rows
//     are ones no dy row reaches: they are zero and the core computes the
//     rows before them.
// What cannot be restated falls back to tfjs's own kernel, with a reason.

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Why a call went to tfjs's own kernel (the keys of stats().reasons). */
export const FALLBACK_REASONS = {
  /** complex64 tensors: tfjs's kernels reject them; the fallback gives tfjs's own error. */
  complex: 'complex dtype',
  /** int32/bool on the wasm backend: tfjs's wasm kernels take float32 only (2-D reads the bytes as floats, 3-D throws). */
  wasmNonFloat: 'non-float32 input on the wasm backend',
  /** dy has fewer elements along a dimension than the forward output tfjs derives: tfjs reads past its end. */
  dySmaller: 'dy smaller than the forward output',
  /** The filter's dx-channel dimension differs from dx's channels: tfjs reads the filter misaligned. */
  filterChannels: 'filter channels differ from the input shape',
  /** dy's or the filter's rank is not the kernel's (4 for 2-D, 5 for 3-D). */
  rank: 'rank',
  /** tfjs's conv-info function threw (an unknown padding, a bad data format): its kernel throws the same. */
  convInfo: 'tfjs conv info error',
  /** This library reported an error for the restated call (out of memory, a size limit). */
  core: 'library error',
} as const;

export type ConvDims = 2 | 3;

export interface CorePlan {
  kind: 'core';
  /** dx's shape: the kernel's output. */
  outShape: number[];
  /** dy's shape as the core reads it (the forward output size). */
  dyShape: number[];
  /** True when dy is larger than dyShape and its leading window is copied out. */
  dyWindow: boolean;
  /** The block of dx the core computes, and where it starts in dx (null: all of dx). */
  blockShape: number[];
  blockOffsets: number[] | null;
  strides: number[];
  padding: Array<[number, number]>;
  dataFormat: 'NHWC' | 'NCHW' | 'NDHWC';
  /** The window part of a packed filter's cache key. */
  windowKey: string;
}

export type Plan = CorePlan | { kind: 'zeros'; outShape: number[] } | { kind: 'fallback'; reason: string };

/** The number of elements of a shape. */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The plan for one kernel call. `bu` is the caller's tfjs backend_util,
 * `attrs` the kernel's attributes (inputShape, strides, pad, and for 2-D
 * dataFormat and dimRoundingMode).
 */
export function planCall(dims: ConvDims, bu: any, dyShape: readonly number[], filterShape: readonly number[], attrs: any): Plan {
  if (dyShape.length !== dims + 2 || filterShape.length !== dims + 2) return { kind: 'fallback', reason: FALLBACK_REASONS.rank };
  let info: any;
  try {
    info = dims === 2
      ? bu.computeConv2DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false,
        bu.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'))
      : bu.computeConv3DInfo(attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad);
  } catch {
    return { kind: 'fallback', reason: FALLBACK_REASONS.convInfo };
  }
  const last = info.dataFormat !== 'channelsFirst';
  const outShape: number[] = Array.from(info.inShape as number[]);
  const ins: number[] = dims === 2 ? [info.inHeight, info.inWidth] : [info.inDepth, info.inHeight, info.inWidth];
  const outs: number[] = dims === 2 ? [info.outHeight, info.outWidth] : [info.outDepth, info.outHeight, info.outWidth];
  const ks: number[] = dims === 2 ? [info.filterHeight, info.filterWidth] : [info.filterDepth, info.filterHeight, info.filterWidth];
  const ss: number[] = dims === 2 ? [info.strideHeight, info.strideWidth] : [info.strideDepth, info.strideHeight, info.strideWidth];
  const pad = info.padInfo;
  const befores: number[] = dims === 2 ? [pad.top, pad.left] : [pad.front, pad.top, pad.left];
  const batch: number = info.batchSize;
  const inC: number = info.inChannels;
  const outC: number = info.outChannels;
  if (filterShape[dims] !== inC) return { kind: 'fallback', reason: FALLBACK_REASONS.filterChannels };
  const withChannels = (spatial: number[], c: number) => (last ? [batch, ...spatial, c] : [batch, c, ...spatial]);
  // Nothing to compute, or nothing read: tfjs's loops leave every element 0.
  if (product(outShape) === 0 || outC <= 0 || outs.some((o) => o <= 0)) return { kind: 'zeros', outShape };
  const need = withChannels(outs, outC);
  if (need.some((n, i) => dyShape[i] < n)) return { kind: 'fallback', reason: FALLBACK_REASONS.dySmaller };
  const dyWindow = need.some((n, i) => dyShape[i] > n);

  const block: number[] = [];
  const starts: number[] = [];
  const pairs: Array<[number, number]> = [];
  for (let j = 0; j < dims; j++) {
    const s = ss[j];
    const k = ks[j];
    const out = outs[j];
    const skip = Math.max(0, -befores[j]); // leading dx rows no dy row reaches
    const before = Math.max(0, befores[j]);
    let size = ins[j] - skip;
    // TensorFlow's rule: out = floor((size + before + after - k) / s) + 1,
    // so after may be any of [low, low + s - 1].
    const low = (out - 1) * s + k - size - before;
    let after = Math.max(0, low);
    if (low + s - 1 < 0) {
      size = (out - 1) * s + k - before; // the trailing rows beyond are zero
      after = 0;
    }
    if (size <= 0) return { kind: 'zeros', outShape };
    block.push(size);
    starts.push(skip);
    pairs.push([before, after]);
  }
  const blockShape = withChannels(block, inC);
  const whole = blockShape.every((n, i) => n === outShape[i]);
  const zeroPair: [number, number] = [0, 0];
  const padding = last ? [zeroPair, ...pairs, zeroPair] : [zeroPair, zeroPair, ...pairs];
  const dataFormat = dims === 2 ? (last ? 'NHWC' : 'NCHW') : 'NDHWC';
  return {
    kind: 'core',
    outShape,
    dyShape: need,
    dyWindow,
    blockShape,
    blockOffsets: whole ? null : withChannels(starts, 0).map((v, i) => (i === 0 ? 0 : v)),
    strides: ss,
    padding,
    dataFormat,
    windowKey: `${ss.join(',')}|${pairs.map((p) => p.join(':')).join(',')}|${dataFormat}`,
  };
}

/**
 * Copies the block of `shape` elements that starts at srcOffsets in src
 * (row-major, srcShape) to dstOffsets in dst (dstShape).
 */
export function copyBlock(
  src: ArrayLike<number>, srcShape: readonly number[], srcOffsets: readonly number[],
  dst: Float32Array, dstShape: readonly number[], dstOffsets: readonly number[], shape: readonly number[]
): void {
  const rank = shape.length;
  if (product(shape) === 0) return;
  const srcStrides = new Array<number>(rank);
  const dstStrides = new Array<number>(rank);
  srcStrides[rank - 1] = 1;
  dstStrides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) {
    srcStrides[i] = srcStrides[i + 1] * srcShape[i + 1];
    dstStrides[i] = dstStrides[i + 1] * dstShape[i + 1];
  }
  const rowLen = shape[rank - 1];
  const typed = ArrayBuffer.isView(src) ? (src as unknown as Float32Array) : null;
  const walk = (dim: number, s: number, d: number): void => {
    if (dim === rank - 1) {
      const from = s + srcOffsets[dim];
      const to = d + dstOffsets[dim];
      if (typed) dst.set(typed.subarray(from, from + rowLen), to);
      else for (let i = 0; i < rowLen; i++) dst[to + i] = src[from + i];
      return;
    }
    for (let i = 0; i < shape[dim]; i++) {
      walk(dim + 1, s + (srcOffsets[dim] + i) * srcStrides[dim], d + (dstOffsets[dim] + i) * dstStrides[dim]);
    }
  };
  walk(0, 0, 0);
}
