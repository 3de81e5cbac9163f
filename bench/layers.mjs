// The decoder-layer benchmark (bench/lib/layers.mjs) on its own:
//   node --no-liftoff --expose-gc --experimental-wasm-relaxed-simd bench/layers.mjs [--quick]
//   (`npm run bench:layers`; the flag lets LiteRT.js load its threaded build)
// `npm run bench` runs the same section after the shapes.
import os from 'node:os';

import { layersSection } from './lib/layers.mjs';
import { timingPolicy } from './lib/measure.mjs';
import { log } from './lib/report.mjs';

const quick = process.argv.includes('--quick');
const { policy } = timingPolicy({ quick, cpuSkipS: null });
const threads = Math.min(os.cpus().length, 8);
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;
// LiteRT.js needs browser globals in Node: installed by its loader, in this process only.
const { loadLiteRtNode } = await import('./lib/litert-node.mjs');
const lt = await loadLiteRtNode({ threads });
const lib = await import('conv-transpose-wasm');
const info = await lib.init({ numThreads: threads });
log(`# Decoder layers: ${os.cpus()[0].model}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}, Node ${process.version}, ours ${JSON.stringify(info)}, onnxruntime-web ${ort.env.versions?.web ?? ''}, LiteRT.js ${lt.version} (${lt.build ?? ''})`);
await layersSection({ policy, threads, ort, litert: lt.litert, litertThreads: threads });
process.exit(0);  // onnxruntime-web's and LiteRT's workers would keep the process alive
