// Loads one of the package's wasm builds and says which one it chose.
//
// Three builds of the same C++ core ship in dist/wasm: relaxed SIMD (its
// multiply-add, fused where the CPU has FMA) + pthreads, for engines that
// validate relaxed SIMD; SIMD128 + pthreads; and SIMD128 on one thread for
// engines without SharedArrayBuffer (pages that are not cross-origin
// isolated). Node, Bun and Deno always get a threaded build.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { ArgumentError, describe } from './args.js';

export type Backend = 'wasm-relaxed-simd-threads' | 'wasm-simd-threads' | 'wasm-simd';

export interface InitOptions {
  /**
   * Threads for the computation, the calling thread included. Default: all
   * cores (at most 8). Bounded by the machine's cores (each thread is a
   * worker with its own memory, and more threads than cores only slow a
   * computation down): InitResult.threads says how many run.
   */
  numThreads?: number;
  /**
   * Force a build. By default: 'wasm-relaxed-simd-threads' where the engine
   * validates relaxed SIMD and SharedArrayBuffer works, else
   * 'wasm-simd-threads' where SharedArrayBuffer works, else 'wasm-simd'.
   */
  backend?: Backend;
  /**
   * The relaxed-SIMD build only (ignored by the others): true or false forces
   * the igemm kernel's fused or separate multiply-add, for benchmarks and
   * tests; by default it is measured at load (InitResult.fusedMultiplyAdd).
   */
  fusedMultiplyAdd?: boolean;
  /**
   * Where the .wasm/.js files are: a URL or directory prefix ending in '/', or a
   * map from file name to URL (like tfjs's setWasmPaths). Default: next to this file.
   */
  wasmPaths?: string | Record<string, string>;
}

export interface InitResult {
  backend: Backend;
  /** Threads that run a call: numThreads, or the default, bounded by the machine's cores. */
  threads: number;
  simd: boolean;
  /** Most threads this loaded module can run (its worker pool plus the caller). */
  maxThreads: number;
  /**
   * Why the single-thread build runs although the threaded one was possible
   * (its pool worker script was not found); absent otherwise.
   */
  fallback?: string;
  /**
   * The relaxed-SIMD build only: whether its igemm kernel runs fused
   * multiply-adds here (measured at load: faster on CPUs whose FMA doubles
   * the multiply-add rate) or a multiply and an add (where the fused form
   * only adds latency). Absent for the other builds.
   */
  fusedMultiplyAdd?: boolean;
}

export interface CoreModule {
  PlannedCall: new (name: string, padding: string, dataFormat: string, numbers: Float64Array) => PlannedCall;
  PreparedOp: new (name: string, padding: string, dataFormat: string, numbers: Float64Array, kernel: string, activation: string) => PreparedOp;
  setNumThreads(n: number): void;
  numThreads(): number;
  /** The relaxed build's igemm multiply-add form (measured once); setIgemmFusedMadd(1 | 0 | -1) forces it, for tests. */
  igemmFusedMadd(): boolean;
  setIgemmFusedMadd(mode: number): void;
  heapStats(): HeapStats;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  wasmMemory?: { buffer: ArrayBufferLike };  // WebAssembly.Memory, typed without the DOM lib
  HEAPU8: Uint8Array;
  PThread?: { unusedWorkers: any[]; runningWorkers: any[] };
}

export interface HeapStats {
  /** Current size of the wasm memory. */
  heapBytes: number;
  /** Bytes allocated by the core's allocator and not yet freed. */
  usedBytes: number;
  /** The most the wasm memory may grow to. */
  maxHeapBytes: number;
}

/** The core's Status of an object's last step: code() 0 is ok (src/semantics/status.h). */
export interface CoreStatus {
  code(): number;
  message(): string;
}

/** One planned call of the one-call form (bindings/: PlannedCall). */
export interface PlannedCall extends CoreStatus {
  inputElements(): number;
  filterElements(): number;
  outputElements(): number;
  // side: run on the calling thread while the pool's workers start (see execute in index.ts); must not throw.
  run(input: number, filters: number, output: number, side: (() => void) | undefined): number;
  delete(): void;
}

