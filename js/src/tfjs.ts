// Drop-in acceleration for tfjs models: registerTfjsKernels(tf) replaces
// tfjs's own Conv2DBackpropInput and Conv3DBackpropInputV2 kernels (what
// tf.conv2dTranspose, tf.conv3dTranspose, the conv2dTranspose layer and
// the gradients of conv2d / conv3d run) with ones that compute through this
// library, and keeps tfjs's kernels to fall back to.
//
// The library never imports tfjs: the caller hands over its own namespace,
// so the kernels work with whichever copy of tfjs the app has. Results are
// tfjs's cpu kernel's (tfjs-plan.ts says how each call is restated); what
// cannot be restated runs tfjs's own kernel and is counted with its reason.
//
// Data: on the cpu backend (and any other) the kernels read tfjs's arrays
// with readSync (no copy on cpu) and hand the result array to tfjs as the
// output's values. On the wasm backend readSync copies, so the kernels
// allocate tfjs's output first (an allocation can grow tfjs's memory and
// detach earlier views), then read dy and the filter through views of
// tfjs's heap and write the result straight into the output's memory.

import { ArgumentError, backendInfo, convTranspose, createConvTranspose } from './index.js';
import type { ConvTransposeOptions, PreparedConvTranspose, Tensor } from './index.js';
import { DEFAULT_CACHE_BYTES, filterCache, isLiveData, isTfjsTensor, setTfjsEngine, tfjsEngine } from './tfjs-cache.js';
import type { FilterCacheStats } from './tfjs-cache.js';
import { copyBlock, FALLBACK_REASONS, planCall, product } from './tfjs-plan.js';
import type { ConvDims, CorePlan } from './tfjs-plan.js';

export { FALLBACK_REASONS };
export type { FilterCacheStats };

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The parts of a tfjs namespace (@tensorflow/tfjs or tfjs-core) the plug-in uses. */
export interface TfjsNamespace {
  getKernel(kernelName: string, backendName: string): any;
  registerKernel(config: any): void;
  unregisterKernel(kernelName: string, backendName: string): void;
  engine(): any;
  backend_util: any;
}

export interface RegisterTfjsKernelsOptions {
  /** Backends to replace the kernels on. Default: those of 'cpu' and 'wasm' that are registered. */
  backends?: string[];
  /** Keep packed filters per filter tensor (default true); false when filter arrays change in place. */
  cacheFilters?: boolean;
  /** Most bytes of packed filters to keep (their float32 size; default 256 MiB). */
  cacheBytes?: number;
}

export interface TfjsKernelStats {
  /** Calls this library computed, per backend. */
  computed: Record<string, number>;
  /** Calls that ran tfjs's own kernel, per backend. */
  fallbacks: Record<string, number>;
  /** Fallbacks per reason (see FALLBACK_REASONS). */
  reasons: Record<string, number>;
  /** The packed-filter cache (shared with convTranspose's tfjs filters). */
  cache: FilterCacheStats;
}

export interface TfjsKernelRegistration {
  /** The backends whose kernels were replaced. */
  readonly backends: string[];
  stats(): TfjsKernelStats;
  /** Puts tfjs's own kernels back and frees the packed filters. */
  unregister(): void;
}

const KERNELS: Array<[string, ConvDims]> = [['Conv2DBackpropInput', 2], ['Conv3DBackpropInputV2', 3]];
const DEFAULT_BACKENDS = ['cpu', 'wasm'];
const OURS = Symbol('conv-transpose-wasm kernel');

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

// tfjs's wasm backend: its heap, and where a tensor's data starts in it.
function isTfjsWasm(backend: any): boolean {
  return backend?.wasm != null && backend.dataIdMap != null && typeof backend.makeOutput === 'function';
}
function wasmHeap(backend: any): ArrayBuffer {
  return (backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer) as ArrayBuffer;
}
function wasmView(backend: any, dataId: object, length: number): Float32Array {
  return new Float32Array(wasmHeap(backend), backend.dataIdMap.get(dataId).memoryOffset, length);
}

