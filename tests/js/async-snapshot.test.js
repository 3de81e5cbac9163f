'use strict';
// The async mode takes its arguments when the call is made: each promise
// answers the call that was made, whatever the caller does to its arrays
// afterwards; an argument that cannot be used rejects with an ArgumentError
// naming it, before anything reaches the worker; a failed or stopped start
// rejects whoever waits on it, and the next call starts a new worker.
const lib = require('../..');
const { MessageChannel } = require('worker_threads');

afterAll(() => lib.terminateWorker());

const w = { data: new Float32Array([1]), shape: [1, 1, 1, 1] };  // 1x1 identity: output = input scattered by the stride

test('three calls on one buffer refilled between them answer their own fill (copied at call time)', async () => {
  const buf = new Float32Array(4);
  const shape = [1, 2, 2, 1];
  const outShape = [1, 4, 4, 1];
  const strides = [2, 2];
  const ps = [];
  for (let i = 1; i <= 3; i++) {
    buf.fill(i);
    shape[1] = 2;  // the caller's arrays are reused too
    outShape[1] = 4;
    strides[0] = 2;
    ps.push(lib.convTransposeAsync({ data: buf, shape }, w, outShape, strides, 'VALID'));
    shape[1] = 99;
    outShape[1] = 99;
    strides[0] = 7;
  }
  const ys = await Promise.all(ps);
  ys.forEach((y, k) => {
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(Math.max(...y.data)).toBe(k + 1);
    expect(y.data.filter((v) => v !== 0).length).toBe(4);
  });
  expect(Array.from(buf)).toEqual([3, 3, 3, 3]);  // the caller's buffer stays its own: copied, not transferred
});

test('a buffer transferred right after the call does not change the answer', async () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const p = lib.convTransposeAsync({ data, shape: [1, 2, 2, 1] }, w, [1, 4, 4, 1], 2, 'VALID');
  const { port1 } = new MessageChannel();
  port1.postMessage(null, [data.buffer]);  // detaches data
  port1.close();
  expect(data.length).toBe(0);
  const y = await p;
  expect(Array.from(y.data).filter((v) => v !== 0)).toEqual([1, 2, 3, 4]);
});

test('arguments structured clone cannot copy reject with an ArgumentError naming them', async () => {
  const x = { data: new Float32Array(4), shape: [1, 2, 2, 1] };
  const detached = new Float32Array(4);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const cases = [
    [() => lib.convTransposeAsync(x, w, [1, 4, 4, 1], { h: () => 2 }), /strides/],
    [() => lib.convTransposeAsync(x, w, [1, 4, 4, 1], [() => 2, 2]), /strides/],
    [() => lib.convTransposeAsync(x, w, [1, 4, 4, 1], 2, 'SAME', null, null, Symbol('me')), /name/],
    [() => lib.convTransposeAsync(x, w, new Proxy([1, 4, 4, () => 1], {}), 2), /output_shape/],
    [() => lib.convTransposeAsync({ data: detached, shape: [1, 2, 2, 1] }, w, [1, 4, 4, 1], 2), /input\.data.*detached/],
  ];
  for (const [call, re] of cases) {
    const err = await call().then(() => null, (e) => e);
    expect(err).toBeInstanceOf(lib.ArgumentError);
    expect(err.message).toMatch(re);
  }
  // The worker still answers.
  const y = await lib.convTransposeAsync(x, w, [1, 4, 4, 1], 2);
  expect(y.shape).toEqual([1, 4, 4, 1]);
});

test('a failed initWorker stops its worker; the next start works', async () => {
  await lib.terminateWorker();
  await expect(lib.initWorker({ numThreads: 0 })).rejects.toThrow(/numThreads/);
  const info = await lib.initWorker();
  expect(info.backend).toBe('wasm-simd-threads');
});

test('terminateWorker() while the worker starts rejects the start and the calls waiting on it', async () => {
  await lib.terminateWorker();
  const start = lib.initWorker().then(() => null, (e) => e);
  const call = lib.convTransposeAsync({ data: new Float32Array(4), shape: [1, 2, 2, 1] }, w, [1, 4, 4, 1], 2).then(() => null, (e) => e);
  await lib.terminateWorker();
  expect(await start).toEqual(new Error('conv-transpose-wasm: the worker was terminated'));
  expect(await call).toEqual(new Error('conv-transpose-wasm: the worker was terminated'));
  const y = await lib.convTransposeAsync({ data: new Float32Array(4), shape: [1, 2, 2, 1] }, w, [1, 4, 4, 1], 2);
  expect(y.shape).toEqual([1, 4, 4, 1]);
});
