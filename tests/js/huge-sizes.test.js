'use strict';
// Sizes that cannot fit in wasm memory, element counts past 32 bits and
// 2^53, huge strides, filter dimensions and dilations: a clear Error before
// anything is allocated (the heap does not move), or a quick right answer;
// never a wrapped count or an abort. Also the largest output that works.
// Figures (the messages, the largest output) are printed with console.log.

const { spawnSync } = require('child_process');
const { ROOT, loadLibrary, heap, callOnce, checkAgainstReference, smallCases } = require('./helpers/calls');

let lib;

beforeAll(async () => {
  lib = await loadLibrary();
});

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