/** A prepared operator (bindings/: PreparedOp): create, pack, reshape, run. */
export interface PreparedOp extends CoreStatus {
  filterElements(): number;
  kernel(): string;
  pack(filters: number, bias: number): number;
  /** Where reshape() reads a run's shapes: [input_shape] [output_shape] [dtype], ranks up to 5 (13 doubles in wasm memory). */
  shapeNumbers(): number;
  reshape(): number;
  /** The same numbers as an array, for shapes of any rank. */
  reshapeFrom(numbers: Float64Array): number;
  inputElements(): number;
  outputElements(): number;
  run(input: number, output: number, side: (() => void) | undefined): number;
  /** Bytes of wasm memory it holds between runs (packed filters and scratch). */
  bytesHeld(): number;
  delete(): void;
}

const FILES: Record<Backend, string> = {
  'wasm-relaxed-simd-threads': 'ctw-relaxed-simd-threads',
  'wasm-simd-threads': 'ctw-simd-threads',
  'wasm-simd': 'ctw-simd',
};

declare const __dirname: string;
declare const require: (id: string) => any;

// True in Node, and in Bun and Deno, which present Node's process object and
// its modules (worker_threads, fs): they take the same path.
export const isNode =
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

/** Deno (also when it runs this file as part of an npm package). */
export const isDeno =
  typeof (globalThis as any).Deno !== 'undefined' || (isNode && (process.versions as any).deno != null);

function isThreaded(backend: Backend): boolean {
  return backend !== 'wasm-simd';
}

// A module of one function, (v128, v128, v128) -> v128, that runs
// f32x4.relaxed_madd (opcode 0xFD 0x85 0x02, the proposal's final number):
// engines without relaxed SIMD, or with it behind a flag (Node 20 without
// --experimental-wasm-relaxed-simd), reject it.
const RELAXED_MADD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, f32x4.relaxed_madd, end
]);

function relaxedSimdReason(): string | null {
  if (typeof WebAssembly === 'undefined' || typeof WebAssembly.validate !== 'function') return 'this engine has no WebAssembly.validate';
  try {
    if (WebAssembly.validate(RELAXED_MADD_MODULE)) return null;
  } catch {
    // an engine that throws instead of answering has no relaxed SIMD either
  }
  return 'this engine does not validate relaxed SIMD (f32x4.relaxed_madd)' +
    (isNode && !isDeno && (process.versions as any).bun == null ? '; Node before 22 needs --experimental-wasm-relaxed-simd' : '');
}

function canUseThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return true;
  return (globalThis as any).crossOriginIsolated === true;
}

// The machine's cores as the engine reports them (4 when it does not).
function cores(): number {
  let n = 4;
  if (isNode) {
    const os = require('os');
    n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  } else if (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) {
    n = navigator.hardwareConcurrency;
  }
  return Math.max(1, n);
}

function defaultThreads(): number {
  return Math.min(8, cores());
}

/**
 * numThreads checked (an integer >= 1) and bounded by the machine's cores:
 * each thread is a worker that costs memory and start-up time, and more
 * threads than cores only slow a computation down.
 */
export function boundThreads(numThreads: unknown): number {
  if (typeof numThreads !== 'number' || !Number.isInteger(numThreads) || numThreads < 1) {
    throw new Error(`conv-transpose-wasm: numThreads must be an integer >= 1. Received: numThreads=${describe(numThreads)}`);
  }
  return Math.min(numThreads, cores());
}

// Where this script was loaded from, read while it is evaluated (a page's
// <script src>, or a Worker's own URL): the default home of the wasm files
// is the wasm/ folder next to it.
const SCRIPT_DIR: string = (() => {
  const g = globalThis as any;
  if (typeof document !== 'undefined' && document.currentScript && (document.currentScript as HTMLScriptElement).src) {
    return (document.currentScript as HTMLScriptElement).src.replace(/[^/]*$/, '');
  }
  if (typeof g.WorkerGlobalScope !== 'undefined' && g.location && g.location.href) {
    return String(g.location.href).replace(/[^/]*$/, '');
  }
  return '';
})();

/** The directory URL this script came from in a browser ('' when unknown or in Node). */
export function scriptDir(): string {
  return SCRIPT_DIR;
}

function locate(file: string, wasmPaths: InitOptions['wasmPaths'], fallbackDir: string): string {
  if (typeof wasmPaths === 'string') return wasmPaths + file;
  if (wasmPaths && wasmPaths[file]) return wasmPaths[file];
  return fallbackDir + file;
}

// In Node, Emscripten's pool workers would keep the process alive after the
// user's script ends; the pool is ours to manage, so let the process exit.
export function unrefWorkers(mod: CoreModule): void {
  if (!isNode || !mod.PThread) return;
  for (const w of [...mod.PThread.unusedWorkers, ...mod.PThread.runningWorkers]) {
    if (w && typeof w.unref === 'function') w.unref();
  }
}

