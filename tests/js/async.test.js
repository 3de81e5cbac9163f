// The non-blocking mode in Node: convTransposeAsync runs in a worker_thread.
// Several calls in flight must each resolve to their own right answer
// (against the float64 reference), a bad call must reject with the same
// ArgumentError the synchronous form throws, and calls after it still work.
const lib = require('../..');
const R = require('./helpers/reference.js');

// Tolerance: float32 accumulation against the float64 reference, as in
// reference.test.js (|err| <= 1e-5 * sum|x*w| + 1e-6; see helpers/reference.js).

afterAll(() => lib.terminateWorker());

test('eight calls in flight, 1-D to 3-D, each gets its own answer', async () => {
  const rng = R.mulberry32(20261125);
  const cases = [];
  for (let i = 0; i < 8; i++) {
    cases.push(R.randomCase(rng, { N: 1 + (i % 3), channelsFirst: i % 2 === 1, dMax: 2 }));
  }
  const results = await Promise.all(
    cases.map((c) =>
      lib.convTransposeAsync(
        { data: c.x, shape: c.xShape },
        { data: c.w, shape: c.wShape },
        c.outShape,
        c.strides,
        R.fullPadding(c.padding, c.channelsFirst),
        R.dataFormatFor(c.xShape.length - 2, c.channelsFirst),
        c.dilations
      )
    )
  );
  results.forEach((y, i) => {
    const c = cases[i];
    const ref = R.refFor(c);
    expect(y.shape).toEqual(c.outShape);
    expect(y.dtype).toBe('float32');
    R.assertClose(y.data, ref.out, R.f32Tol(ref.absSum), `async case ${i}: ${R.describeCase(c)}`, c.outShape);
  });
});

test('a bad call rejects with the synchronous message; the next call still works', async () => {
  await lib.init();
  const x = { data: new Float32Array([1, 2, 3, 4]), shape: [1, 2, 2, 1] };
  const w = { data: new Float32Array([1, 10, 100, 1000]), shape: [2, 2, 1, 1] };
  let syncMessage = '';
  try {
    lib.convTranspose(x, w, [1, 7, 7, 1], 2);
  } catch (e) {
    syncMessage = e.message;
  }
  expect(syncMessage).toMatch(/^conv_transpose: output_shape=\[1, 7, 7, 1\]/);
  const [bad, good] = await Promise.allSettled([
    lib.convTransposeAsync(x, w, [1, 7, 7, 1], 2),
    lib.convTransposeAsync(x, w, [1, 4, 4, 1], 2),
  ]);
  expect(bad.status).toBe('rejected');
  expect(bad.reason).toBeInstanceOf(lib.ArgumentError);
  expect(bad.reason.message).toBe(syncMessage);
  expect(good.status).toBe('fulfilled');
  // Hand-computed: each input pixel scatters its 2x2 block of w (stride 2, SAME, no overlap).
  expect(Array.from(good.value.data)).toEqual([1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000]);
});
