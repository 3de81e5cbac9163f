// Normalises what JS callers pass into the plain form the core's planner
// takes: typed data with a dtype, integer lists, and strings. Only the form
// of each argument is checked here (is it a list of integers, does the data
// match the dtype); every rule of the op itself (ranks, lengths, layouts,
// padding, output_shape) is the core's, in src/plan.cc.

/* eslint-disable @typescript-eslint/no-explicit-any */

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16';
export type TypedData = Float32Array | Float64Array | Uint16Array;

/**
 * A tensor as this library takes it: data in row-major order plus its shape.
 * A plain array of numbers is float32 data (or float64 with dtype 'float64').
 */
export interface TensorLike {
  data: Float32Array | Float64Array | Uint16Array | readonly number[];
  shape: readonly number[];
  /** Defaults from the data: Float32Array -> float32, Float64Array -> float64, Float16Array -> float16. */
  dtype?: DType;
}

/** Inputs whose result is float32 (a Float32Array). */
export interface Float32TensorLike {
  data: Float32Array | readonly number[];
  shape: readonly number[];
  dtype?: 'float32';
}

/** Inputs whose result is float64 (a Float64Array). */
export type Float64TensorLike =
  | { data: Float64Array; shape: readonly number[]; dtype?: 'float64' }
  | { data: readonly number[]; shape: readonly number[]; dtype: 'float64' };

/** Inputs whose result is 16-bit float bits (a Uint16Array). */
export interface Bits16TensorLike {
  data: Uint16Array;
  shape: readonly number[];
  dtype: 'float16' | 'bfloat16';
}

/** A tfjs tensor (anything with shape, dtype and dataSync()). */
export interface TfjsTensorLike {
  shape: readonly number[];
  dtype: string;
  dataSync(): ArrayLike<number>;
}

/** A result (or a tensor as the library holds it): data is a Float32Array for float32, Float64Array for float64, Uint16Array of bits for float16/bfloat16. */
export interface Tensor<D extends TypedData = TypedData> {
  data: D;
  shape: number[];
  dtype: DType;
}

export type Padding = 'SAME' | 'VALID' | ReadonlyArray<readonly [number, number]>;
export type DataFormat = 'NWC' | 'NCW' | 'NHWC' | 'NCHW' | 'NDHWC' | 'NCDHW';
/** output_shape: a list of ints (a typed array of them), or a tfjs tensor holding it. */
export type OutputShape = readonly number[] | Int32Array | Uint32Array | Float64Array | Float32Array | TfjsTensorLike;
/** An int, or one per spatial dimension (or per dimension, as TensorFlow allows). */
export type Ints = number | readonly number[];

export const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, float16: 2, bfloat16: 3 };
export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

export class ArgumentError extends Error {}

// What a message quotes of a value is capped: a plain array of a whole
// tensor must not become a message of hundreds of kilobytes.
const QUOTE_CHARS = 100;
// The longest list an integer-list argument may be (shapes, strides,
// dilations, paddings: rank 5 at most); longer ones are refused before they
// are read, so a list claiming a huge length costs nothing.
const MAX_LIST = 64;

