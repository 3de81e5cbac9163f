// LiteRT.js (@litertjs/core) in Node, for the benchmark and the test of the
// TFLite model builder. LiteRT.js is browser-first: its loader runs its wasm
// glue with importScripts() (in a worker) or a <script> tag, reads the glue's
// result from self.ModuleFactory, sizes its thread pool from
// navigator.hardwareConcurrency and asks it again at every model compile.
// Node 20 has none of these, so this module provides them:
//   - `self` (= globalThis) and `navigator.hardwareConcurrency`, left in place
//     for the life of the process (every compile reads the latter);
//   - importScripts(url), only while LiteRT loads: it require()s a CommonJS
//     copy of the glue (the package is "type": "module", so the original .js
//     would load as an ES module, where the glue's require() is missing).
// These globals are the benchmark process's own: only bench code and tests'
// child processes import this module, never the library.
//
// Threads: LiteRT.js ships its threaded build only with relaxed SIMD, which
// Node 20 enables with --experimental-wasm-relaxed-simd (on by default from
// Node 22 / Chrome 114). Without it, its single-threaded build without
// relaxed SIMD (litert_wasm_compat_internal.js) loads.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const LITERT_PACKAGE = '@litertjs/core';

/** The package's folder, version and wasm folder. */
export function liteRtPackage() {
  const pkgFile = require.resolve(`${LITERT_PACKAGE}/package.json`);
  const dir = path.dirname(pkgFile);
  return { dir, version: JSON.parse(fs.readFileSync(pkgFile, 'utf8')).version, wasmDir: path.join(dir, 'wasm') };
}

function installBrowserGlobals(threads) {
  if (typeof globalThis.self === 'undefined') globalThis.self = globalThis;
  if (typeof globalThis.navigator === 'undefined') {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  // An own property shadows the getter of Node 21+'s navigator as well.
  Object.defineProperty(globalThis.navigator, 'hardwareConcurrency', { value: threads, configurable: true, writable: true });
}

// The CommonJS copy of a glue file (same content, .cjs), in a cache folder
// named after the package version, written once.
function cjsCopy(jsFile, version) {
  const dir = path.join(os.tmpdir(), `conv-transpose-wasm-bench-litert-${version}`);
  const out = path.join(dir, path.basename(jsFile).replace(/\.js$/, '.cjs'));
  const src = fs.readFileSync(jsFile);
  if (!fs.existsSync(out) || !fs.readFileSync(out).equals(src)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, src);
    fs.renameSync(tmp, out);
  }
  return out;
}

/**
 * Loads LiteRT.js with `threads` threads (its pool size and the default of
 * every compile). Returns { litert (the module namespace), version, build
 * (the glue file name that loaded), threaded, relaxedSimd, warnings }.
 * Call once per process (LiteRT.js keeps one global instance).
 */
export async function loadLiteRtNode({ threads = 2 } = {}) {
  const pkg = liteRtPackage();
  installBrowserGlobals(threads);
  const litert = await import(LITERT_PACKAGE);
  const relaxedSimd = WebAssembly.validate(RELAXED_SIMD_PROBE);
  let build = null;
  const hadImportScripts = Object.prototype.hasOwnProperty.call(globalThis, 'importScripts');
  if (hadImportScripts) throw new Error('loadLiteRtNode: importScripts is already defined in this process');
  globalThis.importScripts = (url) => {
    const file = url.startsWith('file:') ? new URL(url).pathname : url;
    build = path.basename(file);
    // The copy lives elsewhere: the .wasm is found in the package's folder.
    globalThis.Module = {
      locateFile: (name) => path.join(pkg.wasmDir, name),
      // LiteRT's runtime log (INFO lines at every compile) goes to `log`, so
      // that a benchmark's tables are not interleaved with it.
      print: (line) => pushLog(log, line),
      printErr: (line) => pushLog(log, line),
    };
    globalThis.ModuleFactory = require(cjsCopy(file, pkg.version));
  };
  // Environment.create() looks for WebGPU and warns when there is none:
  // expected here, so kept as a note rather than printed.
  const warnings = [];
  const log = [];
  const warn = console.warn;
  console.warn = (...a) => warnings.push(a.map(String).join(' '));
  try {
    await litert.loadLiteRt(pkg.wasmDir + path.sep, relaxedSimd ? { threads: true } : {});
  } finally {
    console.warn = warn;
    delete globalThis.importScripts;
  }
  return { litert, version: pkg.version, build, threaded: /threaded/.test(build ?? ''), relaxedSimd, warnings, log };
}

// The runtime log is kept to its last lines: every compile adds a few.
function pushLog(log, line) {
  log.push(String(line));
  if (log.length > 200) log.splice(0, log.length - 200);
}

// The smallest module with a relaxed SIMD instruction: a function that
// returns f32x4.relaxed_madd of three zero vectors. LiteRT.js decides the
// same way which build to load.
const RELAXED_SIMD_PROBE = (() => {
  const v128Zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 0x0b];
  const code = [0x01, body.length, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, code.length, ...code, // code section
  ]);
})();
