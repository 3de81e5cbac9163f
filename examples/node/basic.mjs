// Upsamples a small image 2x with a transposed convolution (a bilinear
// kernel, as segmentation decoders initialise theirs) and prints it.
//   node examples/node/basic.mjs
import { init, convTranspose } from 'conv-transpose-wasm';

const info = await init();
console.log(`conv-transpose-wasm: ${info.backend}, ${info.threads} thread(s)\n`);

// A 4x4 single-channel image: NHWC [1, 4, 4, 1].
const image = {
  data: new Float32Array([
    0, 0, 0, 0,
    0, 8, 8, 0,
    0, 8, 8, 0,
    0, 0, 0, 0,
  ]),
  shape: [1, 4, 4, 1],
};

// Bilinear 2x upsampling kernel: the outer product of [1, 3, 3, 1] / 4.
// Filters are [height, width, output_channels, input_channels].
const w1 = [0.25, 0.75, 0.75, 0.25];
const bilinear = {
  data: Float32Array.from({ length: 16 }, (_, i) => w1[Math.floor(i / 4)] * w1[i % 4]),
  shape: [4, 4, 1, 1],
};

const t0 = performance.now();
const out = convTranspose(image, bilinear, [1, 8, 8, 1], 2, 'SAME');
const ms = performance.now() - t0;

const grid = (t) => {
  const [, h, w] = t.shape;
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(Array.from(t.data.subarray(y * w, y * w + w), (v) => v.toFixed(2).padStart(5)).join(' '));
  }
  return rows.join('\n');
};

console.log(`input ${JSON.stringify(image.shape)}:\n${grid(image)}\n`);
console.log(`tf.nn.conv_transpose(input, bilinear 4x4, output_shape=[1, 8, 8, 1], strides=2, 'SAME') -> ${JSON.stringify(out.shape)} ${out.dtype}:`);
console.log(grid(out));
console.log(`\n(${ms.toFixed(3)} ms)`);
