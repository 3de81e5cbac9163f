// Deterministic inputs shared by the browser tests and Node: the page
// imports this file from the test server (/tests/browser/cases.mjs), Node
// imports it directly, and both run the same convTranspose on them.

function lcg(seed) {
  let s = seed >>> 0;
  // exact small floats: multiples of 1/64 in [-2, 2)
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 24) - 128) / 64;
  };
}

function tensor(shape, seed, Type = Float32Array) {
  const rnd = lcg(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Type.from({ length: n }, rnd), shape };
}

/**
 * The large call for the responsiveness test: a decoder layer,
 * x [1, n, n, c] -> [1, 2n, 2n, c], 4x4 kernel, stride 2, SAME.
 */
export function heavyCase({ n = 96, c = 256, k = 4 } = {}) {
  return {
    name: `heavy ${n}x${n}x${c} k${k}`,
    args: [tensor([1, n, n, c], 7), tensor([k, k, c, c], 8), [1, 2 * n, 2 * n, c], 2, 'SAME'],
    flops: 2 * n * n * c * c * k * k,
  };
}

/**
 * Several different calls to have in flight at once; each has its own
 * output shape and values, so an answer delivered to the wrong promise shows.
 * The last one is invalid and must reject with an ArgumentError.
 */
export function asyncCases() {
  return [
    { name: '2-D NHWC stride 2 SAME', args: [tensor([2, 9, 11, 5], 1), tensor([3, 3, 6, 5], 2), [2, 18, 22, 6], 2, 'SAME'] },
    { name: '1-D NWC stride 3 VALID', args: [tensor([1, 40, 3], 3), tensor([5, 2, 3], 4), [1, 122, 2], 3, 'VALID'] },
    { name: '2-D NCHW dilation 2', args: [tensor([1, 4, 8, 8], 5), tensor([3, 3, 7, 4], 6), [1, 7, 12, 12], 1, 'VALID', 'NCHW', 2] },
    { name: '3-D NDHWC float64', args: [tensor([1, 4, 5, 6, 3], 9, Float64Array), tensor([2, 3, 3, 4, 3], 10, Float64Array), [1, 8, 10, 12, 4], [2, 2, 2], 'SAME'] },
    { name: '2-D explicit padding', args: [tensor([1, 16, 16, 8], 11), tensor([4, 4, 3, 8], 12), [1, 32, 32, 3], 2, [[0, 0], [1, 1], [1, 1], [0, 0]]] },
    { name: 'invalid output shape', args: [tensor([1, 3, 3, 4], 13), tensor([3, 3, 3, 4], 14), [1, 7, 7, 3], 2, 'SAME'], invalid: true },
  ];
}
