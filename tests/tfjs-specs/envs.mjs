// The backends tfjs-core's specs run on (jasmine_util's test environments).
import { setTestEnvs } from '@tensorflow/tfjs-core/dist/jasmine_util.js';

setTestEnvs([
  { name: 'cpu', backendName: 'cpu', isDataSync: true },
  { name: 'wasm', backendName: 'wasm', isDataSync: true },
]);
