// The non-blocking mode: convTransposeAsync runs the computation in a
// worker (a Web Worker in browsers, a worker_thread in Node) so a page stays
// responsive while a large call runs. Requests are numbered; several may be
// in flight and each promise gets its own answer.
//
// Snapshot rule: a call takes its arguments when it is made. Every argument
// is read once and checked on the calling side (an argument error rejects
// with the same ArgumentError the synchronous form throws, before anything
// reaches the worker; the rules the core checks, such as groups against the
// channels, reject from the worker with the same message); the tensors' data
// and the bias are copied then, and the copies are transferred to the
// worker. Changing or transferring the caller's arrays after the call
// returns cannot change its answer. The result's buffer is transferred back.
//
// The worker never keeps a Node process alive on its own: it is ref'd only
// while it starts or a call is in flight, and a worker that fails to start,
// exits, or is terminated rejects everything that waits on it.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { describe, opNameOf, outputShapeList, toTensor, windowArgs } from './args.js';
import { ArgumentError } from './args.js';
import type { Bits16TensorLike, DataFormat, Float32TensorLike, Float64TensorLike, Ints, OutputShape, Padding, Tensor, TensorLike, TfjsTensorLike, TypedData } from './args.js';
import { absoluteUrl, isNode, scriptDir } from './loader.js';
import { layerArgs } from './layer-args.js';
import type { Activation, Bias } from './layer-args.js';
import type { InitOptions, InitResult } from './loader.js';
import type { FromWorker, RunRequest, ToWorker } from './worker-protocol.js';

declare const require: (id: string) => any;
declare const __dirname: string;

export interface WorkerOptions extends InitOptions {
  /** URL of dist/conv-transpose-wasm.worker.js (browsers); default: next to this script. */
  workerUrl?: string;
}

/**
 * The options beyond TensorFlow's 8 arguments, as createConvTranspose takes
 * them: channel groups, a per-output-channel bias and a fused activation.
 */
export interface AsyncLayerOptions {
  groups?: number;
  bias?: Bias;
  activation?: Activation;
}

interface Pending {
  resolve(t: Tensor): void;
  reject(e: Error): void;
}

// The current worker and its start: `fail` rejects the start (if it has not
// settled) and every call in flight, and stops the worker.
interface Current {
  worker: any;
  ready: Promise<InitResult>;
  pending: Map<number, Pending>;  // this worker's calls in flight
  fail(error: Error): void;
}

let current: Current | null = null;
let nextId = 1;

// Node: an idle worker must not keep the process alive; a busy one must.
function holdProcess(c: Current): void {
  if (!isNode) return;
  if (c.pending.size > 0) c.worker.ref();
  else c.worker.unref();
}

const WORKER_FILE = 'conv-transpose-wasm.worker.js';

/**
 * Starts the worker and loads the wasm module inside it (once). Resolves to
 * the build the worker chose. convTransposeAsync calls it when needed. If
 * the start fails, the worker is stopped and the next call starts anew.
 */
export function initWorker(options: WorkerOptions = {}): Promise<InitResult> {
  if (current) return current.ready;
  const { workerUrl, ...initOptions } = options ?? {};
  // The worker resolves URLs against its own location: send the page's view of them.
  if (!isNode && typeof initOptions.wasmPaths === 'string') initOptions.wasmPaths = absoluteUrl(initOptions.wasmPaths);
  if (!isNode && initOptions.wasmPaths && typeof initOptions.wasmPaths === 'object') {
    initOptions.wasmPaths = Object.fromEntries(
      Object.entries(initOptions.wasmPaths).map(([file, url]) => [file, absoluteUrl(url)])
    );
  }
  if (!isNode && typeof Worker === 'undefined') {
    return Promise.reject(new Error('conv-transpose-wasm: this engine has no Worker for convTransposeAsync'));
  }
  let settled = false;
  let resolveReady!: (r: InitResult) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<InitResult>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const c: Current = {
    worker: null,
    ready,
    pending: new Map(),
    fail(error: Error) {
      if (current === c) current = null;
      if (!settled) {
        settled = true;
        rejectReady(error);
      }
      for (const p of c.pending.values()) p.reject(error);
      c.pending.clear();
      if (c.worker) void c.worker.terminate();
    },
  };
  current = c;
  const onMessage = (m: FromWorker) => {
    if (m.type === 'ready') {
      settled = true;
      holdProcess(c);
      resolveReady(m.result);
      return;
    }
    if (m.type === 'init-error') {
      c.fail(new Error(m.message));
      return;
    }
    const p = c.pending.get(m.id);
    if (!p) return;
    c.pending.delete(m.id);
    holdProcess(c);
    if (m.type === 'result') p.resolve(m.tensor);
    else p.reject(m.argumentError ? new ArgumentError(m.message) : new Error(m.message));
  };
  try {
    if (isNode) {
      const { Worker: NodeWorker } = require('worker_threads');
      c.worker = new NodeWorker(require('path').join(__dirname, 'worker-entry.js'));
      c.worker.on('message', onMessage);
      c.worker.on('error', (e: Error) => c.fail(e));
      c.worker.on('exit', (code: number) => c.fail(new Error(`conv-transpose-wasm: the worker exited (code ${code})`)));
    } else {
      const url = absoluteUrl(workerUrl ?? scriptDir() + WORKER_FILE);
      c.worker = new Worker(url);
      c.worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data);
      // A script that cannot be loaded (a 404, a blocked or wrong file)
      // fires an error event without a message in Chromium and Firefox.
      c.worker.onerror = (event: ErrorEvent) => {
        event.preventDefault?.();
        c.fail(new Error(event.message
          ? `conv-transpose-wasm worker (${url}): ${event.message}`
          : `conv-transpose-wasm: the worker script ${url} could not be loaded. Fix: serve the package's dist/${WORKER_FILE} ` +
            `(next to the library's script by default) or pass its URL as initWorker({ workerUrl })`));
      };
    }
    const message: ToWorker = { type: 'init', options: initOptions };
    c.worker.postMessage(message);
  } catch (e) {
    c.fail(e instanceof Error ? e : new Error(String(e)));
  }
  return ready;
}

