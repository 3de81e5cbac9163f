// The worker side of the non-blocking mode (convTransposeAsync in async.ts):
// a Web Worker in browsers (bundled as dist/conv-transpose-wasm.worker.js) or
// a worker_thread in Node (dist/worker-entry.js). It loads the library,
// then answers one request at a time with the same convTranspose the main
// thread would run; the main thread never blocks on the computation.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { convTranspose, init } from './index.js';
import { ArgumentError } from './args.js';
import { isNode } from './loader.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

declare const require: (id: string) => any;

const port: { postMessage(m: unknown, transfer?: any[]): void; on?: any; onmessage?: any } = isNode
  ? require('worker_threads').parentPort
  : (globalThis as any);

function post(message: FromWorker, transfer: any[] = []) {
  port.postMessage(message, transfer);
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
  const [input, filters, outputShape, strides, padding, dataFormat, dilations, name] = message.args;
  try {
    const out = convTranspose(input, filters, outputShape as any, strides as any, padding as any, dataFormat as any, dilations as any, name as any);
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
