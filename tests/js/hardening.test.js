'use strict';
// Hardening (issue 5): memory across many calls and across failing calls,
// sizes that cannot fit in wasm memory, calls from several worker_threads at
// once, and NaN / Infinity propagation.
//
// Heap figures come from the public heapStats(): { heapBytes, usedBytes }
// (heapBytes: the wasm memory's size; usedBytes: bytes the core's allocator has
// handed out and not had back, mallinfo().uordblks). A leak of even one byte
// per call shows: the smallest allocation costs 16 bytes, so 1,000 leaking
// calls would move usedBytes by >= 16,000 and every check below allows 4 KiB.
//
// Non-finite values follow TensorFlow: output o sums the terms x[i] * w[k]
// with o = i*s + k*d - pad_before (nothing else: positions outside the input,
// such as SAME padding, contribute no term). A NaN term, +Inf with -Inf
// terms, or Inf * 0 make NaN; +Inf terms with finite others make +Inf; an
// output that no non-finite term reaches is finite and within the usual
// tolerance. The expected class of every output is the float64 reference's
// (helpers/reference.js), which sums the same terms in IEEE doubles.
//
// Figures (heap before / after, the largest output that works) are printed
// with console.log for the README.

const path = require('path');
const { Worker } = require('worker_threads');
const { spawnSync } = require('child_process');
const R = require('./helpers/reference');

const ROOT = path.resolve(__dirname, '..', '..');
const HEAP_SLACK = 4096;
let lib;

beforeAll(async () => {
  lib = require('../..');
  await lib.init({ numThreads: 2 });
  if (typeof lib.heapStats !== 'function') {
    throw new Error('these tests need heapStats() in the public API: heapStats() -> { heapBytes, usedBytes }');
  }
});

function heap() {
  const h = lib.heapStats();
  return { heapBytes: h.heapBytes, usedBytes: h.usedBytes };
}

// Runs `body` (an async function body that returns a JSON-able value) in a
// fresh Node process with the package loaded as `lib`: for calls that may
// hang, abort the wasm module or leave ~2 GiB of wasm memory behind.
function runChild(body, timeoutMs) {
  const script = `
    const lib = require(${JSON.stringify(ROOT)});
    (async () => {
      await lib.init({ numThreads: 2 });
      const result = await (async () => { ${body} })();
      process.stdout.write(JSON.stringify(result));
      process.exit(0);
    })();`;
  const t0 = Date.now();
  const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20 });
  const ms = Date.now() - t0;
  try {
    return { out: JSON.parse(res.stdout), ms };
  } catch (e) {
    const why = res.signal === 'SIGTERM' ? `killed after ${ms} ms (timeout ${timeoutMs} ms)` : `status ${res.status}, signal ${res.signal}`;
    throw new Error(`child process did not report (${why}): ${res.stdout.slice(0, 500)} ${res.stderr.slice(0, 500)}`);
  }
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

// ---------------------------------------------------------------------------
// Cases and calls
// ---------------------------------------------------------------------------

const DTYPES = ['float32', 'float64', 'float16', 'bfloat16'];

// Typed data of case c for dtype, and the float64 values the reference sees.
function typed(values, dtype) {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  return R.encodeArray(values, dtype);
}
function decoded(data, dtype) {
  if (dtype === 'float32' || dtype === 'float64') return Float64Array.from(data);
  return R.decodeArray(data, dtype);
}
function tolFor(dtype, absSum) {
  return { float32: R.f32Tol, float64: R.f64Tol, float16: R.f16Tol, bfloat16: R.bf16Tol }[dtype](absSum);
}

function withData(c, dtype) {
  return { ...c, dtype, xd: typed(c.x, dtype), wd: typed(c.w, dtype) };
}

function args(c) {
  const N = c.xShape.length - 2;
  return {
    strides: c.strides,
    padding: R.fullPadding(c.padding, c.channelsFirst),
    dataFormat: R.dataFormatFor(N, c.channelsFirst),
    dilations: c.dilations,
  };
}

function callOnce(c, overrides = {}) {
  const a = { ...args(c), ...overrides };
  const x = overrides.input || { data: c.xd, shape: c.xShape, dtype: c.dtype };
  const w = overrides.filters || { data: c.wd, shape: c.wShape, dtype: c.dtype };
  return lib.convTranspose(x, w, overrides.outShape || c.outShape, a.strides, a.padding, a.dataFormat, a.dilations);
}

function callPrepared(c, runs = 1) {
  const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
  try {
    let y;
    for (let r = 0; r < runs; r++) y = op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape);
    return y;
  } finally {
    op.dispose();
  }
}

