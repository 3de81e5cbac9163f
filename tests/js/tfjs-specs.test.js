'use strict';
// tfjs-core's own conv2dTranspose / conv3dTranspose specs, unchanged, on the
// cpu and wasm backends with registerTfjsKernels in place: run by
// tests/tfjs-specs/run.mjs in its own process (jasmine, not jest, and a
// bundle of tfjs-core's ES build), which fails unless every spec passes and
// the library computed calls on both backends.

const { execFileSync } = require('child_process');
const path = require('path');

test('tfjs-core conv2d_transpose_test.js and conv3d_transpose_test.js pass with the plug-in', () => {
  let out;
  try {
    out = execFileSync(process.execPath, [path.join(__dirname, '..', 'tfjs-specs', 'run.mjs')], { encoding: 'utf8', timeout: 120000 });
  } catch (e) {
    throw new Error(`tests/tfjs-specs/run.mjs failed:\n${e.stdout}\n${e.stderr}`);
  }
  const r = JSON.parse(out.trim().split('\n').pop());
  expect(r.problems).toEqual([]);
  expect(r.specs.failed).toBe(0);
  // 21 + 2 specs on cpu; on wasm the same less the 5 gradient specs.
  expect(r.specs.passed).toBe(41);
  expect(r.computed.cpu).toBeGreaterThan(0);
  expect(r.computed.wasm).toBeGreaterThan(0);
});