// The typed-array kind of a value from its internal slot, from any realm
// ('Float32Array', ...), or undefined when it is not a typed array. The
// %TypedArray%.prototype[Symbol.toStringTag] getter reads the slot, so an own
// Symbol.toStringTag, a forged constructor or a Proxy cannot change it.
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype);
const kindGetter = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, Symbol.toStringTag)!.get!;
const lengthGetter = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'length')!.get!;
const bufferGetter = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'buffer')!.get!;
export function typedArrayKind(v: unknown): string | undefined {
  return ArrayBuffer.isView(v) ? (kindGetter.call(v) as string | undefined) : undefined;
}
/** A typed array's element count from its internal slot (not a forgeable own `length`). */
export function typedLength(v: ArrayBufferView): number {
  return lengthGetter.call(v) as number;
}
/** Whether a typed array's buffer was transferred or detached (its data is gone). */
export function isDetached(v: ArrayBufferView): boolean {
  const buffer = bufferGetter.call(v) as ArrayBuffer;
  if (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function cap(s: string): string {
  return s.length <= QUOTE_CHARS ? s : s.slice(0, QUOTE_CHARS - 1) + '…';
}

// A value as a message quotes it, at most QUOTE_CHARS characters. Of the
// caller's objects it reads only an array's length and elements and an
// object's own keys (a Proxy's traps, getters may run there), and it stops
// reading elements once the text is long enough.
export function describe(v: unknown): string {
  return cap(describeRaw(v, 0));
}

function describeRaw(v: unknown, depth: number): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v.length > QUOTE_CHARS ? v.slice(0, QUOTE_CHARS) : v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') return 'a function';
  const kind = typedArrayKind(v);
  if (kind) return isDetached(v as ArrayBufferView) ? `${kind} (detached)` : `${kind}(${typedLength(v as ArrayBufferView)})`;
  if (Array.isArray(v)) {
    if (depth > 2) return '[...]';
    const n = v.length;
    let out = '[';
    for (let i = 0; i < n && out.length <= QUOTE_CHARS; i++) out += (i ? ', ' : '') + describeRaw(v[i], depth + 1);
    return out + ']';
  }
  const tag = Object.prototype.toString.call(v);
  if (tag === '[object Object]') {
    const keys = Object.keys(v as object);
    return keys.length ? `an object with keys ${keys.slice(0, 8).join(', ')}` : 'an empty object';
  }
  return tag;
}

function fail(name: string, message: string): never {
  throw new ArgumentError(`${name}: ${message}`);
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

// A copy of a list argument: each element read once (a Proxy or a getter
// sees one read per element), or null when the value is not an array or a
// typed array. Too long a list fails before any element is read.
function copyList(name: string, arg: string, value: unknown): unknown[] | null {
  const kind = typedArrayKind(value);
  if (kind) {
    const t = value as ArrayBufferView;
    if (typedLength(t) > MAX_LIST) fail(name, `${arg} has ${typedLength(t)} elements; it must be a short list (at most ${MAX_LIST}). Received: ${arg}=${describe(value)}`);
    return Array.from(value as ArrayLike<number>);
  }
  if (!Array.isArray(value)) return null;
  const n = value.length;
  if (!(n <= MAX_LIST)) fail(name, `${arg} has ${n} elements; it must be a short list (at most ${MAX_LIST}). Received: ${arg}=${describe(value)}`);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(value[i]);
  return out;
}

/**
 * A list of integers, or an int (to a one-element list); null/undefined to [].
 * The value is read once into a copy, and only the copy is checked and used.
 */
export function intList(name: string, arg: string, value: unknown, allowScalar: boolean): number[] {
  if (value === null || value === undefined) return [];
  const rule = `${arg} must be ${allowScalar ? 'an int or ' : ''}a list of ints`;
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (!allowScalar || !isInt(value)) fail(name, `${rule}. Received: ${arg}=${describe(value)}`);
    return [value];
  }
  const list = copyList(name, arg, value);
  if (!list) {
    const hint = describeRaw(value, 0).startsWith('an object with keys')
      ? ' (convTranspose takes its arguments in order: input, filters, outputShape, strides, padding, ...; options objects are for createConvTranspose)'
      : '';
    fail(name, `${rule}${hint}. Received: ${arg}=${describe(value)}`);
  }
  const bad = list.findIndex((x) => !isInt(x));
  if (bad >= 0) fail(name, `${rule}; element ${bad} is ${describe(list[bad])}. Received: ${arg}=${describe(list)}`);
  return list as number[];
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

function asDType(v: unknown): DType | undefined {
  return DTYPES.find((d) => d === v);
}

// The elements of a plain array as a new typed array of `dtype`, each read
// once; anything but a number is refused (no coercion of strings, null,
// nested arrays).
function fromPlainArray(name: string, arg: string, data: unknown[], dtype: 'float32' | 'float64'): TypedData {
  const n = data.length;
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = data[i];
    if (typeof e !== 'number') fail(name, `${arg} must hold numbers only; element ${i} is ${describe(e)}`);
    out[i] = e;
  }
  return out;
}

/**
 * Unwraps a TensorLike or a tfjs tensor into typed data of a known dtype.
 * Each property is read once; typed arrays are recognised by their real
 * kind, from any realm. The data is not copied (a plain array is, into a
 * typed array); the shape is.
 */
export function toTensor(name: string, arg: string, value: unknown): Tensor {
  if (value === null || typeof value !== 'object') {
    fail(name, `${arg} must be a tensor { data, shape, dtype? } or a tfjs tensor. Received: ${arg}=${describe(value)}`);
  }
  const v = value as any;
  const dataSync = v.dataSync;
  const dtypeGiven: unknown = v.dtype;
  const data: unknown = typeof dataSync === 'function' ? dataSync.call(v) : v.data;
  const shapeValue: unknown = v.shape;
  if (shapeValue === undefined || shapeValue === null) fail(name, `${arg}.shape is missing: give the tensor's shape, e.g. { data, shape: [1, 4, 4, 8] }`);
  const shape = intList(name, `${arg}.shape`, shapeValue, false);
  const kind = typedArrayKind(data);

  let dt: DType;
  if (dtypeGiven === undefined) {
    if (kind === 'Float32Array') dt = 'float32';
    else if (kind === 'Float64Array') dt = 'float64';
    else if (kind === 'Float16Array') dt = 'float16';
    else if (kind === 'Uint16Array') {
      fail(name, `${arg}.data is a Uint16Array: give ${arg}.dtype 'float16' or 'bfloat16' to say what its bits are`);
    } else if (Array.isArray(data)) dt = 'float32';
    else {
      fail(name, `${arg}.data must be a Float32Array, Float64Array or Uint16Array (float16/bfloat16 bits). Received: ${arg}.data=${describe(data)}`);
    }
  } else {
    const d = asDType(dtypeGiven);
    if (!d) fail(name, `${arg}.dtype must be 'float32', 'float64', 'float16' or 'bfloat16'. Received: ${arg}.dtype=${describe(dtypeGiven)}`);
    dt = d;
  }
  let typed: TypedData;
  if (dt === 'float32' && kind === 'Float32Array') typed = data as Float32Array;
  else if (dt === 'float64' && kind === 'Float64Array') typed = data as Float64Array;
  else if ((dt === 'float16' || dt === 'bfloat16') && kind === 'Uint16Array') typed = data as Uint16Array;
  else if (dt === 'float16' && kind === 'Float16Array') {
    const f = data as any as Uint16Array;
    typed = new Uint16Array(bufferGetter.call(f), f.byteOffset, typedLength(f));
  } else if ((dt === 'float32' || dt === 'float64') && Array.isArray(data)) {
    typed = fromPlainArray(name, `${arg}.data`, data, dt);
  } else {
    const want = dt === 'float32' ? 'Float32Array' : dt === 'float64' ? 'Float64Array' : 'Uint16Array of raw bits';
    fail(name, `${arg}.data must be a ${want} for dtype '${dt}'. Received: ${arg}.data=${describe(data)}`);
  }
  if (kind && isDetached(typed)) {
    fail(name, `${arg}.data's buffer is detached (transferred to a worker or elsewhere): its values are gone. Received: ${arg}.data=${describe(data)}`);
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

/**
 * The window options (strides, padding, data format, dilations) as plain
 * lists and strings: each read once into a copy that is checked and used.
 */
export function windowArgs(name: string, o: WindowOptions): WindowArgs {
  const { strides, dilations, dataFormat: format } = o;
  let padding = '';
  let paddingIsList = false;
  const explicitPaddings: number[] = [];
  const p = o.padding === undefined || o.padding === null ? 'SAME' : o.padding;
  if (typeof p === 'string') {
    padding = p.length > QUOTE_CHARS ? cap(p) : p;
  } else {
    const pairs = Array.isArray(p) ? copyList(name, 'padding', p) : null;
    if (!pairs) fail(name, `padding must be 'SAME', 'VALID' or a list of [before, after] pairs. Received: padding=${describe(p)}`);
    paddingIsList = true;
    pairs.forEach((pair, i) => {
      const two = Array.isArray(pair) ? copyList(name, `padding[${i}]`, pair) : null;
      if (!two || two.length !== 2 || !two.every(isInt)) {
        fail(name, `padding, when a list, must hold [before, after] pairs of ints; element ${i} is ${describe(two ?? pair)}. Received: padding=${describe(pairs)}`);
      }
      explicitPaddings.push(two[0] as number, two[1] as number);
    });
  }
  let dataFormat = '';
  if (format !== null && format !== undefined) {
    if (typeof format !== 'string') fail(name, `data_format must be a string or null. Received: data_format=${describe(format)}`);
    dataFormat = format.length > QUOTE_CHARS ? cap(format) : format;
  }
  return {
    strides: strides === null || strides === undefined ? null : intList(name, 'strides', strides, true),
    dilations: dilations === null || dilations === undefined ? null : intList(name, 'dilations', dilations, true),
    padding,
    paddingIsList,
    explicitPaddings,
    dataFormat,
  };
}

/** output_shape as a list of ints (a list, a typed array or a tfjs tensor), read once. */
export function outputShapeList(name: string, outputShape: unknown): number[] {
  if (outputShape === null || outputShape === undefined) fail(name, 'output_shape must be given: a list of ints');
  const dataSync = typeof outputShape === 'object' ? (outputShape as any).dataSync : undefined;
  if (typeof dataSync === 'function') {
    return intList(name, 'output_shape', Array.from(dataSync.call(outputShape) as ArrayLike<number>), false);
  }
  return intList(name, 'output_shape', outputShape, false);
}

/** The op's name for messages: a string, or 'conv_transpose' when null/undefined. */
export function opNameOf(name: unknown): string {
  if (name === null || name === undefined) return 'conv_transpose';
  if (typeof name === 'string') return name.length > QUOTE_CHARS ? cap(name) : name;
  fail('conv_transpose', `name must be a string or null. Received: name=${describe(name)}`);
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

/** A prepared operator's filter-only arguments: [filter_shape] window [dtype], then `tail` (the layer options, layer-args.ts). */
export function encodeFilterArgs(filterShape: readonly number[], w: WindowArgs, dtype: DType, tail: readonly number[]): Float64Array {
  const out: number[] = [];
  pushList(out, filterShape);
  pushWindow(out, w);
  out.push(DTYPE_CODE[dtype], ...tail);
  return Float64Array.from(out);
}