function checkAgainstReference(c, y, label) {
  const ref = R.refFor(c, decoded(c.xd, c.dtype), decoded(c.wd, c.dtype));
  const got = c.dtype === 'float16' || c.dtype === 'bfloat16' ? R.decodeArray(y.data, c.dtype) : y.data;
  R.assertClose(got, ref.out, tolFor(c.dtype, ref.absSum), `${label}: ${R.describeCase(c)} ${c.dtype}`, c.outShape);
}

// A pool of small cases (1-D to 3-D, both layouts, all paddings and dtypes).
function smallCases(seed, count) {
  const rng = R.mulberry32(seed);
  const cases = [];
  for (let i = 0; i < count; i++) {
    const c = R.randomCase(rng, {
      N: 1 + (i % 3),
      channelsFirst: i % 4 === 3,
      dMax: 2,
      kMax: 3,
      inMax: 4,
      channels: [1, 2, 3, 5, 9],
      batchMax: 2,
    });
    cases.push(withData(c, DTYPES[i % 4]));
  }
  return cases;
}

// Failing calls, each of a different kind; every one must throw an Error
// whose message says what was wrong.
const BIG = 1 << 20;
const ERROR_KINDS = {
  'bad output shape': [(c) => callOnce(c, { outShape: c.outShape.map((v, i) => (i === 0 || i === (c.channelsFirst ? 1 : c.outShape.length - 1) ? v : v + 7)) }), /does not fit|output_shape/],
  'dtype mismatch': [(c) => callOnce(c, { filters: { data: Float64Array.from(c.w), shape: c.wShape, dtype: 'float64' }, input: { data: Float32Array.from(c.x), shape: c.xShape, dtype: 'float32' } }), /same dtype/],
  'data length mismatch': [(c) => callOnce(c, { input: { data: c.xd.subarray(0, c.xd.length - 1), shape: c.xShape, dtype: c.dtype } }), /input\.data has/],
  'huge sizes': [
    (c) => callOnce(c, {
      input: { data: new Float32Array(16), shape: [1, BIG, BIG, 16], dtype: 'float32' },
      filters: { data: new Float32Array(2 * 2 * 16 * 16), shape: [2, 2, 16, 16], dtype: 'float32' },
      outShape: [1, 2 * BIG, 2 * BIG, 16], strides: 2, padding: 'SAME', dataFormat: 'NHWC', dilations: 1,
    }),
    /MiB|too many elements/,
  ],
  'filter data length mismatch': [(c) => callOnce(c, { filters: { data: c.wd.subarray(1), shape: c.wShape, dtype: c.dtype } }), /filters\.data has/],
  'prepared: bad options': [(c) => lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, { ...args(c), strides: 0 }), /strides/],
  'prepared: bad run': [
    (c) => {
      const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
      try {
        return op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape.map((v) => v + 100));
      } finally {
        op.dispose();
      }
    },
    /does not fit|must equal|output_shape/,
  ],
  'prepared: output array of the wrong length': [
    (c) => {
      const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
      try {
        const n = c.outShape.reduce((a, b) => a * b, 1);
        return op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape, { output: new c.xd.constructor(n + 1) });
      } finally {
        op.dispose();
      }
    },
    /options\.output has \d+ elements but output_shape=\[[\d, ]+\] needs \d+/,
  ],
  'prepared: output array of the wrong type': [
    (c) => {
      const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
      try {
        const n = c.outShape.reduce((a, b) => a * b, 1);
        const Wrong = c.dtype === 'float64' ? Float32Array : Float64Array;
        return op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape, { output: new Wrong(n) });
      } finally {
        op.dispose();
      }
    },
    /options\.output must be a (Float32Array|Float64Array|Uint16Array) for dtype \w+, got (Float32Array|Float64Array)/,
  ],
};

function expectThrows(kind, c) {
  const [fn, re] = ERROR_KINDS[kind];
  let threw = null;
  try {
    fn(c);
  } catch (e) {
    threw = e;
  }
  if (!threw) throw new Error(`${kind}: the call did not throw (${R.describeCase(c)})`);
  if (!(threw instanceof Error) || !re.test(threw.message)) {
    throw new Error(`${kind}: expected an Error matching ${re}, got ${threw && threw.stack ? threw.stack : String(threw)}`);
  }
}

// ---------------------------------------------------------------------------
// 1. Many calls leave the heap where it was
// ---------------------------------------------------------------------------