/** Forces the relaxed build's multiply-add form when `force` is a boolean; returns the form in use. */
export function applyFusedMultiplyAdd(mod: CoreModule, force: unknown): boolean {
  if (force !== undefined && typeof force !== 'boolean') {
    throw new ArgumentError(`conv-transpose-wasm: init({ fusedMultiplyAdd }) must be true or false. Received: fusedMultiplyAdd=${describe(force)}`);
  }
  if (force !== undefined) mod.setIgemmFusedMadd(force ? 1 : 0);
  return mod.igemmFusedMadd();
}

export async function loadModule(options: InitOptions): Promise<{ mod: CoreModule; result: InitResult }> {
  const threadsOk = canUseThreads();
  const relaxedProblem = relaxedSimdReason();
  let backend: Backend =
    options.backend ?? (threadsOk ? (relaxedProblem ? 'wasm-simd-threads' : 'wasm-relaxed-simd-threads') : 'wasm-simd');
  if (!(backend in FILES)) {
    throw new Error(`conv-transpose-wasm: unknown backend ${describe(backend)}; use ${Object.keys(FILES).map((b) => `'${b}'`).join(', ')}`);
  }
  if (isThreaded(backend) && !threadsOk) {
    throw new Error(
      `conv-transpose-wasm: init({ backend: '${backend}' }) needs SharedArrayBuffer ` +
        '(a cross-origin isolated page: COOP same-origin + COEP require-corp)'
    );
  }
  if (backend === 'wasm-relaxed-simd-threads' && relaxedProblem) {
    throw new Error(`conv-transpose-wasm: init({ backend: '${backend}' }) cannot run here: ${relaxedProblem}`);
  }
  const requested = options.numThreads === undefined ? defaultThreads() : boundThreads(options.numThreads);
  const where = options.wasmPaths === undefined ? 'next to the library\'s script' : 'where init({ wasmPaths }) says';
  let fallback: string | undefined;
  if (isThreaded(backend)) {
    // Emscripten 3.1.6 only logs a pool worker that fails to load and never
    // settles (in Node it even throws from the worker's error event): check
    // the worker script first. Missing, it fails at once when the threaded
    // build was asked for, else the single-thread build runs and says why.
    const missing = await missingFile(FILES[backend] + '.worker.js', options.wasmPaths);
    // The whole folder missing is no reason to fall back: say which file is not there.
    const missingBuild = missing ? await missingFile(FILES[backend] + '.js', options.wasmPaths) : null;
    if (missingBuild) throw new Error(`conv-transpose-wasm: ${missingBuild} is missing (the ${backend} build). ${FIX}`);
    if (missing) {
      const problem = `conv-transpose-wasm: the threaded build's pool worker ${missing} could not be loaded. ` +
        `Fix: serve every file of the package's dist/wasm/ folder ${where} (bundlers: copy dist/wasm/ to your public folder and pass init({ wasmPaths: '/wasm/' }))`;
      if (options.backend === backend) throw new Error(problem);
      fallback = `${problem}; running the single-thread build instead`;
      if (typeof console !== 'undefined') console.warn(fallback);
      backend = 'wasm-simd';
    }
  }
  const threads = isThreaded(backend) ? requested : 1;
  const base = FILES[backend];
  // Emscripten 3.1.6 never finishes loading with a pool of 0 workers, so the
  // one-thread case keeps one idle worker.
  const moduleOptions: Record<string, unknown> = { ctwPoolSize: Math.max(1, threads - 1) };
  let factory: (opts: Record<string, unknown>) => Promise<CoreModule>;
  if (isNode) {
    const path = require('path');
    const fs = require('fs');
    const dir = path.join(__dirname, 'wasm') + path.sep;
    const jsPath = locate(base + '.js', options.wasmPaths, dir);
    const wasmPath = locate(base + '.wasm', options.wasmPaths, dir);
    for (const file of [jsPath, wasmPath]) {
      if (!fs.existsSync(file)) throw new Error(`conv-transpose-wasm: ${file} is missing (the ${backend} build). ${FIX}`);
    }
    factory = require(jsPath);
    // Node 18+ has a global fetch that Emscripten 3.1.6 would use with a file
    // path and fail: hand it the bytes instead.
    moduleOptions.wasmBinary = fs.readFileSync(wasmPath);
    moduleOptions.locateFile = (f: string) =>
      // Deno cannot run Emscripten's pool worker as it is: start it through
      // the shim that scripts/build-js.mjs writes (it explains why).
      isDeno && f.endsWith('.worker.js') ? path.join(__dirname, `deno-${base}.worker.cjs`) : locate(f, options.wasmPaths, dir);
  } else {
    const scriptBase = SCRIPT_DIR + 'wasm/';
    // Absolute URLs: Emscripten's pool workers resolve these against their own
    // script's URL, not the page's, so a relative path would point elsewhere.
    const jsUrl = absoluteUrl(locate(base + '.js', options.wasmPaths, scriptBase));
    factory = await loadBrowserFactory(jsUrl, base);
    moduleOptions.locateFile = (f: string) => absoluteUrl(locate(f, options.wasmPaths, scriptBase));
    moduleOptions.mainScriptUrlOrBlob = jsUrl;
  }
  // Emscripten 3.1.6 only logs a pool worker that fails to load (a 404, a
  // blocked script) and never settles; turn that into an error.
  const mod = await withTimeout(
    factory(moduleOptions).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(`conv-transpose-wasm: loading the ${backend} build failed: ${message}. ${FIX}`);
    }),
    isNode ? 0 : LOAD_TIMEOUT_MS,
    `conv-transpose-wasm: loading the ${backend} build did not finish in ${LOAD_TIMEOUT_MS / 1000} s; ` +
      `check that ${base}.js, ${base}.wasm${isThreaded(backend) ? ` and ${base}.worker.js` : ''} are served ` +
      `${where}. ${FIX}`
  );
  mod.setNumThreads(threads);
  unrefWorkers(mod);
  const maxThreads = isThreaded(backend) ? Math.max(1, threads - 1) + 1 : 1;
  const result: InitResult = { backend, threads: mod.numThreads(), simd: true, maxThreads };
  if (fallback) result.fallback = fallback;
  if (backend === 'wasm-relaxed-simd-threads') result.fusedMultiplyAdd = applyFusedMultiplyAdd(mod, options.fusedMultiplyAdd);
  return { mod, result };
}

