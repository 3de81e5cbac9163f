'use strict';
// NaN and Infinity propagate as in TensorFlow.
//
// Output o sums the terms x[i] * w[k] with o = i*s + k*d - pad_before
// (nothing else: positions outside the input, such as SAME padding,
// contribute no term). A NaN term, +Inf with -Inf terms, or Inf * 0 make
// NaN; +Inf terms with finite others make +Inf; an output that no non-finite
// term reaches is finite and within the usual tolerance. The expected class
// of every output is the float64 reference's (helpers/reference.js), which
// sums the same terms in IEEE doubles.

const R = require('./helpers/reference');
const { DTYPES, loadLibrary, decoded, tolFor, withData, callOnce, callPrepared } = require('./helpers/calls');

beforeAll(async () => {
  await loadLibrary();
});

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