describe('memory: 10,000 mixed calls', () => {
  test('one-call, prepared run/dispose and failing calls leave the wasm heap where it was after the first few', () => {
    const cases = smallCases(501, 96);
    const rng = R.mulberry32(502);
    const kinds = Object.keys(ERROR_KINDS);
    const counts = { once: 0, prepared: 0, errors: 0, checked: 0 };
    const step = (i) => {
      const c = cases[i % cases.length];
      const r = rng();
      if (r < 0.5) {
        const y = callOnce(c);
        counts.once++;
        if (i % 97 === 0) {
          checkAgainstReference(c, y, `call ${i}`);
          counts.checked++;
        }
      } else if (r < 0.7) {
        const y = callPrepared(c, 1 + (i % 2));
        counts.prepared++;
        if (i % 89 === 0) {
          checkAgainstReference(c, y, `prepared call ${i}`);
          counts.checked++;
        }
      } else {
        expectThrows(kinds[i % kinds.length], c);
        counts.errors++;
      }
    };
    const WARMUP = 200;
    const TOTAL = 10000;
    const t0 = Date.now();
    for (let i = 0; i < WARMUP; i++) step(i);
    const before = heap();
    const marks = [];
    for (let i = WARMUP; i < TOTAL; i++) {
      step(i);
      if ((i + 1) % 2450 === 0) marks.push(heap().usedBytes);
    }
    const after = heap();
    console.log(
      `memory: ${TOTAL} calls (${counts.once} one-call, ${counts.prepared} prepared create/run/dispose, ` +
        `${counts.errors} failing; ${counts.checked} checked against the reference) in ${Date.now() - t0} ms. ` +
        `After ${WARMUP} calls: usedBytes ${before.usedBytes}, heapBytes ${before.heapBytes}; ` +
        `after ${TOTAL}: usedBytes ${after.usedBytes}, heapBytes ${after.heapBytes} ` +
        `(change ${after.usedBytes - before.usedBytes} bytes); usedBytes along the way: ${marks.join(', ')}`,
    );
    expect(after.usedBytes - before.usedBytes).toBeLessThanOrEqual(HEAP_SLACK);
    expect(after.heapBytes).toBe(before.heapBytes);
    for (const m of marks) expect(m - before.usedBytes).toBeLessThanOrEqual(HEAP_SLACK);
  });
});

// ---------------------------------------------------------------------------
// 2. Failing calls free their temporaries
// ---------------------------------------------------------------------------

