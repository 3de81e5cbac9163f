// Messages between the main thread (async.ts) and the worker (worker-entry.ts).
import type { Tensor, WindowArgs } from './args.js';
import type { LayerArgs } from './layer-args.js';
import type { InitOptions, InitResult } from './loader.js';

/** One call, normalised on the calling side: plain numbers, strings and the call's own copies of the data. */
export interface RunRequest {
  input: Tensor;
  filters: Tensor;
  outputShape: number[];
  window: WindowArgs;
  name: string;
  /** groups, bias and activation read once (layer-args.ts); null: none given. */
  layer: LayerArgs | null;
}

export type ToWorker =
  | { type: 'init'; options: InitOptions }
  | { type: 'run'; id: number; request: RunRequest };

export type FromWorker =
  | { type: 'ready'; result: InitResult }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; tensor: Tensor }
  | { type: 'error'; id: number; message: string; argumentError: boolean };