// A copy of a tensor's data in this realm, owned by the call (its buffer is transferred to the worker).
function snapshot(t: Tensor): Tensor {
  const Ctor = t.dtype === 'float32' ? Float32Array : t.dtype === 'float64' ? Float64Array : Uint16Array;
  return { data: new Ctor(t.data as any) as TypedData, shape: t.shape, dtype: t.dtype };
}

/**
 * convTranspose in a worker: same arguments and result, as a Promise.
 * The calling thread stays free while the worker computes. The arguments
 * are taken (read, checked and the data copied) when the call is made.
 * `options` (groups, bias, activation) runs the call as
 * createConvTranspose with those options would.
 */
export function convTransposeAsync(input: Float32TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null,
  options?: AsyncLayerOptions): Promise<Tensor<Float32Array>>;
export function convTransposeAsync(input: Float64TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null,
  options?: AsyncLayerOptions): Promise<Tensor<Float64Array>>;
export function convTransposeAsync(input: Bits16TensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null,
  options?: AsyncLayerOptions): Promise<Tensor<Uint16Array>>;
export function convTransposeAsync(input: TensorLike | TfjsTensorLike, filters: TensorLike | TfjsTensorLike, outputShape: OutputShape, strides: Ints,
  padding?: Padding, dataFormat?: DataFormat | null, dilations?: Ints | null, name?: string | null,
  options?: AsyncLayerOptions): Promise<Tensor>;
export function convTransposeAsync(
  input: TensorLike | TfjsTensorLike,
  filters: TensorLike | TfjsTensorLike,
  outputShape: OutputShape,
  strides: Ints,
  padding: Padding = 'SAME',
  dataFormat: DataFormat | null = null,
  dilations: Ints | null = null,
  name: string | null = null,
  options?: AsyncLayerOptions | null
): Promise<Tensor> {
  let request: RunRequest;
  try {
    const opName = opNameOf(name);
    const x = snapshot(toTensor(opName, 'input', input));
    const w = snapshot(toTensor(opName, 'filters', filters));
    request = {
      input: x,
      filters: w,
      outputShape: outputShapeList(opName, outputShape),
      window: windowArgs(opName, { strides, padding, dataFormat, dilations }),
      name: opName,
      layer: takeLayerOptions(opName, options),
    };
  } catch (e) {
    return Promise.reject(e);
  }
  return initWorker().then((): Promise<Tensor> => {
    const c = current;
    if (!c) return Promise.reject(new Error('conv-transpose-wasm: the worker was terminated'));
    const id = nextId++;
    return new Promise<Tensor>((resolve, reject) => {
      c.pending.set(id, { resolve, reject });
      holdProcess(c);
      try {
        const message: ToWorker = { type: 'run', id, request };
        const transfer = [request.input.data.buffer, request.filters.data.buffer];
        if (request.layer?.bias) transfer.push(request.layer.bias.buffer);
        c.worker.postMessage(message, transfer);
      } catch (e) {
        c.pending.delete(id);
        holdProcess(c);
        reject(new Error(`${request.name}: the call could not be sent to the worker: ${describe(e instanceof Error ? e.message : e)}`));
      }
    });
  });
}

// The layer options read once, in the core's form; null when none is given
// (the worker then runs the one-call form).
function takeLayerOptions(opName: string, options: AsyncLayerOptions | null | undefined): RunRequest['layer'] {
  if (options === undefined || options === null) return null;
  if (typeof options !== 'object') {
    throw new ArgumentError(`${opName}: options must be an object like { groups, bias, activation }. Received: options=${describe(options)}`);
  }
  const { groups, bias, activation } = options;
  const given = (v: unknown) => v !== undefined && v !== null;
  if (!given(groups) && !given(bias) && !given(activation)) return null;
  return layerArgs(opName, { groups, bias, activation });
}

/** Stops the worker; a start and calls still in flight reject. The next async call starts a new one. */
export async function terminateWorker(): Promise<void> {
  const c = current;
  if (!c) return;
  const w = c.worker;
  c.fail(new Error('conv-transpose-wasm: the worker was terminated'));
  if (w) await w.terminate();
}
