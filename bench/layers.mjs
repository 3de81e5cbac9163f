// The decoder-layer benchmark (bench/lib/layers.mjs) on its own:
//   node --no-liftoff --expose-gc bench/layers.mjs [--quick]     (`npm run bench:layers`)
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
log(`# Decoder layers: ${os.cpus()[0].model}, ${os.cpus().length} CPUs, Node ${process.version}, onnxruntime-web ${ort.env.versions?.web ?? ''}`);
await layersSection({ policy, threads, ort });
