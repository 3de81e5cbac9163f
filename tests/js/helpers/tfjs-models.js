'use strict';
// Two tfjs Layers models whose time goes to transposed convolutions, built
// in code with fixed random weights (seeded initializers), for the
// plug-in's model tests and the benchmark's models section:
//   generator: DCGAN-style, dense 100 -> 4x4x512, then conv2dTranspose k5
//     s2 'same' 512 -> 256 -> 128 -> 64 -> 3 with batch norm and ReLU
//     between, tanh at the end: 64x64x3 out;
//   decoder: pix2pix-style U-Net decoder, conv2dTranspose k4 s2 'same' from
//     a 1x1x512 bottleneck, each up-sampling (batch norm, ReLU) concatenated
//     with the encoder's skip at that size (inputs 2x2x512 ... 32x32x64), a
//     last k4 s2 to 64x64x3 and tanh.
// `tf` is @tensorflow/tfjs; the models are made on its current backend.

function initializers(tf, seed) {
  let n = seed;
  return {
    kernel: () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: n++ }),
    gamma: () => tf.initializers.randomNormal({ mean: 1, stddev: 0.02, seed: n++ }),
  };
}

function upsample(tf, init, x, filters, kernelSize, activation) {
  let y = tf.layers.conv2dTranspose({ filters, kernelSize, strides: 2, padding: 'same', kernelInitializer: init.kernel(), useBias: !activation }).apply(x);
  if (activation) return tf.layers.activation({ activation }).apply(y);
  y = tf.layers.batchNormalization({ gammaInitializer: init.gamma() }).apply(y);
  return tf.layers.reLU().apply(y);
}

function generator(tf, seed = 1) {
  const init = initializers(tf, seed);
  const z = tf.input({ shape: [100] });
  let x = tf.layers.dense({ units: 4 * 4 * 512, kernelInitializer: init.kernel(), useBias: false }).apply(z);
  x = tf.layers.reshape({ targetShape: [4, 4, 512] }).apply(x);
  x = tf.layers.batchNormalization({ gammaInitializer: init.gamma() }).apply(x);
  x = tf.layers.reLU().apply(x);
  for (const filters of [256, 128, 64]) x = upsample(tf, init, x, filters, 5);
  x = upsample(tf, init, x, 3, 5, 'tanh');
  return tf.model({ inputs: z, outputs: x, name: 'generator' });
}

const SKIPS = [[2, 512], [4, 512], [8, 256], [16, 128], [32, 64]];

function decoder(tf, seed = 2) {
  const init = initializers(tf, seed);
  const bottleneck = tf.input({ shape: [1, 1, 512] });
  const skips = SKIPS.map(([s, c]) => tf.input({ shape: [s, s, c] }));
  let x = bottleneck;
  SKIPS.forEach(([, c], i) => {
    x = upsample(tf, init, x, c, 4);
    x = tf.layers.concatenate().apply([x, skips[i]]);
  });
  x = upsample(tf, init, x, 3, 4, 'tanh');
  return tf.model({ inputs: [bottleneck, ...skips], outputs: x, name: 'decoder' });
}

/** The model's inputs for a batch (seeded normal values); dispose them after use. */
function inputsFor(tf, model, batch, seed = 7) {
  const xs = model.inputs.map((inp, i) => tf.randomNormal([batch, ...inp.shape.slice(1)], 0, 1, 'float32', seed + i));
  return xs.length === 1 ? xs[0] : xs;
}

/** The transposed-convolution layers: each one's input shape, filter and window, for per-layer timing. */
function transposedLayers(model, batch) {
  return model.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').map((l) => ({
    name: l.name,
    inputShape: [batch, ...l.input.shape.slice(1)],
    outputShape: [batch, ...l.output.shape.slice(1)],
    kernel: l.kernel.val,
    strides: l.strides,
    padding: l.padding,
  }));
}

/**
 * A prediction read back (dataSync), its tensor disposed. Not in tf.tidy:
 * tidy walks what its function returns, a typed array element by element.
 */
function predictData(model, x) {
  const y = model.predict(x);
  const data = y.dataSync();
  y.dispose();
  return data;
}

module.exports = { generator, decoder, inputsFor, transposedLayers, predictData, MODELS: { generator, decoder } };
