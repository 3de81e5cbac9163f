'use strict';
// Run by relaxed-simd.test.js as `node --experimental-wasm-relaxed-simd
// relaxed-simd-child.js` (Jest's own Node has no relaxed SIMD): loads the
// relaxed-SIMD build (init({ backend: 'wasm-relaxed-simd-threads' })) and
// holds every fast kernel it offers a case, in every dtype, to the float64
// reference with the same tolerances as the SIMD build's tests, and the
// layer options' cases (groups, bias, every activation) likewise. Prints one
// JSON line: { info, checked, kernels } or { error }.
const C = require('./calls');
const L = require('./layer-cases');
const R = require('./reference');

const SEED = 7100;

// The cases: small random ones of every rank and layout; wider channel
// counts (the igemm tile, and the dot kernel's lanes); widths that are a
// multiple of the stride (the columns kernel); odd and even input-channel
// counts, so the igemm row path ends on either step of its pair of sums.
function cases() {
  const rng = R.mulberry32(SEED);
  const out = C.smallCases(SEED, 16);
  for (let i = 0; i < 12; i++) {
    const c = R.randomCase(rng, { N: 1 + (i % 3), channelsFirst: i % 5 === 4, kMax: 5, inMax: 6, channels: [2, 4, 7, 8, 24, 33] });
    out.push(C.withData(c, C.DTYPES[i % 4]));
  }
  const spec = (o) => R.makeCase(rng, { batch: 2, dilations: o.kSp.map(() => 1), channelsFirst: false, ...o });
  const wide = [
    spec({ cin: 1, cout: 1, inSp: [90], kSp: [32], strides: [8], padding: 'SAME', outSp: [720] }),
    spec({ cin: 17, cout: 3, inSp: [5, 13], kSp: [1, 8], strides: [1, 4], padding: 'VALID', outSp: [5, 56] }),
    spec({ cin: 9, cout: 11, inSp: [1, 1], kSp: [4, 4], strides: [1, 1], padding: 'VALID', outSp: [4, 4] }),
    spec({ cin: 40, cout: 16, inSp: [3, 5], kSp: [5, 5], strides: [2, 2], padding: 'SAME', outSp: [6, 10] }),
  ];
  wide.forEach((c) => C.DTYPES.forEach((d) => out.push(C.withData(c, d))));
  return out;
}

// The kernels that serve case c: igemm always; dot and pixels for 1-4
// output channels; columns for a width a multiple of a width stride >= 2.
function kernelsFor(c) {
  const N = c.xShape.length - 2;
  const cout = c.wShape[N];
  const s = c.strides[N - 1];
  const folds = s >= 2 && c.dilations[N - 1] === 1 && c.wShape[N - 1] % s === 0;
  return ['auto', 'igemm', ...(cout <= 4 ? ['dot', 'pixels'] : []), ...(folds ? ['columns'] : [])];
}

async function main() {
  const lib = require(C.ROOT);
  const info = await lib.init({ backend: 'wasm-relaxed-simd-threads', numThreads: 2 });
  await C.loadLibrary();  // the same module, already on the relaxed build
  let checked = 0;
  const kernels = {};
  for (const c of cases()) {
    C.checkAgainstReference(c, C.callOnce(c), 'one-call');
    for (const kernel of kernelsFor(c)) {
      const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, { ...C.args(c), kernel });
      try {
        C.checkAgainstReference(c, op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape), `kernel ${kernel}`);
        kernels[op.kernel] = (kernels[op.kernel] || 0) + 1;
        checked++;
      } finally {
        op.dispose();
      }
    }
  }
  // The igemm tiles in both multiply-add forms (the one measured at load serves by default).
  const forms = {};
  for (const fused of [true, false]) {
    forms[fused] = (await lib.init({ fusedMultiplyAdd: fused })).fusedMultiplyAdd;
    for (const c of cases()) {
      const op = lib.createConvTranspose({ data: c.wd, shape: c.wShape, dtype: c.dtype }, { ...C.args(c), kernel: 'igemm' });
      try {
        C.checkAgainstReference(c, op.run({ data: c.xd, shape: c.xShape, dtype: c.dtype }, c.outShape), `igemm, fused ${fused}`);
        checked++;
      } finally {
        op.dispose();
      }
    }
  }
  await lib.init({ fusedMultiplyAdd: info.fusedMultiplyAdd });

  // Groups, bias and every activation, on every kernel that serves each plan.
  const rng = R.mulberry32(SEED + 1);
  for (let i = 0; i < 2 * 4 * L.ACTIVATIONS.length; i++) {
    const c = L.layerCase(rng, i);
    const ref = R.convTransposeRef(c);
    const { x, w } = L.tensorsOf(c);
    for (const kernel of L.kernelsFor(c)) {
      const op = lib.createConvTranspose(w, { ...L.windowOptions(c), groups: c.groups, bias: L.biasArg(c), activation: c.activation, kernel });
      try {
        L.checkAgainstRef(c, ref, op.run(x, c.outShape), `kernel ${op.kernel} (${kernel}): ${L.describeLayer(c)}`);
        kernels[op.kernel] = (kernels[op.kernel] || 0) + 1;
        checked++;
      } finally {
        op.dispose();
      }
    }
  }
  return { info, checked, kernels, forms };
}

main().then(
  (r) => console.log(JSON.stringify(r)),
  (e) => console.log(JSON.stringify({ error: e && e.stack ? e.stack : String(e) }))
);
