// conv-transpose-wasm: TensorFlow's tf.nn.conv_transpose in WebAssembly.
//
//   await init();
//   const y = convTranspose(input, filters, outputShape, strides, 'SAME');
//
// This file marshals: it turns arguments into the core's form (args.ts),
// asks the core to plan the call (sizes and every error come from there,
// before anything is allocated), copies the tensors into wasm memory, runs,
// copies the result out, and frees every allocation on every path.

import { ArgumentError, coreArgs, DTYPE_BYTES, encodeArgs, toTensor } from './args.js';
import type { CoreArgs, DType, Tensor, TensorLike, TfjsTensorLike } from './args.js';
import { loadModule, unrefWorkers } from './loader.js';
import type { CoreModule, HeapStats, InitOptions, InitResult, PlannedCall, PreparedFilters } from './loader.js';

export type { DType, Tensor, TensorLike, TfjsTensorLike, InitOptions, InitResult, HeapStats };
export { ArgumentError };
export type { Backend } from './loader.js';
export { convTransposeAsync, initWorker, terminateWorker } from './async.js';
export type { WorkerOptions } from './async.js';

export type Padding = 'SAME' | 'VALID' | Array<[number, number]>;
export type DataFormat = 'NWC' | 'NCW' | 'NHWC' | 'NCHW' | 'NDHWC' | 'NCDHW';

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
    if (options.numThreads !== undefined && initResult.backend === 'wasm-simd-threads') {
      if (!Number.isInteger(options.numThreads) || options.numThreads < 1) {
        return Promise.reject(new Error(`conv-transpose-wasm: numThreads must be an integer >= 1. Received: numThreads=${options.numThreads}`));
      }
      core.setNumThreads(Math.min(options.numThreads, initResult.maxThreads));
      unrefWorkers(core);
      initResult = { ...initResult, threads: core.numThreads() };
    }
    return Promise.resolve(initResult);
  }
  if (!loading) {
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
  }
  return loading;
}

