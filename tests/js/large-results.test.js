'use strict';
// Results of 512 KiB and more, which the wrapper in Node copies into
// unzeroed memory: each is a plain array of its own, right, in every dtype,
// on 1 and 2 threads.

const R = require('./helpers/reference');
const { loadLibrary, withData, args, callOnce, checkAgainstReference } = require('./helpers/calls');

let lib;

beforeAll(async () => {
  lib = await loadLibrary();
});

describe('results of 512 KiB and more (Node: copied into unzeroed memory)', () => {
  // From 512 KiB the wrapper copies a result into Buffer.allocUnsafeSlow
  // memory instead of a zeroed new array (index.ts, newResultArray). On 2
  // threads that array is made by the core's side task while the workers
  // run, on 1 thread after the call. Each result must still be a plain array
  // of the dtype's type that owns its whole buffer (not wasm memory, not
  // Node's shared Buffer pool), equal to the float64 reference, and
  // independent of the next call's result.
  const DT = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };
  afterAll(() => lib.init({ numThreads: 2 }));
  test.each(Object.keys(DT).flatMap((d) => [[d, 2], [d, 1]]))('%s, one-call and prepared, %i thread(s)', async (dtype, threads) => {
    await lib.init({ numThreads: threads });
    const cout = 16 / DT[dtype];  // 128 x 256 x cout elements = 512 KiB in every dtype
    const c = withData(R.makeCase(R.mulberry32(77), {
      channelsFirst: false, batch: 1, cin: 3, cout, inSp: [64, 128], kSp: [3, 3], strides: [2, 2],
      dilations: [1, 1], padding: 'SAME', outSp: [128, 256], Type: Float64Array,
    }), dtype);
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype }, args(c));
    try {
      const x = { data: c.xd, shape: c.xShape, dtype };
      const results = [callOnce(c), op.run(x, c.outShape), op.run(x, c.outShape)];
      for (const y of results) {
        expect(y.data.constructor).toBe(c.xd.constructor);
        expect(y.data.byteLength).toBe(512 * 1024);
        expect(y.data.byteOffset).toBe(0);
        expect(y.data.buffer.byteLength).toBe(y.data.byteLength);
        expect(Object.prototype.toString.call(y.data.buffer)).toBe('[object ArrayBuffer]');
        checkAgainstReference(c, y, 'large result');
      }
      expect(results[1].data.buffer).not.toBe(results[2].data.buffer);
      const second = Array.from(results[2].data);
      results[1].data.fill(0);
      expect(Array.from(results[2].data)).toEqual(second);
    } finally {
      op.dispose();
    }
  });
});
