// Tensors that live in the module's WebAssembly memory, so that a run reads
// its input and writes its output where they are: no copy in, no copy out.
// A decoder that feeds one layer's output to the next, or that fills its
// input in place each frame, saves two passes over its tensors per call.
//
// A tensor's `data` is a view of wasm memory made when it is read: memory
// may grow during any call (and replace the buffer that older views see),
// so read `data` again after a call instead of keeping a view.

import { ArgumentError, describe, intList } from './args.js';
import type { DType } from './args.js';

type View = Float32Array | Float64Array | Uint16Array;

/** A tensor in the module's memory; see createWasmTensor. */
export interface WasmTensor<D extends View = View> {
  readonly shape: number[];
  readonly dtype: DType;
  /** A fresh view of the tensor's memory (read it again after each call). */
  readonly data: D;
  /** Frees its memory; the tensor cannot be used after this. */
  dispose(): void;
  [Symbol.dispose](): void;
}

interface Memory {
  malloc(bytes: number): number;
  free(ptr: number): void;
  buffer(): ArrayBuffer;
}

interface Entry {
  ptr: number;
  elements: number;
  dtype: DType;
  disposed: boolean;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };
const ARRAY = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array } as const;

// The library's tensors by their object, and by the start of their memory
// (how a view of it, passed as data, is recognised).
const entries = new WeakMap<object, Entry>();
const byPtr = new Map<number, Entry>();

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<{ entry: Entry; memory: Memory }>(({ entry, memory }) => release(entry, memory))
  : null;

function release(entry: Entry, memory: Memory): void {
  if (entry.disposed) return;
  entry.disposed = true;
  byPtr.delete(entry.ptr);
  memory.free(entry.ptr);
}

const DISPOSE: symbol | undefined = (Symbol as { dispose?: symbol }).dispose;

export function createWasmTensorIn(memory: Memory, shapeValue: unknown, dtypeValue: unknown): WasmTensor {
  const name = 'createWasmTensor';
  const shape = intList(name, 'shape', shapeValue, false);
  if (shape.some((d) => d < 0)) throw new ArgumentError(`${name}: shape must hold sizes >= 0. Received: shape=[${shape.join(', ')}]`);
  const dtype = (dtypeValue ?? 'float32') as DType;
  if (!(dtype in BYTES)) {
    throw new ArgumentError(`${name}: dtype must be 'float32', 'float64', 'float16' or 'bfloat16'. Received: dtype=${describe(dtypeValue)}`);
  }
  const elements = shape.reduce((a, b) => a * b, 1);
  const bytes = elements * BYTES[dtype];
  if (!Number.isSafeInteger(bytes) || bytes > 2 ** 31) {
    throw new ArgumentError(`${name}: shape=[${shape.join(', ')}] of ${dtype} needs ${bytes} bytes, more than WebAssembly memory holds`);
  }
  const ptr = memory.malloc(Math.max(bytes, 1));
  if (!ptr) throw new Error(`${name}: out of WebAssembly memory allocating ${bytes} bytes for shape=[${shape.join(', ')}]`);
  const entry: Entry = { ptr, elements, dtype, disposed: false };
  byPtr.set(ptr, entry);
  const tensor = {
    shape,
    dtype,
    get data(): View {
      if (entry.disposed) throw new Error('conv-transpose-wasm: this wasm tensor was disposed; its memory is gone');
      return new ARRAY[dtype](memory.buffer(), ptr, elements);
    },
    dispose(): void {
      registry?.unregister(tensor);
      release(entry, memory);
    },
  };
  Object.defineProperty(tensor, 'shape', { get: () => shape.slice(), enumerable: true });
  if (DISPOSE) (tensor as unknown as Record<symbol, () => void>)[DISPOSE] = tensor.dispose;
  entries.set(tensor, entry);
  registry?.register(tensor, { entry, memory }, tensor);
  return tensor as unknown as WasmTensor;
}

/** Where a live library tensor's memory starts, for a view of all of it in `buffer` with `dtype`; else 0. */
export function residentPtr(data: ArrayBufferView, buffer: ArrayBuffer, dtype: DType, elements: number): number {
  if (data.buffer !== buffer) return 0;
  const entry = byPtr.get(data.byteOffset);
  if (!entry || entry.disposed || entry.dtype !== dtype || entry.elements !== elements) return 0;
  if (data.byteLength !== elements * BYTES[dtype]) return 0;
  return entry.ptr;
}

/** The library tensor `v` is (live or disposed), or undefined. */
export function wasmTensorEntry(v: unknown): { ptr: number; elements: number; dtype: DType; disposed: boolean } | undefined {
  return v !== null && typeof v === 'object' ? entries.get(v) : undefined;
}