/** Wasm memory figures (for leak checks and memory reports); init() first. */
export function heapStats(): HeapStats {
  return loadedCore('heapStats').heapStats();
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

type FilterSource = { kind: 'tensor'; tensor: Tensor } | { kind: 'prepared'; prepared: PreparedFilters };

type OutputArray = Float32Array | Float64Array | Uint16Array;

// From this size a result's new array skips zeroing where the engine allows.
const UNZEROED_MIN_BYTES = 512 * 1024;
const PAGE_BYTES = 4096;

// A new array for a result of `length` elements, its pages touched (written
// once each) so that their faults happen here, not in the copy; null if it cannot
// be had (the caller then copies out with slice(), which reports the error).
// A new ArrayBuffer is zeroed before the copy overwrites every byte; in Node,
// large results go into Buffer.allocUnsafeSlow memory instead (its own
// ArrayBuffer, not the shared pool), which saves that pass: a 2 MiB result
// (S4) took 84-90 us instead of 135-160 us, 4 MiB 236 instead of 334.
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

// The caller's output array, if it fits the call: the dtype's array type and exactly the output's length.
function checkOutput(opName: string, out: unknown, dtype: DType, elements: number, shape: readonly number[]): OutputArray {
  const want = ARRAY_TYPE[dtype].name;
  // The built-in tag, not instanceof: arrays from another realm (a vm context, an iframe) fit too.
  const got = out === null || typeof out !== 'object' ? String(out) : Object.prototype.toString.call(out).slice(8, -1);
  if (got !== want) {
    throw new ArgumentError(`${opName}: options.output must be a ${want} for dtype ${dtype}, got ${got}`);
  }
  const arr = out as OutputArray;
  if (arr.length !== elements) {
    throw new ArgumentError(`${opName}: options.output has ${arr.length} elements but output_shape=[${shape.join(', ')}] needs ${elements}`);
  }
  return arr;
}

// The core's plan of one call (sizes, or the error worded like TensorFlow's).
function planCall(mod: CoreModule, args: CoreArgs): PlannedCall {
  return new mod.PlannedCall(args.name, args.padding, args.dataFormat, encodeArgs(args));
}

// Plans one call in the core (or takes `planned`, a plan the caller keeps
// and that execute does not free), then allocates, copies in, runs, copies
// out (into `output` when given, else a new array) and frees, on every path.
function execute(mod: CoreModule, opName: string, args: CoreArgs, x: Tensor, filters: FilterSource, output?: unknown,
  planned?: PlannedCall): Tensor {
  const call = planned ?? planCall(mod, args);
  const ptrs: number[] = [];
  try {
    const error = call.error();
    if (error) throw new ArgumentError(error);
    const inElems = call.inputElements();
    const outElems = call.outputElements();
    if (x.data.length !== inElems) {
      throw new ArgumentError(`${opName}: input.data has ${x.data.length} elements but input.shape=[${x.shape.join(', ')}] needs ${inElems}`);
    }
    const into = output === undefined ? null : checkOutput(opName, output, x.dtype, outElems, args.outputShape);
    const bytes = DTYPE_BYTES[x.dtype];
    const alloc = (elements: number, what: string) => {
      const p = mod._malloc(Math.max(1, elements * bytes));
      if (!p) throw new Error(`${opName}: out of WebAssembly memory allocating ${elements * bytes} bytes for ${what}`);
      ptrs.push(p);
      return p;
    };
    let filterPtr = 0;
    if (filters.kind === 'tensor') {
      const w = filters.tensor;
      const filterElems = call.filterElements();
      if (w.data.length !== filterElems) {
        throw new ArgumentError(`${opName}: filters.data has ${w.data.length} elements but filters.shape=[${w.shape.join(', ')}] needs ${filterElems}`);
      }
      filterPtr = alloc(filterElems, 'filters');
    }
    const inPtr = alloc(inElems, 'input');
    const outPtr = alloc(outElems, 'output');
    let buffer = heap(mod);
    view(x.dtype, buffer, inPtr, inElems).set(x.data as never);
    // The new result array is made by the core's side task: on this thread
    // while the pool's workers start on the call, so that its allocation and
    // page faults overlap their work instead of following the call. It does
    // not run on one thread, nor in a call too small to wake the workers
    // (copyOut then makes the array).
    let fresh: OutputArray | null = null;
    const side = into ? undefined : () => { fresh = newResultArray(x.dtype, outElems); };
    let runError: string;
    if (filters.kind === 'tensor') {
      view(x.dtype, buffer, filterPtr, filters.tensor.data.length).set(filters.tensor.data as never);
      runError = call.run(inPtr, filterPtr, outPtr, side);
    } else {
      runError = call.runPrepared(filters.prepared, inPtr, outPtr, side);
    }
    if (runError) throw new Error(runError);
    buffer = heap(mod);
    const result = view(x.dtype, buffer, outPtr, outElems);
    let data: OutputArray;
    if (into) {
      into.set(result as never);
      data = into;
    } else {
      data = copyOut(result, x.dtype, fresh);
    }
    return { data, shape: args.outputShape.slice(), dtype: x.dtype };
  } finally {
    for (const p of ptrs) mod._free(p);
    if (!planned) call.delete();
  }
}

function loadedCore(opName: string): CoreModule {
  if (!core) throw new Error(`${opName}: the wasm module is not loaded; await init() first`);
  return core;
}

function opNameOf(name: unknown): string {
  return name === null || name === undefined ? 'conv_transpose' : String(name);
}

/**
 * tf.nn.conv_transpose: the transpose (gradient) of an N-D convolution,
 * N = 1, 2 or 3 from the input's rank. Same arguments and semantics as
 * TensorFlow; filters are spatial dims + [output_channels, input_channels].
 * Returns the output with the input's dtype (float16/bfloat16 as raw bits).
 */
export function convTranspose(
  input: TensorLike | TfjsTensorLike,
  filters: TensorLike | TfjsTensorLike,
  outputShape: readonly number[] | ArrayLike<number> | TfjsTensorLike,
  strides: number | readonly number[],
  padding: Padding | string = 'SAME',
  dataFormat: DataFormat | string | null = null,
  dilations: number | readonly number[] | null = null,
  name: string | null = null
): Tensor {
  const opName = opNameOf(name);
  const mod = loadedCore(opName);
  const x = toTensor(opName, 'input', input);
  const w = toTensor(opName, 'filters', filters);
  const args = coreArgs(opName, x, w, outputShape, { strides, padding, dataFormat, dilations });
  return execute(mod, opName, args, x, { kind: 'tensor', tensor: w });
}

/** The same function under TensorFlow's name. */
export const conv_transpose = convTranspose;

/** The fast kernels, by where their vector lanes go (see README, "How it works"). */
export type FastKernel = 'auto' | 'igemm' | 'dot' | 'pixels' | 'columns';

export interface ConvTransposeOptions {
  strides: number | readonly number[];
  padding?: Padding | string;
  dataFormat?: DataFormat | string | null;
  dilations?: number | readonly number[] | null;
  name?: string | null;
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
   */
  output?: Float32Array | Float64Array | Uint16Array;
}

/** A transposed convolution with its filters packed once; see createConvTranspose. */
export interface PreparedConvTranspose {
  /** Same result as convTranspose(input, filters, outputShape, ...options). */
  run(input: TensorLike | TfjsTensorLike, outputShape: readonly number[] | ArrayLike<number> | TfjsTensorLike, options?: RunOptions): Tensor;
  /** Frees the packed filters in wasm memory. The operator cannot run after this. */
  dispose(): void;
  /** The fast kernel that runs: 'igemm', 'dot', 'pixels' or 'columns'. */
  readonly kernel: string;
}

// What a prepared operator holds in wasm memory: its packed filters and the
// plan of its last call's shapes.
interface PreparedHold {
  prepared: PreparedFilters;
  plan: { key: string; call: PlannedCall } | null;
}

function releaseHold(hold: PreparedHold): void {
  hold.plan?.call.delete();
  hold.plan = null;
  hold.prepared.delete();
}

const registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<PreparedHold>(releaseHold) : null;

/**
 * The prepared form for repeated calls with the same filters (a decoder
 * layer's weights): checks the filters and options and packs the filters
 * into the kernel's layout once; each run() then pays only for its input.
 */
export function createConvTranspose(filters: TensorLike | TfjsTensorLike, options: ConvTransposeOptions): PreparedConvTranspose {
  const opName = opNameOf(options?.name);
  const mod = loadedCore(opName);
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`${opName}: createConvTranspose(filters, options) needs options { strides, padding?, dataFormat?, dilations? }`);
  }
  const w = toTensor(opName, 'filters', filters);
  const window = { strides: options.strides, padding: options.padding ?? 'SAME', dataFormat: options.dataFormat ?? null, dilations: options.dilations ?? null };
  const filterArgs = coreArgs(opName, { data: w.data, shape: [], dtype: w.dtype }, w, [], window);
  const prepared = new mod.PreparedFilters(filterArgs.name, filterArgs.padding, filterArgs.dataFormat, encodeArgs(filterArgs), String(options.kernel ?? 'auto'));
  let ptr = 0;
  try {
    const error = prepared.error();
    if (error) throw new ArgumentError(error);
    const elems = prepared.filterElements();
    if (w.data.length !== elems) {
      throw new ArgumentError(`${opName}: filters.data has ${w.data.length} elements but filters.shape=[${w.shape.join(', ')}] needs ${elems}`);
    }
    ptr = mod._malloc(Math.max(1, elems * DTYPE_BYTES[w.dtype]));
    if (!ptr) throw new Error(`${opName}: out of WebAssembly memory copying the filters`);
    view(w.dtype, heap(mod), ptr, elems).set(w.data as never);
    const packError = prepared.pack(ptr);
    if (packError) throw new Error(packError);
  } catch (e) {
    prepared.delete();
    throw e;
  } finally {
    if (ptr) mod._free(ptr);
  }
  let disposed = false;
  // Runs need the filters' shape and dtype, not their values (packed in wasm
  // memory now): hold an empty array, so the caller's filters can be freed.
  const filterMeta: Tensor = { data: w.data.slice(0, 0), shape: w.shape.slice(), dtype: w.dtype };
  // A model runs a layer with the same shapes call after call: the core's
  // plan of the last shapes is kept and reused while they repeat (planning
  // through Embind is about half of a small call's fixed cost).
  const hold: PreparedHold = { prepared, plan: null };
  const planFor = (args: CoreArgs, x: Tensor): PlannedCall => {
    const key = `${x.dtype}|${x.shape.join(',')}|${args.outputShape.join(',')}`;
    if (hold.plan && hold.plan.key === key) return hold.plan.call;
    const call = planCall(mod, args);
    if (call.error()) return call;  // not kept: execute throws its error and the caller deletes it
    hold.plan?.call.delete();
    hold.plan = { key, call };
    return call;
  };
  const op: PreparedConvTranspose = {
    run(input, outputShape, runOptions) {
      if (disposed) throw new Error(`${opName}: this prepared conv_transpose was disposed`);
      if (runOptions !== undefined && (runOptions === null || typeof runOptions !== 'object')) {
        throw new ArgumentError(`${opName}: run(input, outputShape, options) needs options to be an object like { output }, got ${String(runOptions)}`);
      }
      const x = toTensor(opName, 'input', input);
      const args = coreArgs(opName, x, filterMeta, outputShape, window);
      const call = planFor(args, x);
      try {
        return execute(mod, opName, args, x, { kind: 'prepared', prepared }, runOptions?.output, call);
      } finally {
        if (hold.plan?.call !== call) call.delete();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      registry?.unregister(op);
      releaseHold(hold);
    },
    kernel: prepared.kernel(),
  };
  registry?.register(op, hold, op);
  return op;
}
