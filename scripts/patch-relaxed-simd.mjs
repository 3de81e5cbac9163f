#!/usr/bin/env node
// Renumbers the relaxed multiply-adds of a linked .wasm from the prototype
// opcodes that clang 14 (Debian's Emscripten 3.1.6) emits to the final ones
// of the relaxed-SIMD proposal, which engines accept:
//   f32x4.relaxed_madd  0xFD 0xAF 0x01  ->  0xFD 0x85 0x02
//   f64x2.relaxed_madd  0xFD 0xCF 0x01  ->  0xFD 0x87 0x02
// Both encodings are three bytes, so the module's layout does not change.
//
// A byte pattern is not an instruction (it could sit inside an immediate),
// so the patch is made only when binaryen's disassembler (wasm-dis, the
// version emcc runs, which names these prototypes "relaxed_fma") counts
// exactly as many of each instruction as there are patterns in the code
// section; any other relaxed instruction, whose prototype opcode would be
// wrong too, fails the build. The CMake build runs this after linking the
// relaxed module (CMakeLists.txt: ctw_wasm_module ... relaxed).
//
// usage: node scripts/patch-relaxed-simd.mjs FILE.wasm [WASM_DIS]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const PATCHES = [
  { name: 'f32x4.relaxed_madd', text: '(f32x4.relaxed_fma', from: [0xfd, 0xaf, 0x01], to: [0xfd, 0x85, 0x02] },
  { name: 'f64x2.relaxed_madd', text: '(f64x2.relaxed_fma', from: [0xfd, 0xcf, 0x01], to: [0xfd, 0x87, 0x02] },
];

function fail(message) {
  console.error(`patch-relaxed-simd: ${message}`);
  process.exit(1);
}

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return { value, next: at };
  }
}

// [start, end) of the code section's bytes.
function codeSection(bytes) {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const { value: size, next } = readLeb(bytes, at + 1);
    if (id === 10) return [next, next + size];
    at = next + size;
  }
  fail('the module has no code section');
}

function occurrences(bytes, [start, end], pattern) {
  const at = [];
  for (let i = start; i + pattern.length <= end; ++i) {
    if (pattern.every((b, j) => bytes[i + j] === b)) at.push(i);
  }
  return at;
}

const [file, wasmDis = 'wasm-dis'] = process.argv.slice(2);
if (!file) fail('usage: node scripts/patch-relaxed-simd.mjs FILE.wasm [WASM_DIS]');
const bytes = readFileSync(file);
let text;
try {
  text = execFileSync(wasmDis, [file], { encoding: 'utf8', maxBuffer: 1 << 30 });
} catch (e) {
  fail(`${wasmDis} could not read ${file} (is it already patched, or is wasm-dis missing?): ${e.message}`);
}
const others = new Set(
  (text.match(/\((?:[if](?:8x16|16x8|32x4|64x2)\.)?(?:relaxed_\w+|laneselect|dot_i8x16_i7x16\w*)/g) ?? []).filter(
    // A newer toolchain's final madd needs no renumbering.
    (t) => !PATCHES.some((p) => p.text === t || t === `(${p.name}`)
  )
);
if (others.size) fail(`${file} has relaxed instructions this script does not renumber: ${[...others].join(', ')}`);

const code = codeSection(bytes);
const report = [];
for (const p of PATCHES) {
  const instructions = text.split(p.text).length - 1;
  const found = occurrences(bytes, code, p.from);
  if (found.length !== instructions) {
    fail(`${file}: ${instructions} ${p.name} instructions but ${found.length} byte patterns in the code section; not patched`);
  }
  for (const i of found) bytes.set(p.to, i);
  report.push(`${instructions} ${p.name}`);
}
writeFileSync(file, bytes);
console.log(`patch-relaxed-simd: ${file}: renumbered ${report.join(', ')}`);
