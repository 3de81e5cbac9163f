// convTranspose2d with the W3C WebNN API's options and rules
// (https://www.w3.org/TR/webnn/#api-mlgraphbuilder-convtranspose2d):
// WebNN's validation steps are checked here, in its terms (options.padding,
// options.outputSizes, ...), and the call is restated as the prepared
// tf.nn.conv_transpose of index.ts: filters into TensorFlow's layout
// [kh, kw, out/groups, in], the input layout as a data format, padding as
// explicit [before, after] pairs, the output shape from WebNN's formula.
//
// Both ops place input i through tap k at output o = i * stride +
// k * dilation - beginPadding, so the explicit form carries WebNN's padding
// unchanged; outputPadding (or outputSizes) only lengthens the output at the
// end, which TensorFlow's rule allows for any extra below the stride.

import { ArgumentError, describe, intList, toTensor, typedLength } from './args.js';
import type { Bits16TensorLike, DType, Float32TensorLike, Float64TensorLike, Tensor, TensorLike, TypedData } from './args.js';
import { createConvTranspose } from './index.js';
import type { Activation } from './layer-args.js';

export type InputLayout = 'nchw' | 'nhwc';
/** WebNN's filter layouts: i = input channels, o = output channels / groups. */
export type FilterLayout = 'iohw' | 'hwoi' | 'ohwi';

/** WebNN's MLConvTranspose2dOptions, plus `activation`. */
export interface ConvTranspose2dOptions {
  /** [beginHeight, endHeight, beginWidth, endWidth]; default [0, 0, 0, 0]. */
  padding?: readonly number[];
  /** [strideHeight, strideWidth]; default [1, 1]. */
  strides?: readonly number[];
  /** [dilationHeight, dilationWidth]; default [1, 1]. */
  dilations?: readonly number[];
  /** Added to the computed output height and width, each below its stride; default [0, 0]. */
  outputPadding?: readonly number[];
  /** [height, width] of the output; when given, outputPadding is ignored. */
  outputSizes?: readonly number[];
  /** Input and output channels split into this many independent convolutions; default 1. */
  groups?: number;
  /** Default 'nchw'. */
  inputLayout?: InputLayout;
  /** Default 'iohw': [inputChannels, outputChannels / groups, height, width]. */
  filterLayout?: FilterLayout;
  /** [outputChannels] values added to each output channel. */
  bias?: TensorLike;
  /** Applied to each output value after the bias (this library's extension to WebNN); see createConvTranspose. */
  activation?: Activation;
  /** Starts every error message (default 'convTranspose2d'). */
  label?: string;
}

const OP = 'convTranspose2d';
const MAX_UNSIGNED_LONG = 2 ** 32 - 1;
const INPUT_LAYOUTS: readonly InputLayout[] = ['nchw', 'nhwc'];
const FILTER_LAYOUTS: readonly FilterLayout[] = ['iohw', 'hwoi', 'ohwi'];

function fail(name: string, message: string): never {
  throw new ArgumentError(`${name}: ${message}`);
}

function list(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}

// An unsigned-long list option (WebNN's sequence<[EnforceRange] unsigned
// long>) of `length` entries, read once; `fallback` when not given.
function unsignedList(name: string, option: string, value: unknown, length: number, fallback: number[] | null, what: string): number[] | null {
  if (value === undefined) return fallback;
  const arg = `options.${option}`;
  const v = intList(name, arg, value, false);
  if (v.length !== length) fail(name, `${arg} must have ${length} entries ${what}. Received: ${arg}=${list(v)}`);
  const bad = v.findIndex((x) => x < 0 || x > MAX_UNSIGNED_LONG);
  if (bad >= 0) fail(name, `${arg} must hold unsigned integers (0 to 2^32 - 1); entry ${bad} is ${v[bad]}. Received: ${arg}=${list(v)}`);
  return v;
}

function oneOf<T extends string>(name: string, option: string, value: unknown, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) fail(name, `options.${option} must be ${allowed.map((a) => `'${a}'`).join(' or ')}. Received: options.${option}=${describe(value)}`);
  return found;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const ARRAY_TYPE: Record<DType, new (n: number) => TypedData> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
};