describe('prepared run into a caller\'s output array', () => {
  // The result lands in the given array (returned as the tensor's data) with
  // the same values as a run that allocates, every dtype, against the
  // float64 reference with the dtype's tolerance; the array is reused.
  const cases = smallCases(520, 24);
  test.each(cases.map((c, i) => [i, `${R.describeCase(c)} ${c.dtype}`, c]))('case %i: %s', (_i, _d, c) => {
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    try {
      const x = { data: c.xd, shape: c.xShape, dtype: c.dtype };
      const fresh = op.run(x, c.outShape);
      const out = new c.xd.constructor(fresh.data.length).fill(7);
      for (let r = 0; r < 2; r++) {
        const y = op.run(x, c.outShape, { output: out });
        expect(y.data).toBe(out);
        expect(y.shape).toEqual(c.outShape);
        expect(Array.from(out)).toEqual(Array.from(fresh.data));
        checkAgainstReference(c, y, 'into output');
      }
    } finally {
      op.dispose();
    }
  });

  test('options that are not an object are an ArgumentError; the operator still runs', () => {
    const c = cases[0];
    const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, args(c));
    try {
      const x = { data: c.xd, shape: c.xShape, dtype: c.dtype };
      expect(() => op.run(x, c.outShape, 5)).toThrow(lib.ArgumentError);
      expect(() => op.run(x, c.outShape, 5)).toThrow(/options to be an object like \{ output \}, got 5/);
      expect(() => op.run(x, c.outShape, { output: [1, 2, 3] })).toThrow(/options\.output must be a \w+ for dtype \w+, got Array/);
      checkAgainstReference(c, op.run(x, c.outShape), 'after bad options');
    } finally {
      op.dispose();
    }
  });
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

describe('a prepared operator over changing shapes', () => {
  // The operator keeps the core's plan of its last shapes; a call with other
  // shapes (or a failing one) must neither reuse it nor lose it.
  test('input sizes A, B, failing, A, B: each result matches the float64 reference', () => {
    const rng = R.mulberry32(530);
    const spec = (inSp, outSp) => ({ channelsFirst: false, batch: 1, cin: 3, cout: 2, kSp: [3, 3], strides: [2, 2], dilations: [1, 1], padding: 'SAME', inSp, outSp });
    const a = withData(R.makeCase(rng, spec([4, 5], [8, 10])), 'float32');
    const b = withData({ ...R.makeCase(rng, spec([7, 3], [13, 6])), w: a.w }, 'float32');
    const op = lib.createConvTranspose({ data: a.wd, shape: a.wShape }, args(a));
    try {
      const runCase = (c) => checkAgainstReference(c, op.run({ data: c.xd, shape: c.xShape }, c.outShape), 'changing shapes');
      runCase(a);
      runCase(b);
      expect(() => op.run({ data: a.xd, shape: a.xShape }, [1, 9, 10, 2])).toThrow(/output_shape/);
      runCase(a);
      runCase(a);
      runCase(b);
    } finally {
      op.dispose();
    }
  });
});

describe('memory: error paths free what they allocated', () => {
  const cases = smallCases(601, 24);
  test.each(Object.keys(ERROR_KINDS))('1,000 failing calls: %s', (kind) => {
    for (let i = 0; i < 10; i++) expectThrows(kind, cases[i % cases.length]);
    const before = heap();
    for (let i = 0; i < 1000; i++) expectThrows(kind, cases[i % cases.length]);
    const after = heap();
    console.log(
      `error path '${kind}': usedBytes ${before.usedBytes} -> ${after.usedBytes}, heapBytes ${before.heapBytes} -> ${after.heapBytes} over 1,000 calls`,
    );
    expect(after.usedBytes - before.usedBytes).toBeLessThanOrEqual(HEAP_SLACK);
    expect(after.heapBytes).toBe(before.heapBytes);
    // And the module still computes.
    const c = cases[0];
    checkAgainstReference(c, callOnce(c), `after '${kind}'`);
  });
});

// ---------------------------------------------------------------------------
// 3. Sizes that do not fit
// ---------------------------------------------------------------------------

describe('large tensors: rejected before anything is allocated; element counts are never wrapped', () => {
  const probe = smallCases(701, 4)[0];

  // Runs fn, which must throw an Error matching re without growing or using
  // the wasm heap; then a small call must still be right.
  function rejectsCleanly(label, fn, re) {
    const before = heap();
    let err = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    const after = heap();
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(re);
    if (after.heapBytes !== before.heapBytes || after.usedBytes !== before.usedBytes) {
      throw new Error(`${label}: the heap moved (${JSON.stringify(before)} -> ${JSON.stringify(after)}); message: ${err.message}`);
    }
    checkAgainstReference(probe, callOnce(probe), `after ${label}`);
    return err.message;
  }

  const f32 = (shape, n = 1) => ({ data: new Float32Array(n), shape, dtype: 'float32' });
  const u16 = (shape, dtype, n = 1) => ({ data: new Uint16Array(n), shape, dtype });

  test('tensors larger than wasm memory: input, filters, output', () => {
    const msgs = [];
    // 4 GiB of input.
    msgs.push(rejectsCleanly('4 GiB input', () => lib.convTranspose(f32([1, 32768, 32768, 1]), f32([1, 1, 1, 1]), [1, 32768, 32768, 1], 1, 'VALID'), /MiB/));
    // 3 GiB of filters (float64).
    msgs.push(rejectsCleanly('3 GiB filters', () => lib.convTranspose({ data: new Float64Array(1), shape: [1, 1, 1, 1024], dtype: 'float64' }, { data: new Float64Array(1), shape: [3, 1, 131072, 1024], dtype: 'float64' }, [1, 3, 1, 131072], 1, 'VALID', 'NHWC'), /MiB/));
    // A 1-pixel input whose output is 3 GiB (3-D, bfloat16, 1x1x1 kernel, strides [1024, 1024, 768]).
    msgs.push(rejectsCleanly('3 GiB output', () => lib.convTranspose(u16([1, 1, 1, 1, 3], 'bfloat16', 3), u16([1, 1, 1, 2, 3], 'bfloat16', 6), [1, 1024, 1024, 768, 2], [1024, 1024, 768], 'VALID', 'NDHWC'), /MiB/));
    for (const m of msgs) console.log(`rejected: ${m}`);
  });

  test('the kernel scratch alone does not fit: rejected before allocating', () => {
    // float16, 2^28 elements in and out: 1 GiB of tensors, which fit; the
    // kernel works on a float32 copy of the input (1 GiB more), which does not.
    // (The data is short: a planner that let the call through would fail on
    // its length instead, and the message check below would catch that.)
    const H = 16384;
    const m = rejectsCleanly('scratch', () => lib.convTranspose(u16([1, H, H, 1], 'float16'), u16([1, 1, 1, 1], 'float16'), [1, H, H, 1], 1, 'VALID'), /MiB/);
    console.log(`rejected (scratch): ${m}`);
    const f = /needs ([0-9.e+]+) MiB .* plus ([0-9.e+]+) MiB of scratch\), more than the ([0-9.e+]+) MiB/.exec(m);
    expect(f).not.toBeNull();
    const [needs, scratch, budget] = f.slice(1).map(Number);
    expect(needs).toBeGreaterThan(budget);
    expect(needs - scratch).toBeLessThan(budget); // the tensors alone would fit
  });

  test.each([
    ['2^31 + 2^16 input elements (negative in 32 bits)', [1, 32768, 65538, 1], 2 ** 31 + 2 ** 16, 0],
    ['2^32 input elements (0 in 32 bits)', [1, 65536, 65536, 1], 2 ** 32, 0],
    ['2^32 + 1 input elements (1 in 32 bits)', [1, 641, 6700417, 1], 2 ** 32 + 1, 1],
  ])('%s: rejected with the true size, not wrapped', (label, shape, elements, wrapped) => {
    // The data has the element count a 32-bit count would wrap to: a wrapped count would accept it.
    const data = new Float32Array(wrapped);
    const m = rejectsCleanly(label, () => lib.convTranspose({ data, shape }, f32([1, 1, 1, 1]), shape, 1, 'VALID'), /MiB|too many/);
    const needs = /needs ([0-9.e+]+) MiB/.exec(m);
    if (needs) expect(Number(needs[1])).toBeGreaterThanOrEqual((elements * 4 * 2) / 2 ** 20 * 0.99);
    console.log(`rejected (${label}): ${m}`);
  });

  test.each([
    ['input of 2^53 elements', { shape: [1, 2 ** 26, 2 ** 27, 1] }, null],
    ['input of 2^54 elements', { shape: [2 ** 20, 2 ** 20, 2 ** 13, 2] }, null],
    ['filters of 2^60 elements', null, { shape: [2 ** 20, 2 ** 20, 2 ** 10, 2 ** 10] }],
    ['output of 2^62 elements', null, null],
  ])('%s: rejected (not wrapped)', (label, input, filters) => {
    const x = input ? f32(input.shape) : f32([1, 2 ** 10, 2 ** 10, 2 ** 10]);
    const w = filters ? f32(filters.shape) : f32([1, 1, x.shape[3], x.shape[3]]);
    const out = label.startsWith('output') ? [1, 2 ** 30, 2 ** 21, 2 ** 10] : [x.shape[0], x.shape[1], x.shape[2], w.shape[2]];
    const strides = label.startsWith('output') ? [2 ** 20, 2 ** 11] : 1;
    const m = rejectsCleanly(label, () => lib.convTranspose(x, w, out, strides, 'SAME'), /2\^53|too many|MiB|does not fit/);
    console.log(`rejected (${label}): ${m}`);
  });

  // The fast kernel keeps one tap group per stride phase (prod(strides) of
  // them) whatever the tensors' sizes. A 1-pixel call with strides 12000
  // (2-D) must either work quickly or be refused up front; run in a child
  // process because a failure here has been an abort of the wasm module.
  test('huge strides on tiny tensors: a clear Error or a quick answer, never an abort', () => {
    const { out } = runChild(`
      const out = {};
      for (const s of [4096, 12000, 100000]) {
        const t0 = Date.now();
        try {
          const y = lib.convTranspose({ data: new Float32Array([2]), shape: [1, 1, 1, 1] },
                                      { data: new Float32Array([3]), shape: [1, 1, 1, 1] }, [1, 1, 1, 1], s, 'SAME');
          out[s] = { value: y.data[0], ms: Date.now() - t0, heapBytes: lib.heapStats().heapBytes };
        } catch (e) {
          out[s] = { error: String(e && e.message || e), isError: e instanceof Error, ms: Date.now() - t0, heapBytes: lib.heapStats().heapBytes };
        }
      }
      return out;`, 60000);
    console.log(`huge strides: ${JSON.stringify(out)}`);
    for (const [s, r] of Object.entries(out)) {
      if ('value' in r) {
        expect({ s, value: r.value }).toEqual({ s, value: 6 });
        expect({ s, ms: r.ms < 2000 }).toEqual({ s, ms: true });
        expect({ s, heapGrewTo: r.heapBytes <= 64 * 2 ** 20 ? 'small' : r.heapBytes }).toEqual({ s, heapGrewTo: 'small' });
      } else {
        expect({ s, isError: r.isError, aborted: /Aborted/.test(r.error) }).toEqual({ s, isError: true, aborted: false });
        expect(r.error).toMatch(/^conv_transpose: /);
      }
    }
  });

  // Filters with a huge spatial dim (and no or tiny data): the planner must
  // refuse them at once, not after a loop over every tap.
  test('a huge filter dimension is refused at once', () => {
    const { out, ms } = runChild(`
      const out = {};
      for (const [k, cout] of [[2 ** 27, 1], [2 ** 40, 0], [2 ** 40, 3]]) {
        const t0 = Date.now();
        try {
          lib.convTranspose({ data: new Float32Array(1), shape: [1, 1, 1] }, { data: new Float32Array(1), shape: [k, cout, 1] }, [1, 1, cout], 1, 'SAME');
          out[k + 'x' + cout] = { ok: true, ms: Date.now() - t0 };
        } catch (e) { out[k + 'x' + cout] = { error: e.message.slice(0, 200), ms: Date.now() - t0 }; }
      }
      return out;`, 8000);
    console.log(`huge filter dims (${ms} ms in all): ${JSON.stringify(out)}`);
    for (const [k, r] of Object.entries(out)) {
      expect({ k, fast: r.ms < 1000 }).toEqual({ k, fast: true });
    }
  });

  // Tiny tensors whose dilated kernel is huge: TensorFlow computes these (only
  // the taps that land inside the input count); the work and memory must
  // follow the tensors, not the dilated kernel's extent.
  test('tiny tensors with a huge dilation: answered quickly, without a large scratch', () => {
    const { out } = runChild(`
      const out = {};
      for (const d of [2 ** 20, 2 ** 26, 2 ** 31]) {
        const t0 = Date.now();
        try {
          const y = lib.convTranspose({ data: new Float32Array([1, 2, 3]), shape: [1, 3, 1] }, { data: new Float32Array([5, 7, 11]), shape: [3, 1, 1] }, [1, 3, 1], 1, 'SAME', null, d);
          out[d] = { values: Array.from(y.data), ms: Date.now() - t0, heapBytes: lib.heapStats().heapBytes };
        } catch (e) { out[d] = { error: e.message.slice(0, 200), ms: Date.now() - t0, heapBytes: lib.heapStats().heapBytes }; }
      }
      return out;`, 60000);
    console.log(`huge dilations: ${JSON.stringify(out)}`);
    for (const [d, r] of Object.entries(out)) {
      // SAME with one output per input: only the middle tap lands inside, so y = 7 * x.
      expect({ d, values: r.values, error: r.error }).toEqual({ d, values: [7, 14, 21], error: undefined });
      expect({ d, fast: r.ms < 1000, heapSmall: r.heapBytes <= 64 * 2 ** 20 }).toEqual({ d, fast: true, heapSmall: true });
    }
  });

  // Bisection on x [1, H, H, 16] -> [1, 2H, 2H, 16], filters [2, 2, 16, 16],
  // stride 2, SAME, float32: the largest output that works. In a child
  // process, so that its ~2 GiB of wasm memory is gone when it ends.
  test('largest [1, 2H, 2H, 16] output that works (k2 s2 SAME float32)', () => {
    const { out } = runChild(`
      const C = 16;
      const wdata = new Float32Array(2 * 2 * C * C);
      for (let i = 0; i < wdata.length; i++) wdata[i] = ((i * 37) % 11 - 5) / 8;
      const w = { data: wdata, shape: [2, 2, C, C] };
      // Does the planner accept H? (Data of the wrong length: its error comes only after planning.)
      const accepted = (H) => {
        try { lib.convTranspose({ data: new Float32Array(1), shape: [1, H, H, C] }, w, [1, 2 * H, 2 * H, C], 2, 'SAME'); return true; }
        catch (e) { if (/input\\.data has/.test(e.message)) return true; return e.message; }
      };
      let lo = 1, hi = 1 << 16;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (accepted(mid) === true) lo = mid; else hi = mid; }
      const rejection = accepted(lo + 1);
      // Run for real at the largest accepted H, going down 1% at a time if a real call fails.
      const run = (H) => {
        const x = new Float32Array(H * H * C);
        for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 17 - 8) / 8;
        const t0 = Date.now();
        try {
          const y = lib.convTranspose({ data: x, shape: [1, H, H, C] }, w, [1, 2 * H, 2 * H, C], 2, 'SAME');
          const ms = Date.now() - t0;
          // Spot checks: with k2 s2 SAME each output gets exactly one tap (no padding).
          let worst = 0;
          for (let t = 0; t < 2000; t++) {
            const oi = (t * 2654435761) % (2 * H), oj = (t * 40503 + 7) % (2 * H), co = t % C;
            const i = oi >> 1, j = oj >> 1, a = oi & 1, b = oj & 1;
            let s = 0;
            for (let ci = 0; ci < C; ci++) s += x[(i * H + j) * C + ci] * wdata[((a * 2 + b) * C + co) * C + ci];
            worst = Math.max(worst, Math.abs(y.data[(oi * 2 * H + oj) * C + co] - s));
          }
          return { ok: true, ms, worst, heap: lib.heapStats() };
        } catch (e) { return { ok: false, error: e.message, heap: lib.heapStats() }; }
      };
      let H = lo, r = run(H);
      const tries = [{ H, ok: r.ok, error: r.error }];
      while (!r.ok && H > 1 && tries.length < 4) { H = Math.floor(H * 0.99); r = run(H); tries.push({ H, ok: r.ok, error: r.error }); }
      let after;
      try { after = lib.convTranspose({ data: new Float32Array([1]), shape: [1, 1, 1, 1] }, { data: new Float32Array([2]), shape: [1, 1, 1, 1] }, [1, 1, 1, 1], 1, 'SAME').data[0]; }
      catch (e) { after = e.message; }
      return { plannerMax: lo, rejection, H, result: r, tries, after };`, 110000);
    const H = out.H;
    const outElems = 4 * H * H * 16;
    console.log(
      `largest output: x [1, ${H}, ${H}, 16] -> [1, ${2 * H}, ${2 * H}, 16] float32 ${out.result.ok ? 'works' : 'FAILED'} ` +
        `(${outElems} output elements, ${mib(outElems * 4)} of output, ${mib(H * H * 16 * 4)} of input; ` +
        `wasm memory ${mib(out.result.heap.heapBytes)} after, ${out.result.ms} ms, worst spot-check error ${out.result.worst}). ` +
        `The planner accepts up to H = ${out.plannerMax}; H = ${out.plannerMax + 1} is refused with: ${out.rejection}. ` +
        `Real calls: ${JSON.stringify(out.tries)}`,
    );
    expect(out.result.ok).toBe(true);
    expect(out.result.worst).toBeLessThan(1e-4);
    expect(typeof out.rejection).toBe('string');
    expect(out.rejection).toMatch(/^conv_transpose: .*MiB/);
    expect(out.after).toBe(2);
    // Every call the planner accepts must work: the largest accepted H must run.
    expect(out.tries[0]).toEqual({ H: out.plannerMax, ok: true });
  }, 120000);
});

