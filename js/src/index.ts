// conv-transpose-wasm: TensorFlow's tf.nn.conv_transpose in WebAssembly.
//
//   await init();
//   const y = convTranspose(input, filters, outputShape, strides, 'SAME');
//
// This file marshals: it turns arguments into the core's form (args.ts),
// asks the core to plan the call (sizes and every error come from there,
// before anything is allocated), copies the tensors into wasm memory, runs,
// copies the result out, and frees every allocation on every path. Errors
// are thrown from the core's Status: an ArgumentError for an invalid
// argument, an Error otherwise.

import { ArgumentError, coreArgs, describe, DTYPE_BYTES, DTYPE_CODE, encodeArgs, encodeFilterArgs, isDetached, opNameOf, outputShapeList, toTensor, typedArrayKind, typedLength, windowArgs } from './args.js';
import type { Bits16TensorLike, DataFormat, DType, Float32TensorLike, Float64TensorLike, Ints, OutputShape, Padding, Tensor, TensorLike, TfjsTensorLike, WindowArgs } from './args.js';
import { layerArgs, pushLayer } from './layer-args.js';
import type { Activation, Bias } from './layer-args.js';
import { applyFusedMultiplyAdd, boundThreads, loadModule, unrefWorkers } from './loader.js';
import { createWasmTensorIn, residentPtr, wasmTensorEntry } from './wasm-tensor.js';
import type { WasmTensor } from './wasm-tensor.js';
import type { CoreModule, CoreStatus, HeapStats, InitOptions, InitResult, PreparedOp } from './loader.js';

export type { DType, Tensor, TensorLike, Float32TensorLike, Float64TensorLike, Bits16TensorLike, TfjsTensorLike, InitOptions, InitResult, HeapStats };
export { ArgumentError };
export type { Backend } from './loader.js';
export { convTransposeAsync, initWorker, terminateWorker } from './async.js';
export type { AsyncLayerOptions, WorkerOptions } from './async.js';
import { preparedForTfjsFilters } from './tfjs.js';
export { registerTfjsKernels, FALLBACK_REASONS } from './tfjs.js';
export type { RegisterTfjsKernelsOptions, TfjsKernelRegistration, TfjsKernelStats, TfjsNamespace, FilterCacheStats } from './tfjs.js';
export * from './webnn-api.js';

export type { Padding, DataFormat, OutputShape, Ints };
export type { Activation, ActivationName, Bias } from './layer-args.js';
export type { WasmTensor } from './wasm-tensor.js';

let core: CoreModule | null = null;
let initResult: InitResult | null = null;
let loading: Promise<InitResult> | null = null;

/**
 * Loads the wasm module. Resolves to the build it chose: the SIMD + threads
 * build where SharedArrayBuffer is available, else single-threaded SIMD.
 * Calling it again returns the same result; pass numThreads to change the
 * thread count of a loaded threaded build, up to the maxThreads it was
 * loaded with (workers cannot be added while a call blocks on them).
 */
