// The worker side of the non-blocking mode (convTransposeAsync in async.ts):
// a Web Worker in browsers (bundled as dist/conv-transpose-wasm.worker.js) or
// a worker_thread in Node (dist/worker-entry.js). It loads the library,
// then answers one request at a time with the same convTranspose the main
// thread would run (with layer options, the same createConvTranspose run);
// the main thread never blocks on the computation.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { convTranspose, createConvTranspose, init } from './index.js';
import type { Activation, DataFormat, Padding, Tensor } from './index.js';
import { ArgumentError } from './args.js';
import type { LayerArgs } from './layer-args.js';
import { isNode } from './loader.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

declare const require: (id: string) => any;

const port: { postMessage(m: unknown, transfer?: any[]): void; on?: any; onmessage?: any } = isNode
  ? require('worker_threads').parentPort
  : (globalThis as any);

function post(message: FromWorker, transfer: any[] = []) {
  port.postMessage(message, transfer);
}

// The activation option that layerArgs reads back into `l` (relu6 arrived as clamp(0, 6)).
function activationOption(l: LayerArgs): Activation {
  if (l.activation === 'clamp') return { type: 'clamp', minValue: l.lo, maxValue: l.hi };
  if (l.activation === 'leakyRelu' || l.activation === 'elu') return { type: l.activation, alpha: l.alpha };
  return l.activation as Activation;
}

async function handle(message: ToWorker) {
  if (message.type === 'init') {
    try {
      post({ type: 'ready', result: await init(message.options) });
    } catch (e: any) {
      post({ type: 'init-error', message: String(e && e.message ? e.message : e) });
    }
    return;
  }
  const { input, filters, outputShape, window: w, name, layer } = message.request;
  // The window back in convTranspose's argument forms (args.ts windowArgs made it).
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < w.explicitPaddings.length; i += 2) pairs.push([w.explicitPaddings[i], w.explicitPaddings[i + 1]]);
  try {
    // The caller's strings as given: the core checks them, as in the synchronous form.
    const padding = (w.paddingIsList ? pairs : w.padding) as Padding;
    const dataFormat = (w.dataFormat || null) as DataFormat | null;
    let out: Tensor;
    if (layer) {
      const op = createConvTranspose(filters, { strides: w.strides as number[], padding, dataFormat, dilations: w.dilations, name,
        groups: layer.groups, bias: layer.bias ?? undefined, activation: activationOption(layer) });
      try {
        out = op.run(input, outputShape);
      } finally {
        op.dispose();
      }
    } else {
      out = convTranspose(input, filters, outputShape, w.strides as number[], padding, dataFormat, w.dilations, name);
    }
    post({ type: 'result', id: message.id, tensor: out }, [out.data.buffer]);
  } catch (e: any) {
    post({
      type: 'error',
      id: message.id,
      message: String(e && e.message ? e.message : e),
      argumentError: e instanceof ArgumentError,
    });
  }
}

if (isNode) {
  port.on('message', (m: ToWorker) => void handle(m));
} else {
  port.onmessage = (event: { data: ToWorker }) => void handle(event.data);
}
