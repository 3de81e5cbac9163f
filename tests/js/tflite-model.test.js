'use strict';
// The benchmark's TFLite model builder (bench/tflite-model.mjs): one-op
// TRANSPOSE_CONV models, run in LiteRT.js, must compute tf.nn.conv_transpose
// as the float64 reference of tests/js/helpers/reference.js does. LiteRT.js
// is an ES module that needs browser globals (bench/lib/litert-node.mjs) and
// its threaded build needs --experimental-wasm-relaxed-simd on Node 20: it
// runs in a child Node process with that flag, never in Jest's own.

const path = require('path');
const { spawnSync } = require('child_process');
const { pathToFileURL } = require('url');
const { convTransposeRef, f32Tol, assertClose, mulberry32, randomArray, prod } = require('./helpers/reference');

const ROOT = path.resolve(__dirname, '..', '..');
const modUrl = (rel) => pathToFileURL(path.join(ROOT, rel)).href;

// Each case: TensorFlow's arguments (channels last, filters [k..., Cout, Cin]).
// They cover SAME and VALID, strides 1 to 4 and unequal per dimension,
// unequal kernel sides, a kernel smaller than its stride, odd output sizes
// (the SAME padding's odd total, which TFLite puts after, like TensorFlow),
// VALID output sizes past the last tap (zeros there), batch 2, 1-D and a bias.
const CASES = [
  { input: [1, 4, 4, 3], output: [1, 8, 8, 2], kernel: [3, 3], strides: [2, 2], padding: 'SAME' },
  { input: [1, 4, 4, 3], output: [1, 7, 7, 2], kernel: [3, 3], strides: [2, 2], padding: 'SAME' },
  { input: [2, 3, 5, 4], output: [2, 6, 10, 3], kernel: [2, 2], strides: [2, 2], padding: 'VALID' },
  { input: [1, 3, 3, 2], output: [1, 10, 9, 2], kernel: [2, 3], strides: [3, 3], padding: 'VALID' },
  { input: [1, 5, 6, 2], output: [1, 5, 6, 3], kernel: [3, 2], strides: [1, 1], padding: 'SAME' },
  { input: [1, 3, 4, 5], output: [1, 6, 11, 4], kernel: [4, 5], strides: [2, 3], padding: 'SAME' },
  { input: [1, 4, 4, 2], output: [1, 10, 12, 1], kernel: [2, 2], strides: [3, 3], padding: 'SAME' },
  { input: [1, 9, 3], output: [1, 36, 2], kernel: [8], strides: [4], padding: 'SAME' },
  { input: [1, 3, 3, 2], output: [1, 6, 6, 3], kernel: [3, 3], strides: [2, 2], padding: 'SAME', bias: true },
];

// What tfliteArgs must refuse: TFLite has no such TRANSPOSE_CONV.
const UNSUPPORTED = [
  { input: [1, 2, 2, 2, 1], output: [1, 4, 4, 4, 1], kernel: [2, 2, 2], strides: [2, 2, 2], padding: 'SAME' },
  { input: [1, 4, 4, 1], output: [1, 8, 8, 1], kernel: [3, 3], strides: [2, 2], padding: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { input: [1, 4, 4, 1], output: [1, 8, 8, 1], kernel: [3, 3], strides: [2, 2], dilations: [2, 2], padding: 'SAME' },
];

function makeData() {
  const rng = mulberry32(20261207);
  return CASES.map((c) => {
    const cin = c.input[c.input.length - 1];
    const cout = c.output[c.output.length - 1];
    return {
      ...c,
      x: Array.from(randomArray(rng, prod(c.input))),
      f: Array.from(randomArray(rng, prod(c.kernel) * cout * cin)),
      bias: c.bias ? Array.from(randomArray(rng, cout)) : null,
    };
  });
}

// The child: builds each model, runs it in LiteRT.js on 2 threads, prints
// the outputs and tfliteArgs' answers for the unsupported cases as JSON.
function childScript(cases) {
  return `
    import { loadLiteRtNode } from ${JSON.stringify(modUrl('bench/lib/litert-node.mjs'))};
    import { buildTransposeConvModel, tfliteArgs } from ${JSON.stringify(modUrl('bench/tflite-model.mjs'))};
    const cases = ${JSON.stringify(cases)};
    const unsupported = ${JSON.stringify(UNSUPPORTED)};
    const lt = await loadLiteRtNode({ threads: 2 });
    const outputs = [];
    for (const c of cases) {
      const args = tfliteArgs(c);
      const bytes = buildTransposeConvModel(args, Float32Array.from(c.f), c.bias && Float32Array.from(c.bias));
      const model = await lt.litert.loadAndCompile(bytes, { accelerator: 'wasm', cpuOptions: { numThreads: 2 } });
      const input = new lt.litert.Tensor(Float32Array.from(c.x), [args.batch, args.inH, args.inW, args.cin]);
      const [y] = await model.run(input);
      outputs.push({ shape: Array.from(model.getOutputDetails()[0].shape), y: Array.from(y.toTypedArray()) });
      y.delete();
      input.delete();
      model.delete();
    }
    const refused = unsupported.map((c) => tfliteArgs(c).unsupported ?? null);
    process.stdout.write(JSON.stringify({ build: lt.build, threaded: lt.threaded, outputs, refused }));
    process.exit(0);
  `;
}

describe('bench/tflite-model.mjs in LiteRT.js', () => {
  const cases = makeData();
  let result;

  beforeAll(() => {
    // Node 22+ has relaxed SIMD on; a later Node may drop the flag.
    const flag = '--experimental-wasm-relaxed-simd';
    const flags = spawnSync(process.execPath, [flag, '-e', '0']).status === 0 ? [flag] : [];
    const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', childScript(cases)], {
      cwd: ROOT, encoding: 'utf8', timeout: 90000, maxBuffer: 16 << 20,
    });
    if (r.status !== 0) throw new Error(`LiteRT child failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
    result = JSON.parse(r.stdout);
  });

  test('LiteRT.js loads its threaded build in Node with the relaxed-SIMD flag', () => {
    expect(result.build).toBe('litert_wasm_threaded_internal.js');
    expect(result.threaded).toBe(true);
  });

  test.each(cases.map((c, i) => [`${c.input.length - 2}-D x[${c.input}] -> [${c.output}] k${c.kernel} s${c.strides} ${c.padding}${c.bias ? ' + bias' : ''}`, i]))(
    '%s matches the float64 reference', (_, i) => {
      const c = cases[i];
      const rank = c.input.length - 2;
      const cout = c.output[c.output.length - 1];
      const ref = convTransposeRef({
        x: c.x, xShape: c.input, w: c.f, wShape: [...c.kernel, cout, c.input[rank + 1]], outShape: c.output,
        strides: c.strides, dilations: new Array(rank).fill(1), padding: c.padding, channelsFirst: false,
      });
      const want = c.bias ? ref.out.map((v, j) => v + c.bias[j % cout]) : ref.out;
      const absSum = c.bias ? ref.absSum.map((v, j) => v + Math.abs(c.bias[j % cout])) : ref.absSum;
      const { shape, y } = result.outputs[i];
      // 1-D runs as 2-D with height 1: the same elements in the same order.
      expect(shape).toEqual(rank === 1 ? [c.output[0], 1, ...c.output.slice(1)] : c.output);
      assertClose(y, want, f32Tol(absSum), 'LiteRT output', c.output);
    });

  test('3-D, explicit padding and dilation are refused with a reason', () => {
    expect(result.refused).toHaveLength(UNSUPPORTED.length);
    for (const why of result.refused) expect(typeof why).toBe('string');
  });
});