export function init(options: InitOptions = {}): Promise<InitResult> {
  if (core && initResult) {
    const { numThreads, backend, fusedMultiplyAdd } = options ?? {};
    if (backend !== undefined && backend !== initResult.backend) {
      return Promise.reject(new Error(`conv-transpose-wasm: init({ backend: ${describe(backend)} }) after the ${initResult.backend} build was loaded; ` +
        'a process loads one build: pass the same backend to every init() call, or none'));
    }
    if (numThreads !== undefined && initResult.backend !== 'wasm-simd') {
      let threads: number;
      try {
        threads = boundThreads(numThreads);
      } catch (e) {
        return Promise.reject(e);
      }
      core.setNumThreads(Math.min(threads, initResult.maxThreads));
      unrefWorkers(core);
      initResult = { ...initResult, threads: core.numThreads() };
    }
    if (fusedMultiplyAdd !== undefined && initResult.backend === 'wasm-relaxed-simd-threads') {
      try {
        initResult = { ...initResult, fusedMultiplyAdd: applyFusedMultiplyAdd(core, fusedMultiplyAdd) };
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return Promise.resolve(initResult);
  }
  // A call while the module loads gets its own options once it has loaded
  // (a different numThreads is applied then, a different backend refused),
  // not silently the first caller's.
  if (loading) return loading.then(() => init(options));
  loading = loadModule(options).then(
    ({ mod, result }) => {
      core = mod;
      initResult = result;
      return result;
    },
    (err) => {
      loading = null;
      throw err;
    }
  );
  return loading;
}

/** Wasm memory figures (for leak checks and memory reports); init() first. */
export function heapStats(): HeapStats {
  return loadedCore('heapStats').heapStats();
}

/**
 * A tensor of `shape` and `dtype` in the module's WebAssembly memory
 * (uninitialised). Passed as a run's input, or as its `output` option,
 * it is read or written in place: no copy into or out of wasm memory.
 * Its `data` is a fresh view each time it is read (memory may grow during
 * any call): fill it, run, then read `data` again. dispose() frees it.
 */
export function createWasmTensor(shape: readonly number[], dtype: DType = 'float32'): WasmTensor {
  const mod = loadedCore('createWasmTensor');
  return createWasmTensorIn({ malloc: (n) => mod._malloc(n), free: (p) => mod._free(p), buffer: () => heap(mod) }, shape, dtype);
}

/** What init() chose, or null before it has resolved. */
export function backendInfo(): InitResult | null {
  return initResult;
}

function heap(mod: CoreModule): ArrayBuffer {
  // With pthreads and memory growth the buffer can be replaced by any
  // allocation: always take the current one, never keep a view.
  return (mod.wasmMemory ? mod.wasmMemory.buffer : mod.HEAPU8.buffer) as ArrayBuffer;
}

// Each dtype's array type: of tensor data in wasm memory, of results, and of
// the output arrays callers pass.
const ARRAY_TYPE = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
} as const;

function view(dtype: DType, buffer: ArrayBuffer, byteOffset: number, length: number): OutputArray {
  return new ARRAY_TYPE[dtype](buffer, byteOffset, length);
}

type OutputArray = Float32Array | Float64Array | Uint16Array;

// From this size a result's new array skips zeroing where the engine allows.
const UNZEROED_MIN_BYTES = 512 * 1024;
const PAGE_BYTES = 4096;

// A new array for a result of `length` elements, its pages touched (written
// once each) so that their faults happen here, not in the copy; null if it cannot
// be had (the caller then copies out with slice(), which reports the error).
// A new ArrayBuffer is zeroed before the copy overwrites every byte; in Node,
// large results go into Buffer.allocUnsafeSlow memory instead (its own
// ArrayBuffer, not the shared pool), which saves that pass over the result.
// Browsers have no unzeroed allocation.
function newResultArray(dtype: DType, length: number): OutputArray | null {
  try {
    const Ctor = ARRAY_TYPE[dtype];
    const byteLength = length * Ctor.BYTES_PER_ELEMENT;
    const buf = (globalThis as { Buffer?: { allocUnsafeSlow?: (n: number) => Uint8Array } }).Buffer;
    let data: OutputArray | null = null;
    if (byteLength >= UNZEROED_MIN_BYTES && typeof buf?.allocUnsafeSlow === 'function') {
      const bytes = buf.allocUnsafeSlow(byteLength);
      if (bytes.byteOffset % 8 === 0) data = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, length);  // else not this engine's own Buffer
    }
    if (!data) data = new Ctor(length);
    const step = PAGE_BYTES / Ctor.BYTES_PER_ELEMENT;
    for (let i = 0; i < length; i += step) data[i] = 0;
    return data;
  } catch {
    return null;
  }
}

// A new array holding a copy of `result` (a view of wasm memory): into
// `fresh` when the call made one (see execute), else a new one now.
function copyOut(result: OutputArray, dtype: DType, fresh: OutputArray | null): OutputArray {
  const data = fresh ?? newResultArray(dtype, result.length);
  if (!data) return result.slice();
  data.set(result as never);
  return data;
}

// The caller's output array, if it fits the call: the dtype's array type
// (its real kind, not a forgeable tag; from any realm: a vm context, an
// iframe), not detached, and exactly the output's length.
function checkOutput(opName: string, out: unknown, dtype: DType, elements: number, shape: readonly number[]): OutputArray {
  const want = ARRAY_TYPE[dtype].name;
  const got = typedArrayKind(out);
  if (got !== want) {
    throw new ArgumentError(`${opName}: options.output must be a ${want} for dtype ${dtype}, got ${got ?? (out === null || typeof out !== 'object' ? describe(out) : Object.prototype.toString.call(out).slice(8, -1))}`);
  }
  const arr = out as OutputArray;
  if (isDetached(arr)) {
    throw new ArgumentError(`${opName}: options.output's buffer is detached (transferred elsewhere); pass an array that owns its memory`);
  }
  if (typedLength(arr) !== elements) {
    throw new ArgumentError(`${opName}: options.output has ${typedLength(arr)} elements but output_shape=[${shape.join(', ')}] needs ${elements}`);
  }
  return arr;
}

