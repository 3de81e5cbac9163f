'use strict';
// Memory across many calls and across failing calls: the wasm heap ends
// where it was.
//
// A leak of even one byte per call shows: the smallest allocation costs 16
// bytes, so 1,000 leaking calls would move usedBytes (heapStats(), see
// helpers/calls.js) by >= 16,000 and every check below allows 4 KiB.
// The heap before and after is printed with console.log.

const R = require('./helpers/reference');
const {
  HEAP_SLACK, loadLibrary, heap, args, callOnce, callPrepared, checkAgainstReference, smallCases,
} = require('./helpers/calls');

let lib;

beforeAll(async () => {
  lib = await loadLibrary();
});

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
// Many calls leave the heap where it was
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
// Failing calls free their temporaries
// ---------------------------------------------------------------------------

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
