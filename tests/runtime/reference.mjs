// tf.nn.conv_transpose by its definition, in float64, for checking the
// library's results in Node, Bun, Deno (check.mjs) and browsers
// (tests/browser/vite.test.mjs). Plain JavaScript, no imports: it shares no
// code with the library.

/**
 * tf.nn.conv_transpose in float64 by its definition: every input element,
 * times every filter tap, added to the output position it lands on
 * (input position * stride + tap * dilation - padding before). Also returns,
 * per output element, the sum of |terms| (the scale of its rounding error).
 */
export function reference(x, xShape, w, wShape, outShape, strides, padding, dataFormat, dilations) {
  const nd = xShape.length - 2;
  const cf = typeof dataFormat === 'string' && dataFormat[1] === 'C';
  const sp = (shape) => (cf ? shape.slice(2) : shape.slice(1, nd + 1));
  const ch = (shape) => (cf ? shape[1] : shape[nd + 1]);
  const expand = (v) => (v == null ? Array(nd).fill(1) : typeof v === 'number' ? Array(nd).fill(v) : v.length === nd ? v : sp(v));
  const N = xShape[0];
  const inSp = sp(xShape);
  const outSp = sp(outShape);
  const cin = ch(xShape);
  const cout = ch(outShape);
  const k = wShape.slice(0, nd);
  const s = expand(strides);
  const d = expand(dilations);
  const before = [];
  for (let j = 0; j < nd; j++) {
    if (padding === 'VALID') before.push(0);
    else if (padding === 'SAME') {
      const eff = (k[j] - 1) * d[j] + 1;
      const total = Math.max((Math.ceil(outSp[j] / s[j]) - 1) * s[j] + eff - outSp[j], 0);
      before.push(Math.floor(total / 2));
    } else before.push(padding[cf ? j + 2 : j + 1][0]);
  }
  // Spatial dims padded to 3 (size 1) so one loop nest serves 1-D to 3-D.
  const pad3 = (a, fill) => [...Array(3 - nd).fill(fill), ...a];
  const [I0, I1, I2] = pad3(inSp, 1);
  const [O0, O1, O2] = pad3(outSp, 1);
  const [K0, K1, K2] = pad3(k, 1);
  const [S0, S1, S2] = pad3(s, 1);
  const [D0, D1, D2] = pad3(d, 1);
  const [B0, B1, B2] = pad3(before, 0);
  const inSize = I0 * I1 * I2;
  const outSize = O0 * O1 * O2;
  const xAt = cf ? (n, p, c) => (n * cin + c) * inSize + p : (n, p, c) => (n * inSize + p) * cin + c;
  const yAt = cf ? (n, p, c) => (n * cout + c) * outSize + p : (n, p, c) => (n * outSize + p) * cout + c;
  const y = new Float64Array(N * outSize * cout);
  const mag = new Float64Array(y.length);
  for (let n = 0; n < N; n++)
    for (let i0 = 0; i0 < I0; i0++)
      for (let i1 = 0; i1 < I1; i1++)
        for (let i2 = 0; i2 < I2; i2++) {
          const ip = (i0 * I1 + i1) * I2 + i2;
          for (let k0 = 0; k0 < K0; k0++) {
            const o0 = i0 * S0 + k0 * D0 - B0;
            if (o0 < 0 || o0 >= O0) continue;
            for (let k1 = 0; k1 < K1; k1++) {
              const o1 = i1 * S1 + k1 * D1 - B1;
              if (o1 < 0 || o1 >= O1) continue;
              for (let k2 = 0; k2 < K2; k2++) {
                const o2 = i2 * S2 + k2 * D2 - B2;
                if (o2 < 0 || o2 >= O2) continue;
                const op = (o0 * O1 + o1) * O2 + o2;
                const tap = ((k0 * K1 + k1) * K2 + k2) * cout * cin;
                for (let co = 0; co < cout; co++) {
                  const yi = yAt(n, op, co);
                  let acc = 0;
                  let m = 0;
                  for (let ci = 0; ci < cin; ci++) {
                    const t = x[xAt(n, ip, ci)] * w[tap + co * cin + ci];
                    acc += t;
                    m += Math.abs(t);
                  }
                  y[yi] += acc;
                  mag[yi] += m;
                }
              }
            }
          }
        }
  return { y, mag };
}

/**
 * Stated tolerance: |result - reference| <= rel * (sum of |terms|) for every
 * element, rel = 1e-5 for float32 (a few ulps times the terms' count) and
 * 1e-12 for float64. Returns the worst ratio of error to allowed error.
 */
export function compare(result, ref, dtype) {
  const rel = dtype === 'float64' ? 1e-12 : 1e-5;
  let worst = 0;
  let maxErr = 0;
  let at = -1;
  if (result.length !== ref.y.length) return { worst: Infinity, maxErr: Infinity, at: -1, lengths: [result.length, ref.y.length] };
  for (let i = 0; i < result.length; i++) {
    const e = Math.abs(result[i] - ref.y[i]);
    const ratio = e === 0 ? 0 : e / (rel * ref.mag[i]);
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      at = i;
    }
    if (!(e <= maxErr)) maxErr = Number.isNaN(e) ? Infinity : e;
  }
  return { worst, maxErr, at, rel };
}