// The start of options.output's memory when it is a tensor in wasm memory
// (createWasmTensor, or a view of all of one), checked against the call;
// else 0.
function residentOutput(mod: CoreModule, opName: string, output: unknown, dtype: DType, elements: number, shape: readonly number[]): number {
  const entry = wasmTensorEntry(output);
  if (entry) {
    if (entry.disposed) throw new Error(`${opName}: options.output is a wasm tensor that was disposed`);
    if (entry.dtype !== dtype || entry.elements !== elements) {
      throw new ArgumentError(`${opName}: options.output is a wasm tensor of ${entry.elements} ${entry.dtype} elements but output_shape=[${shape.join(', ')}] needs ${elements} ${dtype}`);
    }
    return entry.ptr;
  }
  return typedArrayKind(output) ? residentPtr(output as ArrayBufferView, heap(mod), dtype, elements) : 0;
}

// set() of any realm's typed array, not an own `set` a caller may have given it.
const typedSet = Object.getPrototypeOf(Uint8Array.prototype).set as (this: OutputArray, source: ArrayLike<number>) => void;

// The core's Status codes (src/semantics/status.h).
const STATUS_INVALID_ARGUMENT = 1;
const STATUS_OUT_OF_MEMORY = 2;

// Prepared operators not yet disposed nor finalized, and what they hold:
// the out-of-memory message names them, since the garbage collector does
// not see wasm memory and may leave dropped ones unfinalized for long.
const liveOps = new Set<PreparedOp>();

function outOfMemoryNote(): string {
  if (liveOps.size === 0) return '';
  let bytes = 0;
  for (const op of liveOps) bytes += op.bytesHeld();
  const mib = bytes / (1 << 20);
  return `. ${liveOps.size} live prepared operator${liveOps.size === 1 ? '' : 's'} hold ${mib < 10 ? mib.toFixed(2) : Math.round(mib)} MiB; ` +
    'call dispose() on those no longer needed (or declare them with `using`): dropped ones are freed only when the garbage collector gets to them';
}

function outOfMemory(message: string): Error {
  return new Error(message + outOfMemoryNote());
}

/** Throws the core's last error when `code` is not 0 (ok). */
function check(code: number, status: CoreStatus): void {
  if (code === 0) return;
  const message = status.message();
  if (code === STATUS_OUT_OF_MEMORY) throw outOfMemory(message);
  throw code === STATUS_INVALID_ARGUMENT ? new ArgumentError(message) : new Error(message);
}

// One call as execute runs it: the core has planned it (call's status and
// sizes); filters are copied in when the call takes them as a tensor.
interface Call {
  status: CoreStatus;
  inputElements: number;
  outputElements: number;
  filters: Tensor | null;
  run(input: number, filters: number, output: number, side: (() => void) | undefined): number;
}

// Allocates, copies in, runs the planned call, copies out (into `output`
// when given, else a new array) and frees, on every path.
function execute(mod: CoreModule, opName: string, x: Tensor, outputShape: number[], call: Call, output?: unknown): Tensor {
  const ptrs: number[] = [];
  try {
    const inElems = call.inputElements;
    const outElems = call.outputElements;
    if (typedLength(x.data) !== inElems) {
      throw new ArgumentError(`${opName}: input.data has ${typedLength(x.data)} elements but input.shape=[${x.shape.join(', ')}] needs ${inElems}`);
    }
    const resident = residentOutput(mod, opName, output, x.dtype, outElems, outputShape);
    const into = output === undefined || resident ? null : checkOutput(opName, output, x.dtype, outElems, outputShape);
    const bytes = DTYPE_BYTES[x.dtype];
    const alloc = (elements: number, what: string) => {
      const p = mod._malloc(Math.max(1, elements * bytes));
      if (!p) throw outOfMemory(`${opName}: out of WebAssembly memory allocating ${elements * bytes} bytes for ${what}`);
      ptrs.push(p);
      return p;
    };
    const w = call.filters;
    const filterPtr = w ? alloc(typedLength(w.data), 'filters') : 0;
    // Tensors in wasm memory (createWasmTensor) are read and written in place.
    const inResident = residentPtr(x.data, heap(mod), x.dtype, inElems);
    const inPtr = inResident || alloc(inElems, 'input');
    const outPtr = resident || alloc(outElems, 'output');
    if (inResident && resident && inPtr < outPtr + outElems * bytes && outPtr < inPtr + inElems * bytes) {
      throw new ArgumentError(`${opName}: options.output and the input share memory; the output must be a tensor of its own`);
    }
    let buffer = heap(mod);
    if (!inResident) view(x.dtype, buffer, inPtr, inElems).set(x.data as never);
    if (w) view(x.dtype, buffer, filterPtr, typedLength(w.data)).set(w.data as never);
    // The new result array is made by the core's side task: on this thread
    // while the pool's workers start on the call, so that its allocation and
    // page faults overlap their work instead of following the call. It does
    // not run on one thread, nor in a call too small to wake the workers
    // (copyOut then makes the array).
    let fresh: OutputArray | null = null;
    const side = into || resident ? undefined : () => { fresh = newResultArray(x.dtype, outElems); };
    check(call.run(inPtr, filterPtr, outPtr, side), call.status);
    buffer = heap(mod);
    const result = view(x.dtype, buffer, outPtr, outElems);
    let data: OutputArray;
    if (resident) {
      data = result;
    } else if (into) {
      typedSet.call(into, result);
      data = into;
    } else {
      data = copyOut(result, x.dtype, fresh);
    }
    return { data, shape: outputShape.slice(), dtype: x.dtype };
  } finally {
    for (const p of ptrs) mod._free(p);
  }
}

