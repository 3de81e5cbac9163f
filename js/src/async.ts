// The non-blocking mode: convTransposeAsync runs the computation in a
// worker (a Web Worker in browsers, a worker_thread in Node) so a page stays
// responsive while a large call runs. Requests are numbered; several may be
// in flight and each promise gets its own answer. Arguments are normalised
// on the calling side (a tfjs tensor is read there) and copied to the
// worker; the result's buffer is transferred back.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { ArgumentError, toTensor } from './args.js';
import type { Tensor, TensorLike, TfjsTensorLike } from './args.js';
import { absoluteUrl, isNode, scriptDir } from './loader.js';
import type { InitOptions, InitResult } from './loader.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

declare const require: (id: string) => any;
declare const __dirname: string;

export interface WorkerOptions extends InitOptions {
  /** URL of dist/conv-transpose-wasm.worker.js (browsers); default: next to this script. */
  workerUrl?: string;
}

interface Pending {
  resolve(t: Tensor): void;
  reject(e: Error): void;
}

let worker: any = null;
let ready: Promise<InitResult> | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();


function onMessage(m: FromWorker, settleReady: (r: InitResult) => void, failReady: (e: Error) => void) {
  if (m.type === 'ready') {
    // Node: an idle worker must not keep the process alive.
    if (isNode && pending.size === 0) worker.unref();
    return settleReady(m.result);
  }
  if (m.type === 'init-error') return failReady(new Error(m.message));
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (isNode && pending.size === 0) worker.unref();
  if (m.type === 'result') p.resolve(m.tensor);
  else p.reject(m.argumentError ? new ArgumentError(m.message) : new Error(m.message));
}

function failAll(error: Error) {
  for (const p of pending.values()) p.reject(error);
  pending.clear();
}

/**
 * Starts the worker and loads the wasm module inside it (once). Resolves to
 * the build the worker chose. convTransposeAsync calls it when needed.
 */
export function initWorker(options: WorkerOptions = {}): Promise<InitResult> {
  if (ready) return ready;
  const { workerUrl, ...initOptions } = options;
  // The worker resolves URLs against its own location: send the page's view of them.
  if (!isNode && typeof initOptions.wasmPaths === 'string') initOptions.wasmPaths = absoluteUrl(initOptions.wasmPaths);
  if (!isNode && initOptions.wasmPaths && typeof initOptions.wasmPaths === 'object') {
    initOptions.wasmPaths = Object.fromEntries(
      Object.entries(initOptions.wasmPaths).map(([file, url]) => [file, absoluteUrl(url)])
    );
  }
  ready = new Promise<InitResult>((resolve, reject) => {
    const failReady = (e: Error) => {
      reject(e);
      failAll(e);
    };
    if (isNode) {
      const { Worker } = require('worker_threads');
      worker = new Worker(require('path').join(__dirname, 'worker-entry.js'));
      worker.on('message', (m: FromWorker) => onMessage(m, resolve, failReady));
      worker.on('error', (e: Error) => failReady(e));
    } else {
      if (typeof Worker === 'undefined') throw new Error('conv-transpose-wasm: this engine has no Worker for convTransposeAsync');
      worker = new Worker(absoluteUrl(workerUrl ?? scriptDir() + 'conv-transpose-wasm.worker.js'));
      worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data, resolve, failReady);
      worker.onerror = (event: ErrorEvent) => failReady(new Error(`conv-transpose-wasm worker: ${event.message}`));
    }
    const message: ToWorker = { type: 'init', options: initOptions };
    worker.postMessage(message);
  });
  ready.catch(() => {
    ready = null;
  });
  return ready;
}

/**
 * convTranspose in a worker: same arguments and result, as a Promise.
 * The calling thread stays free while the worker computes.
 */
export async function convTransposeAsync(
  input: TensorLike | TfjsTensorLike,
  filters: TensorLike | TfjsTensorLike,
  outputShape: readonly number[] | ArrayLike<number> | TfjsTensorLike,
  strides: number | readonly number[],
  padding: unknown = 'SAME',
  dataFormat: string | null = null,
  dilations: number | readonly number[] | null = null,
  name: string | null = null
): Promise<Tensor> {
  const opName = name === null || name === undefined ? 'conv_transpose' : String(name);
  const x = toTensor(opName, 'input', input);
  const w = toTensor(opName, 'filters', filters);
  // A tfjs tensor output_shape cannot cross to the worker: read it here.
  const shape =
    outputShape !== null && typeof outputShape === 'object' && typeof (outputShape as any).dataSync === 'function'
      ? Array.from((outputShape as any).dataSync() as ArrayLike<number>)
      : outputShape;
  await initWorker();
  const id = nextId++;
  return new Promise<Tensor>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    if (isNode) worker.ref();
    const message: ToWorker = { type: 'run', id, args: [x, w, shape, strides, padding, dataFormat, dilations, name] };
    worker.postMessage(message);
  });
}

/** Stops the worker; calls still in flight reject. The next async call starts a new one. */
export async function terminateWorker(): Promise<void> {
  if (!worker) return;
  const w = worker;
  worker = null;
  ready = null;
  failAll(new Error('conv-transpose-wasm: the worker was terminated'));
  await w.terminate();
}
