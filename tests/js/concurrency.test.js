'use strict';
// Calls from several worker_threads at once, each thread with its own
// module: every thread gets its own right answers.

const path = require('path');
const { Worker } = require('worker_threads');
const { ROOT, loadLibrary } = require('./helpers/calls');

beforeAll(async () => {
  await loadLibrary();
});

describe('concurrency', () => {
  test('3 worker_threads calling at once each get their own right answers', async () => {
    const workerCode = `
      const { parentPort, workerData } = require('worker_threads');
      const R = require(workerData.helpers);
      const lib = require(workerData.root);
      const { id, seed, dtype, N, channelsFirst, calls } = workerData;
      const typed = (v) => dtype === 'float32' ? Float32Array.from(v) : dtype === 'float64' ? Float64Array.from(v) : R.encodeArray(v, dtype);
      const dec = (d) => dtype === 'float32' || dtype === 'float64' ? Float64Array.from(d) : R.decodeArray(d, dtype);
      const tol = { float32: R.f32Tol, float64: R.f64Tol, float16: R.f16Tol, bfloat16: R.bf16Tol }[dtype];
      lib.init({ numThreads: 2 }).then(() => {
        const rng = R.mulberry32(seed);
        const cases = [];
        for (let i = 0; i < calls; i++) {
          const c = R.randomCase(rng, { N, channelsFirst, inMax: 9, kMax: 4, dMax: 2, channels: [1, 3, 8, 17, 32], batchMax: 2 });
          cases.push({ c, x: typed(c.x), w: typed(c.w) });
        }
        parentPort.postMessage({ ready: id });
        parentPort.once('message', () => {
          let failures = [], worst = 0, elements = 0;
          const t0 = Date.now();
          for (let i = 0; i < cases.length; i++) {
            const { c, x, w } = cases[i];
            const a = [c.strides, R.fullPadding(c.padding, c.channelsFirst), R.dataFormatFor(N, c.channelsFirst), c.dilations];
            let y;
            if (i % 3 === 2) {
              const op = lib.createConvTranspose({ data: w, shape: c.wShape, dtype }, { strides: a[0], padding: a[1], dataFormat: a[2], dilations: a[3] });
              y = op.run({ data: x, shape: c.xShape, dtype }, c.outShape);
              op.dispose();
            } else {
              y = lib.convTranspose({ data: x, shape: c.xShape, dtype }, { data: w, shape: c.wShape, dtype }, c.outShape, ...a);
            }
            const ref = R.refFor(c, dec(x), dec(w));
            const got = dtype === 'float16' || dtype === 'bfloat16' ? R.decodeArray(y.data, dtype) : y.data;
            const rep = R.compare(got, ref.out, tol(ref.absSum));
            elements += ref.out.length;
            worst = Math.max(worst, rep.worstRatio);
            if (rep.failures || !rep.lengthOk) failures.push(R.describeCase(c) + ': ' + rep.failures + ' bad elements');
          }
          parentPort.postMessage({ id, dtype, N, channelsFirst, calls: cases.length, elements, worst, failures, ms: Date.now() - t0, heap: lib.heapStats() });
        });
      }, (e) => parentPort.postMessage({ id, error: String(e) }));`;
    const specs = [
      { id: 0, seed: 801, dtype: 'float32', N: 2, channelsFirst: false, calls: 40 },
      { id: 1, seed: 802, dtype: 'float64', N: 3, channelsFirst: true, calls: 25 },
      { id: 2, seed: 803, dtype: 'float16', N: 1, channelsFirst: false, calls: 60 },
    ];
    const helpers = path.join(__dirname, 'helpers', 'reference.js');
    const workers = specs.map((s) => new Worker(workerCode, { eval: true, workerData: { ...s, root: ROOT, helpers } }));
    try {
      const ready = workers.map((w) => new Promise((resolve, reject) => {
        w.once('message', (m) => (m.error ? reject(new Error(`worker ${m.id}: ${m.error}`)) : resolve(m)));
        w.once('error', reject);
      }));
      await Promise.all(ready);
      const results = workers.map((w) => new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      }));
      for (const w of workers) w.postMessage('go'); // all three start together
      const out = await Promise.all(results);
      for (const r of out) {
        console.log(`worker ${r.id} (${r.dtype}, ${r.N}-D, ${r.channelsFirst ? 'channels first' : 'channels last'}): ${r.calls} calls, ${r.elements} outputs, worst error/bound ${r.worst.toFixed(3)}, ${r.ms} ms`);
        expect(r.error).toBeUndefined();
        expect(r.failures).toEqual([]);
        expect(r.calls).toBe(specs[r.id].calls);
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }, 60000);
});