function loadedCore(opName: string): CoreModule {
  if (!core) throw new Error(`${opName}: the wasm module is not loaded; await init() first`);
  return core;
}

/**
 * tf.nn.conv_transpose: the transpose (gradient) of an N-D convolution,
 * N = 1, 2 or 3 from the input's rank. Same arguments and semantics as
 * TensorFlow; filters are spatial dims + [output_channels, input_channels].
 * Returns the output with the input's dtype (float16/bfloat16 as raw bits).
 */
export function convTranspose(input: Float32TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null): Tensor<Float32Array>;
export function convTranspose(input: Float64TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null): Tensor<Float64Array>;
export function convTranspose(input: Bits16TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null): Tensor<Uint16Array>;
export function convTranspose(input: TensorLike | TfjsTensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null): Tensor;
export function convTranspose(
  input: TensorLike | TfjsTensorLike,
  filters: TensorLike | TfjsTensorLike,
  outputShape: OutputShape,
  strides: Ints,
  padding: Padding = 'SAME',
  dataFormat: DataFormat | null = null,
  dilations: Ints | null = null,
  name: string | null = null
): Tensor {
  const opName = opNameOf(name);
  const mod = loadedCore(opName);
  const x = toTensor(opName, 'input', input);
  // Filters that are a tfjs tensor (immutable): packed once and kept (tfjs.ts).
  // It runs on the arguments as read here; an argument error is worded by
  // the one-call form below, which reads the same copies.
  const cached = preparedForTfjsFilters(filters, { strides, padding, dataFormat, dilations, name });
  let outShape: number[] | null = null;
  if (cached) {
    outShape = outputShapeList(opName, outputShape);
    try {
      return cached.run(x, outShape);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
    }
  }
  const w = toTensor(opName, 'filters', filters);
  outShape ??= outputShapeList(opName, outputShape);
  const args = coreArgs(opName, x, w, outShape, windowArgs(opName, { strides, padding, dataFormat, dilations }));
  // The core's plan of the call: sizes, or the error worded like TensorFlow's.
  const planned = new mod.PlannedCall(args.name, args.padding, args.dataFormat, encodeArgs(args));
  try {
    check(planned.code(), planned);
    const filterElems = planned.filterElements();
    if (typedLength(w.data) !== filterElems) {
      throw new ArgumentError(`${opName}: filters.data has ${typedLength(w.data)} elements but filters.shape=[${w.shape.join(', ')}] needs ${filterElems}`);
    }
    return execute(mod, opName, x, outShape, {
      status: planned,
      inputElements: planned.inputElements(),
      outputElements: planned.outputElements(),
      filters: w,
      run: (inPtr, filterPtr, outPtr, side) => planned.run(inPtr, filterPtr, outPtr, side),
    });
  } finally {
    planned.delete();
  }
}

/** The same function under TensorFlow's name. */
export const conv_transpose = convTranspose;

/** The fast kernels, by where their vector lanes go (see README, "How it works"). */
export type FastKernel = 'auto' | 'igemm' | 'dot' | 'pixels' | 'columns' | 'channelwise';