/** Float32 data of a tensor of a non-wasm backend (tfjs's cpu kernels read int32/bool as numbers too). */
function hostData(backend: any, t: any): Float32Array {
  const v = backend.readSync(t.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * Runs a planned call: dy and the filter as float32 arrays, the result into
 * `into` (the output's memory) when given. Uses the cached packed filters
 * when there are (filterId is the filter's data id), else the one-call form.
 */
function runPlan(plan: CorePlan, dyData: Float32Array, dyShape: readonly number[], filterData: Float32Array, filterShape: number[],
  filterId: object | null, into: Float32Array | null): Float32Array {
  let x: Float32Array = dyData;
  if (plan.dyWindow) {
    x = new Float32Array(product(plan.dyShape));
    copyBlock(dyData, dyShape, plan.dyShape.map(() => 0), x, plan.dyShape, plan.dyShape.map(() => 0), plan.dyShape);
  }
  const input = { data: x, shape: plan.dyShape, dtype: 'float32' as const };
  const blockInto = plan.blockOffsets ? null : into;
  const options: ConvTransposeOptions = { strides: plan.strides, padding: plan.padding, dataFormat: plan.dataFormat };
  const op = filterId ? cachedOp(filterId, `${filterShape.join(',')}|${plan.windowKey}`, filterData.length * 4,
    () => ({ data: filterData, shape: filterShape, dtype: 'float32' }), options) : null;
  let y: Float32Array;
  if (op) {
    y = op.run(input, plan.blockShape, blockInto ? { output: blockInto } : undefined).data as Float32Array;
  } else {
    y = convTranspose(input, { data: filterData, shape: filterShape, dtype: 'float32' }, plan.blockShape, plan.strides, plan.padding, plan.dataFormat).data as Float32Array;
    if (blockInto) blockInto.set(y);
  }
  if (!plan.blockOffsets) return into ?? y;
  const out = into ?? new Float32Array(product(plan.outShape));
  out.fill(0);
  copyBlock(y, plan.blockShape, plan.blockShape.map(() => 0), out, plan.outShape, plan.blockOffsets, plan.blockShape);
  return out;
}

function cachedOp(dataId: object, key: string, bytes: number, filters: () => Tensor, options: ConvTransposeOptions): PreparedConvTranspose | null {
  return filterCache.lookup(dataId, key, bytes, isLiveData, () => createConvTranspose(filters(), options));
}

/**
 * The one-call form's cache: when convTranspose's filters are a tfjs tensor,
 * its packed filters for this window (null: run the one-call form).
 */
export function preparedForTfjsFilters(filters: unknown, options: ConvTransposeOptions): PreparedConvTranspose | null {
  if (!isTfjsTensor(filters) || filters.dtype !== 'float32') return null;
  let key: string;
  try {
    key = `call|${filters.shape.join(',')}|${JSON.stringify([options.strides, options.padding, options.dataFormat ?? null, options.dilations ?? null])}`;
  } catch {
    return null;
  }
  try {
    hookDispose(tfjsEngine()?.state?.tensorInfo?.get(filters.dataId)?.backend);
    return cachedOp(filters.dataId, key, product(filters.shape) * 4, () => filters as any, options);
  } catch {
    return null; // the one-call form reports the error in its own words
  }
}

function makeKernel(dims: ConvDims, backendName: string, original: any, tf: TfjsNamespace, counts: TfjsKernelStats): any {
  const fallback = (args: any, reason: string) => {
    bump(counts.fallbacks, backendName);
    bump(counts.reasons, reason);
    return original.kernelFunc(args);
  };
  const kernelFunc = (args: any) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs;
    if (dy.dtype === 'complex64' || filter.dtype === 'complex64') return fallback(args, FALLBACK_REASONS.complex);
    const onWasm = isTfjsWasm(backend);
    if (onWasm && (dy.dtype !== 'float32' || filter.dtype !== 'float32')) return fallback(args, FALLBACK_REASONS.wasmNonFloat);
    const plan = planCall(dims, tf.backend_util, dy.shape, filter.shape, attrs);
    if (plan.kind === 'fallback') return fallback(args, plan.reason);
    hookDispose(backend);
    const size = product(plan.outShape);
    const filterId = filter.dtype === 'float32' ? filter.dataId : null; // converted copies are not cached
    try {
      if (onWasm) {
        const out = backend.makeOutput(plan.outShape, 'float32'); // first: it may grow the heap
        const into = wasmView(backend, out.dataId, size);
        try {
          if (plan.kind === 'zeros') into.fill(0);
          else runPlan(plan, wasmView(backend, dy.dataId, product(dy.shape)), dy.shape, wasmView(backend, filter.dataId, product(filter.shape)), filter.shape, filterId, into);
        } catch (e) {
          backend.disposeData(out.dataId);
          throw e;
        }
        bump(counts.computed, backendName);
        return out;
      }
      const values = plan.kind === 'zeros' ? new Float32Array(size)
        : runPlan(plan, hostData(backend, dy), dy.shape, hostData(backend, filter), filter.shape, filterId, null);
      bump(counts.computed, backendName);
      return backend.makeTensorInfo(plan.outShape, 'float32', values);
    } catch {
      return fallback(args, FALLBACK_REASONS.core);
    }
  };
  return { kernelName: original.kernelName, backendName, setupFunc: original.setupFunc, disposeFunc: original.disposeFunc, kernelFunc, [OURS]: true };
}

// Backends whose disposeData drops a freed data id's packed filters at once
// (the lookup's sweep would find it later), with their own disposeData.
const hooked = new Map<any, any>();
function hookDispose(backend: any): void {
  if (hooked.has(backend) || typeof backend?.disposeData !== 'function') return;
  const own = backend.disposeData;
  hooked.set(backend, own);
  backend.disposeData = function (dataId: object, ...rest: unknown[]) {
    const freed = own.call(this, dataId, ...rest);
    if (freed) filterCache.drop(dataId);
    return freed;
  };
}
function unhookAll(): void {
  for (const [backend, own] of hooked) backend.disposeData = own;
  hooked.clear();
}

let active: TfjsKernelRegistration | null = null;

/**
 * Replaces tfjs's Conv2DBackpropInput and Conv3DBackpropInputV2 kernels on
 * the given backends with this library's; call after init(). `tf` is the
 * app's tfjs namespace. Returns the backends replaced on, stats(), and
 * unregister() to put tfjs's kernels back.
 */
export function registerTfjsKernels(tf: TfjsNamespace, options: RegisterTfjsKernelsOptions = {}): TfjsKernelRegistration {
  const name = 'registerTfjsKernels';
  for (const f of ['getKernel', 'registerKernel', 'unregisterKernel', 'engine'] as const) {
    if (typeof (tf as any)?.[f] !== 'function') throw new ArgumentError(`${name}: tf must be a tfjs namespace (@tensorflow/tfjs or @tensorflow/tfjs-core); it has no ${f}()`);
  }
  if (!tf.backend_util || typeof tf.backend_util.computeConv2DInfo !== 'function') throw new ArgumentError(`${name}: tf.backend_util.computeConv2DInfo is missing`);
  if (!backendInfo()) throw new Error(`${name}: the wasm module is not loaded; await init() first`);
  if (active) throw new Error(`${name}: the kernels are registered already; call unregister() on the earlier registration first`);
  if (options.backends !== undefined && (!Array.isArray(options.backends) || !options.backends.every((b) => typeof b === 'string'))) {
    throw new ArgumentError(`${name}: options.backends must be a list of backend names`);
  }
  const wanted = options.backends ?? DEFAULT_BACKENDS;
  const replaced: Array<{ kernelName: string; backendName: string; original: any }> = [];
  const counts: TfjsKernelStats = { computed: {}, fallbacks: {}, reasons: {}, cache: filterCache.stats() };
  const backends: string[] = [];
  for (const backendName of wanted) {
    const originals = KERNELS.map(([k]) => tf.getKernel(k, backendName));
    if (originals.some((k) => !k)) {
      if (options.backends) throw new ArgumentError(`${name}: backend '${backendName}' has no ${KERNELS.map(([k]) => k).join(' / ')} kernel registered (is its package imported?)`);
      continue;
    }
    backends.push(backendName);
    counts.computed[backendName] = 0;
    counts.fallbacks[backendName] = 0;
    KERNELS.forEach(([kernelName, dims], i) => {
      const original = originals[i];
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel(makeKernel(dims, backendName, original, tf, counts));
      replaced.push({ kernelName, backendName, original });
    });
  }
  filterCache.clear();
  filterCache.enabled = options.cacheFilters !== false;
  filterCache.maxBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  setTfjsEngine(tf.engine());
  let done = false;
  const registration: TfjsKernelRegistration = {
    backends,
    stats() {
      return { computed: { ...counts.computed }, fallbacks: { ...counts.fallbacks }, reasons: { ...counts.reasons }, cache: filterCache.stats() };
    },
    unregister() {
      if (done) return;
      done = true;
      for (const { kernelName, backendName, original } of replaced) {
        const current = tf.getKernel(kernelName, backendName);
        if (current && current[OURS]) tf.unregisterKernel(kernelName, backendName);
        if (!tf.getKernel(kernelName, backendName)) tf.registerKernel(original);
      }
      unhookAll();
      filterCache.clear();
      filterCache.enabled = true;
      filterCache.maxBytes = DEFAULT_CACHE_BYTES;
      setTfjsEngine(null);
      active = null;
    },
  };
  active = registration;
  return registration;
}