// The filters in TensorFlow's layout for the transposed convolution,
// [kh, kw, out/groups, in], which is WebNN's 'hwoi': the data as it is for
// 'hwoi', a transposed copy for the others.
function filtersToHwoi(w: Tensor, layout: FilterLayout): Tensor {
  if (layout === 'hwoi') return w;
  const axis = (c: string) => layout.indexOf(c);
  const [H, W, O, I] = ['h', 'w', 'o', 'i'].map((c) => w.shape[axis(c)]);
  const stride = [1, 1, 1, 1];
  for (let d = 2; d >= 0; d--) stride[d] = stride[d + 1] * w.shape[d + 1];
  const [sh, sw, so, si] = ['h', 'w', 'o', 'i'].map((c) => stride[axis(c)]);
  const src = w.data;
  const out = new ARRAY_TYPE[w.dtype](src.length);
  let at = 0;
  for (let h = 0; h < H; h++) {
    for (let x = 0; x < W; x++) {
      for (let o = 0; o < O; o++) {
        const base = h * sh + x * sw + o * so;
        for (let i = 0; i < I; i++) out[at++] = src[base + i * si];
      }
    }
  }
  return { data: out, shape: [H, W, O, I], dtype: w.dtype };
}

/**
 * WebNN's convTranspose2d: a 2-D transposed convolution of a 4-D input
 * ('nchw' or 'nhwc') with 4-D filters ('iohw', 'hwoi' or 'ohwi'), WebNN's
 * defaults and validation; errors are ArgumentErrors. The output's spatial
 * sizes are (in - 1) * stride + (k - 1) * dilation + 1 - padBegin - padEnd
 * + outputPadding, or options.outputSizes. Returns the input's dtype
 * (float16 as Uint16Array bits).
 */
