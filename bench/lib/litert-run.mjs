// LiteRT.js as a benchmark peer, in Node and in the browser page alike: a
// transposed convolution of the benchmark's shapes as a one-op `.tflite`
// model (bench/tflite-model.mjs), compiled for LiteRT's CPU (wasm, XNNPACK)
// accelerator. `litert` is the @litertjs/core module namespace, already
// loaded (bench/lib/litert-node.mjs in Node, the page's own import in the
// browser).

import { buildTransposeConvModel, tfliteArgs } from '../tflite-model.mjs';

/**
 * The LiteRT arguments of a benchmark shape (shapes.mjs's shapeInfo), or
 * { unsupported: why } where TFLite has no such operator (3-D).
 */
export const liteRtArgsOf = (sh) => tfliteArgs({
  input: sh.input, output: sh.output, kernel: sh.kernel, strides: sh.strides, dilations: sh.dilations, padding: sh.padding,
});

/**
 * A compiled model of shape sh with filters f (TensorFlow layout) and an
 * optional bias on `threads` threads, or { unsupported } (see liteRtArgsOf). Two ways to
 * call it:
 *   call(x): LiteRT's full call as an application makes it: make the input
 *            tensor from x, run, copy the output into a Float32Array, free
 *            both tensors;
 *   runOnly(): run on an input tensor made once (from x of the first call);
 *            returns the output tensor, freed at the next call or at
 *            dispose(): what remains is LiteRT's run alone.
 * read(tensor) copies runOnly's output out (for the output check).
 */
export async function liteRtModel(litert, sh, f, threads, bias = null) {
  const args = liteRtArgsOf(sh);
  if (args.unsupported) return args;
  const inputShape = [args.batch, args.inH, args.inW, args.cin];
  const model = await litert.loadAndCompile(buildTransposeConvModel(args, f, bias), {
    accelerator: 'wasm',
    cpuOptions: { numThreads: threads },
  });
  let fixedInput = null;
  let lastOutput = null;
  return {
    async call(x) {
      const input = new litert.Tensor(x, inputShape);
      try {
        const [y] = await model.run(input);
        try {
          return y.toTypedArray();
        } finally {
          y.delete();
        }
      } finally {
        input.delete();
      }
    },
    async runOnly(x) {
      fixedInput ??= new litert.Tensor(x, inputShape);
      lastOutput?.delete();
      lastOutput = null;
      [lastOutput] = await model.run(fixedInput);
      return lastOutput;
    },
    read: (t) => t.toTypedArray(),
    dispose() {
      lastOutput?.delete();
      fixedInput?.delete();
      model.delete();
    },
  };
}
