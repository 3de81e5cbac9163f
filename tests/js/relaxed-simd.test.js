'use strict';
// The relaxed-SIMD build (dist/wasm/ctw-relaxed-simd-threads): its binary,
// its results, and how init() chooses it.
//
// Jest's Node 20 has relaxed SIMD off, so what needs it runs in a child
// `node --experimental-wasm-relaxed-simd` (Node 22+ and Chromium 114+ have
// it on). The binary checks read the shipped .wasm itself: a decoder that
// knows the proposal's final encodings (wabt, from npm) reads every
// function and finds the multiply-adds that scripts/patch-relaxed-simd.mjs
// renumbered as relaxed_madd instructions (it refuses a leftover prototype
// opcode: "unexpected opcode 0xfd 0xaf 0x1"), and the engine validates the
// module.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const wabt = require('wabt');

const ROOT = path.resolve(__dirname, '../..');
const WASM = path.join(ROOT, 'dist', 'wasm', 'ctw-relaxed-simd-threads.wasm');
const FLAG = '--experimental-wasm-relaxed-simd';

function runNode(args, input) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120000, input });
  if (r.signal || r.status !== 0) throw new Error(`node ${args.join(' ')}: ${r.signal || r.status}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// WebAssembly.validate of a file in a Node with or without relaxed SIMD.
function validates(file, flags) {
  return runNode([...flags, '-e', `console.log(WebAssembly.validate(require('fs').readFileSync(${JSON.stringify(file)})))`]);
}

describe('the shipped relaxed-SIMD binary', () => {
  test('its multiply-adds are relaxed_madd instructions in the final encoding', async () => {
    const w = await wabt();
    const module = w.readWasm(fs.readFileSync(WASM), {
      simd: true, relaxed_simd: true, threads: true, bulk_memory: true, sign_extension: true,
      mutable_globals: true, nontrapping_float_to_int: true, readDebugNames: false,
    });
    try {
      // V8 validates the module (next test); here the decoder reads every function body.
      const text = module.toText({});
      const count = (name) => text.split(`${name} `).length - 1 + text.split(`${name}\n`).length - 1;
      expect(count('f32x4.relaxed_madd')).toBeGreaterThan(100);
      expect(count('f64x2.relaxed_madd')).toBeGreaterThan(50);
      // Without the relaxed-SIMD feature the same decoder refuses the module.
      expect(() => w.readWasm(fs.readFileSync(WASM), { simd: true, threads: true, bulk_memory: true })).toThrow();
    } finally {
      module.destroy();
    }
  });

  test('an engine with relaxed SIMD validates it; one without rejects it', () => {
    expect(validates(WASM, [FLAG])).toBe(true);
    expect(validates(WASM, [])).toBe(false);
  });
});

test('the relaxed-SIMD build matches the float64 reference: every dtype and fast kernel, groups, bias and every activation, within the SIMD build\'s tolerances', () => {
  const r = runNode([FLAG, path.join(__dirname, 'helpers', 'relaxed-simd-child.js')]);
  expect(r.error).toBeUndefined();
  expect(r.info).toMatchObject({ backend: 'wasm-relaxed-simd-threads', threads: Math.min(2, os.availableParallelism ? os.availableParallelism() : os.cpus().length) });
  expect(Object.keys(r.kernels).sort()).toEqual(['channelwise', 'columns', 'dot', 'igemm', 'pixels']);
  expect(r.checked).toBeGreaterThan(100);
  // The measured form is reported, and either form can be forced.
  expect(typeof r.info.fusedMultiplyAdd).toBe('boolean');
  expect(r.forms).toEqual({ true: true, false: false });
});

describe('init() and the relaxed-SIMD build', () => {
  const initIn = (flags, options) => runNode([...flags, '-e', `require(${JSON.stringify(ROOT)}).init(${JSON.stringify(options)})
    .then((info) => console.log(JSON.stringify({ backend: info.backend })), (e) => console.log(JSON.stringify({ error: e.message })))`]);

  test('chosen by default where the engine validates relaxed SIMD', () => {
    expect(initIn([FLAG], {})).toEqual({ backend: 'wasm-relaxed-simd-threads' });
  });

  test('not chosen where it does not (Node 20 without the flag): the SIMD + threads build runs', () => {
    expect(initIn([], {})).toEqual({ backend: 'wasm-simd-threads' });
  });

  test('forced where the engine lacks relaxed SIMD: an error naming the backend and the reason', () => {
    const r = initIn([], { backend: 'wasm-relaxed-simd-threads' });
    expect(r.error).toMatch(/init\(\{ backend: 'wasm-relaxed-simd-threads' \}\) cannot run here: this engine does not validate relaxed SIMD \(f32x4\.relaxed_madd\); Node before 22 needs --experimental-wasm-relaxed-simd/);
  });

  test('init({ backend: \'wasm-simd-threads\' }) still loads the SIMD build where relaxed SIMD works', () => {
    expect(initIn([FLAG], { backend: 'wasm-simd-threads' })).toEqual({ backend: 'wasm-simd-threads' });
  });
});