export function convTranspose2d(input: Float32TensorLike, filter: TensorLike, options?: ConvTranspose2dOptions): Tensor<Float32Array>;
export function convTranspose2d(input: Float64TensorLike, filter: TensorLike, options?: ConvTranspose2dOptions): Tensor<Float64Array>;
export function convTranspose2d(input: Bits16TensorLike, filter: TensorLike, options?: ConvTranspose2dOptions): Tensor<Uint16Array>;
export function convTranspose2d(input: TensorLike, filter: TensorLike, options?: ConvTranspose2dOptions): Tensor;
export function convTranspose2d(input: TensorLike, filter: TensorLike, options: ConvTranspose2dOptions = {}): Tensor {
  if (options === null || typeof options !== 'object') fail(OP, `options must be an object (MLConvTranspose2dOptions). Received: options=${describe(options)}`);
  // Each option read once, here; only these copies are checked and used.
  const { padding, strides, dilations, outputPadding, outputSizes, groups, inputLayout, filterLayout, bias, activation, label } = options;
  if (label !== undefined && typeof label !== 'string') fail(OP, `options.label must be a string. Received: options.label=${describe(label)}`);
  const name = label || OP;

  const x = toTensor(name, 'input', input);
  if (x.shape.length !== 4) fail(name, `input must have rank 4. Received: input.shape=${list(x.shape)}`);
  const w = toTensor(name, 'filter', filter);
  if (w.shape.length !== 4) fail(name, `filter must have rank 4. Received: filter.shape=${list(w.shape)}`);
  if (w.dtype !== x.dtype) fail(name, `filter.dtype must be the input's, ${x.dtype}. Received: filter.dtype=${w.dtype}`);

  const pad = unsignedList(name, 'padding', padding, 4, [0, 0, 0, 0], '[beginHeight, endHeight, beginWidth, endWidth]')!;
  const stride = unsignedList(name, 'strides', strides, 2, [1, 1], '[strideHeight, strideWidth]')!;
  if (stride.includes(0)) fail(name, `options.strides must not be 0. Received: options.strides=${list(stride)}`);
  const dilation = unsignedList(name, 'dilations', dilations, 2, [1, 1], '[dilationHeight, dilationWidth]')!;
  if (dilation.includes(0)) fail(name, `options.dilations must not be 0. Received: options.dilations=${list(dilation)}`);
  const outPad = unsignedList(name, 'outputPadding', outputPadding, 2, [0, 0], '[height, width]')!;
  const sizes = unsignedList(name, 'outputSizes', outputSizes, 2, null, '[height, width]');
  if (!sizes && (outPad[0] >= stride[0] || outPad[1] >= stride[1])) {
    fail(name, `options.outputPadding must be less than options.strides in each dimension. Received: options.outputPadding=${list(outPad)}, options.strides=${list(stride)}`);
  }
  const g = groups ?? 1;
  if (typeof g !== 'number' || !Number.isInteger(g) || g < 1 || g > MAX_UNSIGNED_LONG) {
    fail(name, `options.groups must be an integer of at least 1. Received: options.groups=${describe(groups)}`);
  }
  const inLayout = inputLayout === undefined ? 'nchw' : oneOf(name, 'inputLayout', inputLayout, INPUT_LAYOUTS);
  const fLayout = filterLayout === undefined ? 'iohw' : oneOf(name, 'filterLayout', filterLayout, FILTER_LAYOUTS);

  const [batches, inChannels, inHeight, inWidth] = inLayout === 'nchw' ? x.shape : [x.shape[0], x.shape[3], x.shape[1], x.shape[2]];
  const filterDim = (c: string) => w.shape[fLayout.indexOf(c)];
  const [filterIn, filterOut, filterHeight, filterWidth] = ['i', 'o', 'h', 'w'].map(filterDim);
  if (inChannels !== filterIn) {
    fail(name, `the input's channels (${inChannels}, inputLayout '${inLayout}') must equal the filter's input channels (${filterIn}, filterLayout '${fLayout}'). ` +
      `Received: input.shape=${list(x.shape)}, filter.shape=${list(w.shape)}`);
  }
  // WebNN's steps do not say it, but groups split the input channels too.
  if (inChannels % g !== 0) fail(name, `options.groups must divide the input's channels, ${inChannels}. Received: options.groups=${g}`);
  const outChannels = filterOut * g;

  let b: Tensor | undefined;
  if (bias !== undefined) {
    b = toTensor(name, 'options.bias', bias);
    if (b.shape.length !== 1 || b.shape[0] !== outChannels) {
      fail(name, `options.bias.shape must be [outputChannels] = [${outChannels}] (filter output channels ${filterOut} x groups ${g}). Received: options.bias.shape=${list(b.shape)}`);
    }
    if (b.dtype !== x.dtype) fail(name, `options.bias.dtype must be the input's, ${x.dtype}. Received: options.bias.dtype=${b.dtype}`);
  }

  const spatial = [
    { dim: 'height', index: 0, input: inHeight, filter: filterHeight, begin: pad[0], end: pad[1] },
    { dim: 'width', index: 1, input: inWidth, filter: filterWidth, begin: pad[2], end: pad[3] },
  ];
  const outSize = spatial.map((s) => {
    const s0 = stride[s.index];
    const d0 = dilation[s.index];
    const calculated = (s.input - 1) * s0 + (s.filter - 1) * d0 + 1 - s.begin - s.end;
    const formula = `(${s.input} - 1) * ${s0} + (${s.filter} - 1) * ${d0} + 1 - ${s.begin} - ${s.end} = ${calculated}`;
    let size = calculated + outPad[s.index];
    if (sizes) {
      size = sizes[s.index];
      if (size < calculated || size >= calculated + s0) {
        fail(name, `options.outputSizes[${s.index}] (the ${s.dim}) must be in [${calculated}, ${calculated + s0 - 1}]: ` +
          `(input - 1) * stride + (filter - 1) * dilation + 1 - padBegin - padEnd = ${formula}, plus less than the stride. Received: options.outputSizes=${list(sizes)}`);
      }
    }
    if (size < 1) {
      fail(name, `the output ${s.dim} must be at least 1, but (input - 1) * stride + (filter - 1) * dilation + 1 - padBegin - padEnd = ${formula}` +
        `${sizes ? '' : ` and options.outputPadding[${s.index}] = ${outPad[s.index]}`}: the padding is too large. Received: options.padding=${list(pad)}`);
    }
    return size;
  });
  const outputShape = inLayout === 'nchw' ? [batches, outChannels, ...outSize] : [batches, ...outSize, outChannels];

  if (typedLength(w.data) !== product(w.shape)) {
    fail(name, `filter.data has ${typedLength(w.data)} elements but filter.shape=${list(w.shape)} needs ${product(w.shape)}`);
  }
  const tfFilters = filtersToHwoi(w, fLayout);
  const hw: Array<[number, number]> = [[pad[0], pad[1]], [pad[2], pad[3]]];
  const op = createConvTranspose(tfFilters, {
    strides: stride,
    dilations: dilation,
    padding: inLayout === 'nchw' ? [[0, 0], [0, 0], ...hw] : [[0, 0], ...hw, [0, 0]],
    dataFormat: inLayout === 'nchw' ? 'NCHW' : 'NHWC',
    name,
    groups: g,
    bias: b,
    activation,
  });
  try {
    return op.run(x, outputShape);
  } finally {
    op.dispose();
  }
}