export interface ConvTransposeOptions {
  strides: Ints;
  padding?: Padding;
  dataFormat?: DataFormat | null;
  dilations?: Ints | null;
  name?: string | null;
  /**
   * Input and output channels split into `groups` independent convolutions
   * (PyTorch's, ONNX's and WebNN's groups; default 1). The filters are then
   * spatial + [outChannels / groups, inChannels].
   */
  groups?: number;
  /** One value per output channel, added to each output value before the activation. */
  bias?: Bias;
  /**
   * Applied to each output value after the bias, in the kernels' stores
   * (no second pass over the output): 'relu', 'relu6', 'sigmoid', 'tanh',
   * 'gelu' (erf form), 'silu', 'elu' / { type: 'elu', alpha = 1 },
   * 'leakyRelu' / { type: 'leakyRelu', alpha = 0.01 },
   * { type: 'clamp', minValue, maxValue }; default 'linear' (none).
   */
  activation?: Activation;
  /**
   * Which fast kernel runs: 'auto' (default) lets the core choose by the
   * channel counts and the width window; 'igemm' (any shape), 'dot' or
   * 'pixels' (1-4 output channels), 'columns' (filter width a multiple of
   * a width stride >= 2, width dilation 1) force one. For benchmarks and
   * diagnostics; results agree within rounding.
   */
  kernel?: FastKernel;
}

export interface RunOptions {
  /**
   * Write the result into this array instead of a new one (a decoder run in
   * a loop reuses its buffers): Float32Array for float32, Float64Array for
   * float64, Uint16Array for float16/bfloat16 bits, with exactly the
   * output's element count. The returned tensor's data is this array.
   * A tensor from createWasmTensor (or a view of all of one) is written
   * in place, with no copy out; the result's data is then a fresh view of it.
   */
  output?: Float32Array | Float64Array | Uint16Array | WasmTensor;
}

// Symbol.dispose in the types whatever lib the user compiles with (as
// @types/node declares it); it exists at run time only where the engine has it.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** A transposed convolution with its filters packed once; see createConvTranspose. */
export interface PreparedConvTranspose {
  /** Same result as convTranspose(input, filters, outputShape, ...options). */
  run(input: Float32TensorLike, outputShape: OutputShape, options?: RunOptions): Tensor<Float32Array>;
  run(input: Float64TensorLike, outputShape: OutputShape, options?: RunOptions): Tensor<Float64Array>;
  run(input: Bits16TensorLike, outputShape: OutputShape, options?: RunOptions): Tensor<Uint16Array>;
  run(input: TensorLike | TfjsTensorLike, outputShape: OutputShape, options?: RunOptions): Tensor;
  /**
   * Frees the packed filters in wasm memory. The operator cannot run after
   * this. An operator dropped without it is freed only when the garbage
   * collector finalizes it, which wasm memory pressure does not hurry.
   */
  dispose(): void;
  /** dispose(), for `using op = createConvTranspose(...)` (present where the engine has Symbol.dispose). */
  [Symbol.dispose](): void;
  /** The fast kernel that runs: 'igemm', 'dot', 'pixels' or 'columns'. */
  readonly kernel: string;
}

// Reshapes a prepared operator for a run's shapes. Shapes of rank 5 or
// less (every legal call) go through the core object's own numbers in wasm
// memory, so no JS array crosses into the core per run; longer ones (the
// core reports their rank error) as an array.
const MAX_RANK = 5;
function reshape(mod: CoreModule, core: PreparedOp, at: number, input: readonly number[], output: readonly number[], dtype: DType): number {
  const numbers = [input.length, ...input, output.length, ...output, DTYPE_CODE[dtype]];
  if (input.length > MAX_RANK || output.length > MAX_RANK) return core.reshapeFrom(Float64Array.from(numbers));
  new Float64Array(heap(mod), at, numbers.length).set(numbers);
  return core.reshape();
}

// A prepared operator's core object (packed filters, the plan of its last
// shapes): freed by dispose(), or by the finalizer when the operator is
// dropped without it.
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<PreparedOp>((op) => {
    liveOps.delete(op);
    op.delete();
  })
  : null;

// Symbol.dispose where the engine has it (`using op = createConvTranspose(...)`).
const DISPOSE: symbol | undefined = (Symbol as { dispose?: symbol }).dispose;

/**
 * The prepared form for repeated calls with the same filters (a decoder
 * layer's weights): checks the filters and options and packs the filters
 * into the kernel's layout once; each run() then pays only for its input.
 * The core keeps the plan of the last run's shapes and reuses it while they
 * repeat (a model runs a layer with the same shapes call after call).
 */
