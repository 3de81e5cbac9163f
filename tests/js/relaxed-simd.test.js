'use strict';
// The relaxed-SIMD build (dist/wasm/ctw-relaxed-simd-threads): its binary,
// its results, and how init() chooses it.
//
// Jest's Node 20 has relaxed SIMD off, so what needs it runs in a child
// `node --experimental-wasm-relaxed-simd` (Node 22+ and Chromium 114+ have
// it on). The binary checks read the shipped .wasm itself: the multiply-adds
// that scripts/patch-relaxed-simd.mjs renumbered carry the proposal's final
// opcodes, each is an instruction (not bytes of an immediate), and the
// engine validates the module.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const WASM = path.join(ROOT, 'dist', 'wasm', 'ctw-relaxed-simd-threads.wasm');
const FLAG = '--experimental-wasm-relaxed-simd';

// Final and prototype encodings (0xFD prefix, LEB128 opcode): the prototype
// numbering is the one clang 14 emits and binaryen 108 (wasm-dis) reads.
const MADD = [
  { name: 'f32x4.relaxed_madd', final: [0xfd, 0x85, 0x02], prototype: [0xfd, 0xaf, 0x01], binaryen108: '(f32x4.relaxed_fma' },
  { name: 'f64x2.relaxed_madd', final: [0xfd, 0x87, 0x02], prototype: [0xfd, 0xcf, 0x01], binaryen108: '(f64x2.relaxed_fma' },
];

function leb(bytes, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
  }
}

// [start, end) of the module's code section (id 10).
function codeRange(bytes) {
  for (let at = 8; at < bytes.length; ) {
    const [size, body] = leb(bytes, at + 1);
    if (bytes[at] === 10) return [body, body + size];
    at = body + size;
  }
  throw new Error('no code section');
}

function positions(bytes, [start, end], pattern) {
  const found = [];
  for (let i = start; i + pattern.length <= end; i++) {
    if (bytes[i] === pattern[0] && bytes[i + 1] === pattern[1] && bytes[i + 2] === pattern[2]) found.push(i);
  }
  return found;
}

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
  const bytes = fs.readFileSync(WASM);
  const code = codeRange(bytes);

  test('its multiply-adds are the final opcodes, and each one is an instruction', () => {
    // Turned back into the prototype numbering, binaryen 108 decodes the
    // module; it must find exactly one multiply-add per final byte pattern.
    const copy = Buffer.from(bytes);
    const counts = {};
    for (const m of MADD) {
      const at = positions(bytes, code, m.final);
      for (const i of at) copy.set(m.prototype, i);
      counts[m.name] = at.length;
    }
    expect(counts['f32x4.relaxed_madd']).toBeGreaterThan(100);
    expect(counts['f64x2.relaxed_madd']).toBeGreaterThan(50);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctw-relaxed-'));
    try {
      fs.writeFileSync(path.join(dir, 'prototype.wasm'), copy);
      const text = execFileSync('wasm-dis', [path.join(dir, 'prototype.wasm')], { encoding: 'utf8', maxBuffer: 1 << 30 });
      for (const m of MADD) expect([m.name, text.split(m.binaryen108).length - 1]).toEqual([m.name, counts[m.name]]);
      // No other relaxed instruction, whose numbering would be the prototype's too.
      expect(text.match(/\((?:\w+\.)?(?:relaxed_(?!fma)\w*|laneselect|dot_i8x16_i7x16\w*)/g)).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
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