// ---------------------------------------------------------------------------
// 4. Concurrency: three worker_threads, each with its own module
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 8. NaN and Infinity
// ---------------------------------------------------------------------------

describe('non-finite values propagate as in TensorFlow', () => {
  // Compares class by class: NaN where the reference is NaN, the same
  // infinity where it is infinite, finite and close elsewhere.
  function checkNonFinite(c, y, label) {
    const xs = decoded(c.xd, c.dtype);
    const ws = decoded(c.wd, c.dtype);
    const ref = R.refFor(c, xs, ws);
    const got = c.dtype === 'float16' || c.dtype === 'bfloat16' ? R.decodeArray(y.data, c.dtype) : y.data;
    const tol = tolFor(c.dtype, ref.absSum);
    const classes = { nan: 0, posInf: 0, negInf: 0, finite: 0 };
    for (let i = 0; i < ref.out.length; i++) {
      const r = ref.out[i];
      const g = got[i];
      let ok;
      if (Number.isNaN(r)) {
        classes.nan++;
        ok = Number.isNaN(g);
      } else if (!Number.isFinite(r)) {
        classes[r > 0 ? 'posInf' : 'negInf']++;
        ok = g === r;
      } else {
        classes.finite++;
        ok = Number.isFinite(g) && Math.abs(g - r) <= tol(i, r);
      }
      if (!ok) {
        throw new Error(
          `${label}: ${R.describeCase(c)} ${c.dtype}: output ${i} at [${R.unflatten(i, c.outShape).join(', ')}] ` +
            `is ${g}, expected ${r} (terms reaching it: ${ref.taps[i]} taps x ${c.wShape[c.wShape.length - 1]} channels)`,
        );
      }
    }
    return classes;
  }

  // 2-D, stride 2, SAME, 3x3 taps: interior and border outputs, every kernel
  // (2 output channels from 3 input channels: pixel lanes; 3 from 5: input
  // channel lanes; 9: output channel lanes).
  function planted(dtype, cout, channelsFirst, plant) {
    const rng = R.mulberry32(900 + cout);
    const cin = cout === 3 ? 5 : 3;
    const c = R.makeCase(rng, {
      channelsFirst, batch: 1, cin, cout, inSp: [4, 4], kSp: [3, 3], strides: [2, 2], dilations: [1, 1],
      padding: 'SAME', outSp: [8, 8], Type: Float64Array,
    });
    const x = Array.from(c.x, (v) => Math.round(v * 8) / 8);
    const w = Array.from(c.w, (v) => Math.round(v * 8) / 8 || 0.125);
    const xi = (h, wv, ch) => (channelsFirst ? (ch * 4 + h) * 4 + wv : (h * 4 + wv) * cin + ch);
    const wi = (kh, kw, co, ci) => ((kh * 3 + kw) * cout + co) * cin + ci;
    plant({ x, w, xi, wi });
    return withData({ ...c, x, w }, dtype);
  }

  const PLANTS = {
    'NaN in the input': ({ x, xi }) => { x[xi(1, 1, 0)] = NaN; },
    '+Inf in the input (w has zeros: Inf * 0)': ({ x, w, xi, wi }) => {
      x[xi(2, 2, 1)] = Infinity;
      w[wi(1, 1, 0, 1)] = 0;
    },
    '+Inf and -Inf inputs meeting in some outputs': ({ x, xi }) => {
      x[xi(1, 2, 0)] = Infinity;
      x[xi(1, 3, 0)] = -Infinity;
    },
    'Inf in a corner tap of the filters (SAME padding must not make 0 * Inf)': ({ w, wi }) => {
      w[wi(2, 2, 0, 0)] = Infinity;
      w[wi(0, 0, 0, 2)] = -Infinity;
    },
    'NaN in the filters': ({ w, wi }) => { w[wi(0, 1, 0, 1)] = NaN; },
  };

  const planCases = [];
  for (const dtype of DTYPES) for (const cout of [2, 3, 9]) for (const cf of [false, true]) for (const p of Object.keys(PLANTS)) planCases.push([dtype, cout, cf, p]);

  test.each(planCases)('%s, %i output channels, channels first %s: %s', (dtype, cout, cf, plantName) => {
    const c = planted(dtype, cout, cf, PLANTS[plantName]);
    const y = callOnce(c);
    const classes = checkNonFinite(c, y, plantName);
    // The case must exercise what it names: some non-finite and some finite outputs.
    expect(classes.finite).toBeGreaterThan(0);
    expect(classes.nan + classes.posInf + classes.negInf).toBeGreaterThan(0);
    const yp = callPrepared(c);
    checkNonFinite(c, yp, `${plantName} (prepared)`);
  });

  test('random shapes with NaN / +Inf / -Inf planted, every dtype and both kernels', () => {
    const rng = R.mulberry32(950);
    const totals = { nan: 0, posInf: 0, negInf: 0, finite: 0 };
    const failures = [];
    for (let i = 0; i < 160; i++) {
      const dtype = DTYPES[i % 4];
      const c0 = R.randomCase(rng, { N: 1 + (i % 3), channelsFirst: i % 5 === 4, dMax: 2, kMax: 4, inMax: 6, channels: [1, 2, 3, 4, 5, 9, 17], batchMax: 2, Type: Float64Array });
      const x = Array.from(c0.x);
      const w = Array.from(c0.w);
      const plants = 1 + Math.floor(rng() * 3);
      for (let p = 0; p < plants; p++) {
        const into = rng() < 0.6 ? x : w;
        const v = [NaN, Infinity, -Infinity][Math.floor(rng() * 3)];
        into[Math.floor(rng() * into.length)] = v;
      }
      if (rng() < 0.3) w[Math.floor(rng() * w.length)] = 0;
      const c = withData({ ...c0, x, w }, dtype);
      try {
        const classes = checkNonFinite(c, i % 2 ? callOnce(c) : callPrepared(c), `random case ${i}`);
        for (const k of Object.keys(totals)) totals[k] += classes[k];
      } catch (e) {
        failures.push(e.message);
      }
    }
    console.log(`non-finite (random): outputs checked by class: ${JSON.stringify(totals)}; ${failures.length} of 160 cases wrong`);
    expect(failures).toEqual([]);
    expect(totals.nan).toBeGreaterThan(0);
    expect(totals.posInf).toBeGreaterThan(0);
    expect(totals.negInf).toBeGreaterThan(0);
  });
});