export function createConvTranspose(filters: TensorLike | TfjsTensorLike, options: ConvTransposeOptions): PreparedConvTranspose {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`conv_transpose: createConvTranspose(filters, options) needs options { strides, padding?, dataFormat?, dilations? }. Received: options=${describe(options)}`);
  }
  // Each option read once, here: the operator keeps these copies, so later
  // changes to the caller's options object (or its arrays) change nothing.
  const { strides, padding, dataFormat, dilations, name, kernel, groups, bias, activation } = options;
  const opName = opNameOf(name);
  const mod = loadedCore(opName);
  if (kernel !== undefined && typeof kernel !== 'string') {
    throw new ArgumentError(`${opName}: kernel must be 'auto', 'igemm', 'dot', 'pixels', 'columns' or 'channelwise'. Received: kernel=${describe(kernel)}`);
  }
  const w = toTensor(opName, 'filters', filters);
  const window: WindowArgs = windowArgs(opName, { strides, padding: padding ?? 'SAME', dataFormat: dataFormat ?? null, dilations: dilations ?? null });
  const layer = layerArgs(opName, { groups, bias, activation });
  const tail: number[] = [];
  pushLayer(tail, layer);
  const core = new mod.PreparedOp(opName, window.padding, window.dataFormat, encodeFilterArgs(w.shape, window, w.dtype, tail),
    kernel ?? 'auto', layer.activation);
  let ptr = 0;
  let biasPtr = 0;
  try {
    check(core.code(), core);
    const elems = core.filterElements();
    if (typedLength(w.data) !== elems) {
      throw new ArgumentError(`${opName}: filters.data has ${typedLength(w.data)} elements but filters.shape=[${w.shape.join(', ')}] needs ${elems}`);
    }
    ptr = mod._malloc(Math.max(1, elems * DTYPE_BYTES[w.dtype]));
    if (!ptr) throw outOfMemory(`${opName}: out of WebAssembly memory copying the filters`);
    if (layer.bias) {
      biasPtr = mod._malloc(Math.max(1, layer.bias.length * 8));
      if (!biasPtr) throw outOfMemory(`${opName}: out of WebAssembly memory copying the bias`);
      new Float64Array(heap(mod), biasPtr, layer.bias.length).set(layer.bias);
    }
    view(w.dtype, heap(mod), ptr, elems).set(w.data as never);
    check(core.pack(ptr, biasPtr), core);
  } catch (e) {
    core.delete();
    throw e;
  } finally {
    if (ptr) mod._free(ptr);
    if (biasPtr) mod._free(biasPtr);
  }
  liveOps.add(core);
  // dispose() during a run (from a getter the run reads) takes effect when
  // the run returns: the core object is freed then, never under it.
  let disposed = false;
  let running = false;
  const free = () => {
    liveOps.delete(core);
    core.delete();
  };
  const shapeNumbers = core.shapeNumbers();
  const op = {
    run(input: TensorLike | TfjsTensorLike, outputShape: OutputShape, runOptions?: RunOptions): Tensor {
      if (disposed) throw new Error(`${opName}: this prepared conv_transpose was disposed`);
      if (running) throw new Error(`${opName}: run() was called again from inside a run of the same prepared conv_transpose (from a getter of its arguments)`);
      if (runOptions !== undefined && (runOptions === null || typeof runOptions !== 'object')) {
        throw new ArgumentError(`${opName}: run(input, outputShape, options) needs options to be an object like { output }, got ${describe(runOptions)}`);
      }
      running = true;
      try {
        const output = runOptions?.output;
        const x = toTensor(opName, 'input', input);
        const outShape = outputShapeList(opName, outputShape);
        check(reshape(mod, core, shapeNumbers, x.shape, outShape, x.dtype), core);
        return execute(mod, opName, x, outShape, {
          status: core,
          inputElements: core.inputElements(),
          outputElements: core.outputElements(),
          filters: null,
          run: (inPtr, _filters, outPtr, side) => core.run(inPtr, outPtr, side),
        }, output);
      } finally {
        running = false;
        if (disposed) free();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      registry?.unregister(op);
      if (!running) free();
    },
    kernel: core.kernel(),
  };
  if (DISPOSE) (op as Record<symbol, () => void>)[DISPOSE] = op.dispose;
  registry?.register(op, core, op);
  return op as PreparedConvTranspose;
}
