// Normalises what JS callers pass into the plain form the core's planner
// takes: typed data with a dtype, integer lists, and strings. Only the form
// of each argument is checked here (is it a list of integers, does the data
// match the dtype); every rule of the op itself (ranks, lengths, layouts,
// padding, output_shape) is the core's, in src/plan.cc.

/* eslint-disable @typescript-eslint/no-explicit-any */

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16';
export type TypedData = Float32Array | Float64Array | Uint16Array;

/** A tensor as this library takes it: data in row-major order plus its shape. */
export interface TensorLike {
  data: Float32Array | Float64Array | Uint16Array | ArrayLike<number>;
  shape: readonly number[];
  /** Defaults from the data: Float32Array -> float32, Float64Array -> float64, Float16Array -> float16. */
  dtype?: DType;
}

/** A tfjs tensor (anything with shape, dtype and dataSync()). */
export interface TfjsTensorLike {
  shape: readonly number[];
  dtype: string;
  dataSync(): ArrayLike<number>;
}

export interface Tensor {
  data: TypedData;
  shape: number[];
  dtype: DType;
}

export const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, float16: 2, bfloat16: 3 };
export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

export class ArgumentError extends Error {}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as any).length})`;
  return Object.prototype.toString.call(v);
}

function fail(name: string, message: string): never {
  throw new ArgumentError(`${name}: ${message}`);
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

/** A list of integers, or an int (to a one-element list); null/undefined to []. */
export function intList(name: string, arg: string, value: unknown, allowScalar: boolean): number[] {
  if (value === null || value === undefined) return [];
  if (allowScalar && typeof value === 'number') {
    if (!isInt(value)) fail(name, `${arg} must be an int or a list of ints. Received: ${arg}=${describe(value)}`);
    return [value];
  }
  const list = ArrayBuffer.isView(value) ? Array.from(value as any as ArrayLike<number>) : value;
  if (!Array.isArray(list) || !list.every(isInt)) {
    fail(name, `${arg} must be ${allowScalar ? 'an int or ' : ''}a list of ints. Received: ${arg}=${describe(value)}`);
  }
  return list.slice();
}

function isFloat16Array(data: unknown): boolean {
  const F16 = (globalThis as any).Float16Array;
  return typeof F16 === 'function' && data instanceof F16;
}

/** Unwraps a TensorLike or a tfjs tensor into typed data of a known dtype. */
export function toTensor(name: string, arg: string, value: unknown): Tensor {
  if (value === null || typeof value !== 'object') {
    fail(name, `${arg} must be a tensor { data, shape, dtype? } or a tfjs tensor. Received: ${arg}=${describe(value)}`);
  }
  const v = value as any;
  let data: unknown;
  let dtype: string | undefined = v.dtype;
  if (typeof v.dataSync === 'function') {
    data = v.dataSync();
  } else {
    data = v.data;
  }
  const shape = intList(name, `${arg}.shape`, v.shape, false);
  if (v.shape === undefined || v.shape === null) fail(name, `${arg}.shape is missing`);

  if (dtype === undefined) {
    if (data instanceof Float32Array) dtype = 'float32';
    else if (data instanceof Float64Array) dtype = 'float64';
    else if (isFloat16Array(data)) dtype = 'float16';
    else if (data instanceof Uint16Array) {
      fail(name, `${arg}.data is a Uint16Array: give ${arg}.dtype 'float16' or 'bfloat16' to say what its bits are`);
    } else {
      fail(name, `${arg}.data must be a Float32Array, Float64Array or Uint16Array (float16/bfloat16 bits). Received: ${describe(data)}`);
    }
  }
  if (!(dtype in DTYPE_CODE)) {
    fail(name, `${arg}.dtype must be 'float32', 'float64', 'float16' or 'bfloat16'. Received: ${arg}.dtype=${describe(dtype)}`);
  }
  const dt = dtype as DType;
  let typed: TypedData;
  if (dt === 'float32' && data instanceof Float32Array) typed = data;
  else if (dt === 'float64' && data instanceof Float64Array) typed = data;
  else if ((dt === 'float16' || dt === 'bfloat16') && data instanceof Uint16Array) typed = data;
  else if (dt === 'float16' && isFloat16Array(data)) {
    const f = data as any as Uint16Array;
    typed = new Uint16Array(f.buffer, f.byteOffset, f.length);
  } else if ((dt === 'float32' || dt === 'float64') && Array.isArray(data)) {
    typed = dt === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
  } else {
    const want = dt === 'float32' ? 'Float32Array' : dt === 'float64' ? 'Float64Array' : 'Uint16Array of raw bits';
    fail(name, `${arg}.data must be a ${want} for dtype '${dt}'. Received: ${arg}.data=${describe(data)}`);
  }
  return { data: typed, shape, dtype: dt };
}

/** The window options in the core's form (semantics/plan.h WindowArgs). */
export interface WindowArgs {
  strides: number[] | null;   // null: not given (1 everywhere, as TensorFlow's None)
  dilations: number[] | null;
  padding: string;
  paddingIsList: boolean;
  explicitPaddings: number[];
  dataFormat: string;
}

/** Every argument of one call in the core's form (semantics/plan.h ConvTransposeArgs). */
export interface CoreArgs extends WindowArgs {
  name: string;
  inputShape: number[];
  filterShape: number[];
  outputShape: number[];
  inputDtype: number;
  filterDtype: number;
}

export interface WindowOptions {
  strides: unknown;
  padding: unknown;
  dataFormat: unknown;
  dilations: unknown;
}

/** The window options (strides, padding, data format, dilations) as plain lists and strings. */
export function windowArgs(name: string, o: WindowOptions): WindowArgs {
  let padding = '';
  let paddingIsList = false;
  const explicitPaddings: number[] = [];
  const p = o.padding === undefined || o.padding === null ? 'SAME' : o.padding;
  if (typeof p === 'string') {
    padding = p;
  } else if (Array.isArray(p)) {
    paddingIsList = true;
    p.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(isInt)) {
        fail(name, `padding, when a list, must hold [before, after] pairs of ints; element ${i} is ${describe(pair)}. Received: padding=${describe(p)}`);
      }
      explicitPaddings.push(pair[0], pair[1]);
    });
  } else {
    fail(name, `padding must be 'SAME', 'VALID' or a list of [before, after] pairs. Received: padding=${describe(p)}`);
  }
  let dataFormat = '';
  if (o.dataFormat !== null && o.dataFormat !== undefined) {
    if (typeof o.dataFormat !== 'string') fail(name, `data_format must be a string or null. Received: data_format=${describe(o.dataFormat)}`);
    dataFormat = o.dataFormat;
  }
  return {
    strides: o.strides === null || o.strides === undefined ? null : intList(name, 'strides', o.strides, true),
    dilations: o.dilations === null || o.dilations === undefined ? null : intList(name, 'dilations', o.dilations, true),
    padding,
    paddingIsList,
    explicitPaddings,
    dataFormat,
  };
}

/** output_shape as a list of ints (a list, a typed array or a tfjs tensor). */
export function outputShapeList(name: string, outputShape: unknown): number[] {
  if (outputShape !== null && typeof outputShape === 'object' && typeof (outputShape as any).dataSync === 'function') {
    return intList(name, 'output_shape', Array.from((outputShape as any).dataSync() as ArrayLike<number>), false);
  }
  const list = intList(name, 'output_shape', outputShape, false);
  if (outputShape === null || outputShape === undefined) fail(name, 'output_shape must be given: a list of ints');
  return list;
}

/** The argument object for the core's planner (PlannedCall in bindings/). */
export function coreArgs(name: string, input: Tensor, filters: Tensor, outputShape: number[], w: WindowArgs): CoreArgs {
  return {
    name,
    inputShape: input.shape,
    filterShape: filters.shape,
    outputShape,
    strides: w.strides,
    dilations: w.dilations,
    padding: w.padding,
    paddingIsList: w.paddingIsList,
    explicitPaddings: w.explicitPaddings,
    dataFormat: w.dataFormat,
    inputDtype: DTYPE_CODE[input.dtype],
    filterDtype: DTYPE_CODE[filters.dtype],
  };
}

// The numeric arguments cross into the core as one Float64Array, in the
// order bindings/ reads them: lists as [length, values...], a list not
// given as -1.
function pushList(out: number[], v: readonly number[]): void {
  out.push(v.length);
  for (const x of v) out.push(x);
}

function pushWindow(out: number[], w: WindowArgs): void {
  if (w.strides === null) out.push(-1);
  else pushList(out, w.strides);
  if (w.dilations === null) out.push(-1);
  else pushList(out, w.dilations);
  out.push(w.paddingIsList ? 1 : 0);
  pushList(out, w.explicitPaddings);
}

/** A one-call's arguments: [input_shape] [filter_shape] [output_shape] window [input_dtype] [filter_dtype]. */
export function encodeArgs(a: CoreArgs): Float64Array {
  const out: number[] = [];
  pushList(out, a.inputShape);
  pushList(out, a.filterShape);
  pushList(out, a.outputShape);
  pushWindow(out, a);
  out.push(a.inputDtype, a.filterDtype);
  return Float64Array.from(out);
}

/** A prepared operator's filter-only arguments: [filter_shape] window [dtype]. */
export function encodeFilterArgs(filterShape: readonly number[], w: WindowArgs, dtype: DType): Float64Array {
  const out: number[] = [];
  pushList(out, filterShape);
  pushWindow(out, w);
  out.push(DTYPE_CODE[dtype]);
  return Float64Array.from(out);
}