// What to do when a file of the build is not where init() looks.
const FIX = "Fix: keep the package's dist/wasm/ folder next to the library's script (the default), " +
  "or copy it where it can be fetched and pass init({ wasmPaths: '<its URL or directory>/' })";

// The URL (or path) of a build file that cannot be had, or null when it can.
async function missingFile(file: string, wasmPaths: InitOptions['wasmPaths']): Promise<string | null> {
  if (isNode) {
    const path = require('path');
    const location = locate(file, wasmPaths, path.join(__dirname, 'wasm') + path.sep);
    return require('fs').existsSync(location) ? null : location;
  }
  if (typeof fetch !== 'function') return null;
  const url = absoluteUrl(locate(file, wasmPaths, SCRIPT_DIR + 'wasm/'));
  try {
    // The browser caches the answer for the Worker that loads it next.
    const response = await fetch(url);
    return response.ok ? null : `${url} (HTTP ${response.status})`;
  } catch {
    return `${url} (a network error)`;
  }
}

const LOAD_TIMEOUT_MS = 60000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  if (!ms) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      }
    );
  });
}

/** A URL made absolute against the page (or worker) location; unchanged where there is none. */
export function absoluteUrl(url: string): string {
  const g = globalThis as any;
  const base = typeof document !== 'undefined' ? document.baseURI : g.location ? String(g.location.href) : '';
  return base ? new URL(url, base).href : url;
}

const EXPORT_NAMES: Record<string, string> = {
  'ctw-relaxed-simd-threads': 'createCtwRelaxedSimdThreads',
  'ctw-simd-threads': 'createCtwSimdThreads',
  'ctw-simd': 'createCtwSimd',
};

// Browsers: the Emscripten glue is a classic script that defines a global factory.
async function loadBrowserFactory(url: string, base: string): Promise<any> {
  const g = globalThis as any;
  const name = EXPORT_NAMES[base];
  if (typeof g[name] === 'function') return g[name];
  if (typeof (g as any).importScripts === 'function') {
    g.importScripts(url);
  } else {
    await new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = url;
      s.onload = () => resolve();
      s.onerror = () => reject(new Error(`conv-transpose-wasm: could not load ${url}. ${FIX}`));
      document.head.appendChild(s);
    });
  }
  if (typeof g[name] !== 'function') throw new Error(`conv-transpose-wasm: ${url} did not define ${name}: it is not this package's build file. ${FIX}`);
  return g[name];
}
