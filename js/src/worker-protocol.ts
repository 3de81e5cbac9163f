// Messages between the main thread (async.ts) and the worker (worker-entry.ts).
import type { Tensor } from './args.js';
import type { InitOptions, InitResult } from './loader.js';

export type ToWorker =
  | { type: 'init'; options: InitOptions }
  | { type: 'run'; id: number; args: [Tensor, Tensor, unknown, unknown, unknown, unknown, unknown, unknown] };

export type FromWorker =
  | { type: 'ready'; result: InitResult }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; tensor: Tensor }
  | { type: 'error'; id: number; message: string; argumentError: boolean };
