// Builds the JS side of dist/: the TypeScript API compiled to CommonJS with
// .d.ts types (tsc), and an ES module entry that re-exports it, so that both
// require('conv-transpose-wasm') and import work from one implementation.
//
// Deno loads a .js file outside an npm package as an ES module whatever it
// holds (CommonJS only in .cjs files, or with --unstable-detect-cjs), so
// every file that an ES module or a worker loads first is a .cjs file or
// valid in both module systems (see docs/engines.md):
//   index.mjs -> index.cjs (one line: require('./index.js'), the same
//     instance that require('conv-transpose-wasm') gives);
//   worker-entry.js (the convTransposeAsync worker in Node, Bun, Deno) is
//     a one-line import() of worker-entry.cjs, tsc's output;
//   deno-<build>.worker.cjs starts a threaded build's Emscripten pool worker
//   in Deno (loader.ts).
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'js', 'tsconfig.json')], { stdio: 'inherit' });

const names = ['init', 'backendInfo', 'convTranspose', 'conv_transpose', 'createConvTranspose', 'createWasmTensor', 'heapStats', 'ArgumentError',
  'convTransposeAsync', 'initWorker', 'terminateWorker', 'registerTfjsKernels', 'FALLBACK_REASONS',
  'convTranspose2d', 'onnxConvTranspose', 'onnxConvTransposeOptions'];
writeFileSync(
  join(root, 'dist', 'index.mjs'),
  `// ES module entry: re-exports the CommonJS build (dist/index.js, through\n` +
    `// index.cjs, which every runtime loads as CommonJS).\n` +
    `import cjs from './index.cjs';\n` +
    `export const { ${names.join(', ')} } = cjs;\n` +
    `export default cjs;\n`
);
writeFileSync(
  join(root, 'dist', 'index.cjs'),
  `// The CommonJS build for index.mjs: the same module as require('conv-transpose-wasm').\n` +
    `module.exports = require('./index.js');\n`
);
// The worker of convTransposeAsync: Node and Bun load worker-entry.js as
// CommonJS, Deno as an ES module outside an npm package. This file is valid
// in both and loads the CommonJS worker synchronously either way: Deno's
// worker_threads drop messages that arrive before the worker listens (Node
// queues them), so an asynchronous import() here would lose the first
// request now and then. As an ES module it finds its own URL in location
// (a worker's location is its script). import() only where neither works.
renameSync(join(root, 'dist', 'worker-entry.js'), join(root, 'dist', 'worker-entry.cjs'));
writeFileSync(
  join(root, 'dist', 'worker-entry.js'),
  `// Worker of convTransposeAsync (Node, Bun, Deno): loads worker-entry.cjs.\n` +
    `if (typeof module === 'object' && typeof __filename === 'string') require('./worker-entry.cjs');\n` +
    `else if (typeof process === 'object' && process.getBuiltinModule && typeof location === 'object')\n` +
    `  process.getBuiltinModule('node:module').createRequire(String(location.href))('./worker-entry.cjs');\n` +
    `else import('./worker-entry.cjs');\n`
);
// Emscripten 3.1.6's pool worker (wasm/<build>.worker.js), when it
// sees Node's process object, assigns Node shims onto the worker's global
// with Object.assign, including location. Deno's worker global inherits
// location as a getter without a setter, so the assignment throws
// ("Cannot set property location ... which has only a getter"); Deno would
// also load that .js file as an ES module. In Deno, loader.ts starts pool
// workers from these files instead: it gives each such property an own,
// writable value first, then runs Emscripten's worker as CommonJS.
for (const build of ['ctw-relaxed-simd-threads', 'ctw-simd-threads']) {
  writeFileSync(
    join(root, 'dist', `deno-${build}.worker.cjs`),
    `'use strict';\n` +
      `// Deno only: starts Emscripten's pool worker (see scripts/build-js.mjs).\n` +
      `for (const name of ['self', 'location', 'performance', 'postMessage', 'Worker', 'importScripts', 'require', 'Module']) {\n` +
      `  let o = globalThis;\n` +
      `  while (o && !Object.prototype.hasOwnProperty.call(o, name)) o = Object.getPrototypeOf(o);\n` +
      `  const d = o && Object.getOwnPropertyDescriptor(o, name);\n` +
      `  if (d && d.get && !d.set) {\n` +
      `    Object.defineProperty(globalThis, name, { value: globalThis[name], writable: true, configurable: true, enumerable: true });\n` +
      `  }\n` +
      `}\n` +
      `require('./wasm/${build}.worker.js');\n`
  );
}
// Browser bundles. Node's modules are replaced by an empty module there
// (the Node-only branches that require them never run in a browser), so no
// browser bundle names one and bundlers have nothing to externalize:
// - conv-transpose-wasm.js: the API as one classic script (no bundler
//   needed) that defines the global `convTransposeWasm`;
// - conv-transpose-wasm.worker.js: the worker of the async mode;
// - index.browser.mjs: the ES module that bundlers (Vite, webpack, esbuild)
//   take through package.json's "browser" export condition.
const esbuild = require('esbuild');
const nodeOnlyModules = {
  name: 'node-only-modules',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(os|path|fs|worker_threads)$/ }, (a) => ({ path: a.path, namespace: 'node-only' }));
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};
const browserBuild = { bundle: true, platform: 'browser', target: 'es2020', plugins: [nodeOnlyModules], logLevel: 'warning' };
for (const [entry, out] of [['index.js', 'conv-transpose-wasm.js'], ['worker-entry.cjs', 'conv-transpose-wasm.worker.js']]) {
  await esbuild.build({
    ...browserBuild,
    entryPoints: [join(root, 'dist', entry)],
    outfile: join(root, 'dist', out),
    format: 'iife',
    globalName: entry === 'index.js' ? 'convTransposeWasm' : undefined,
  });
}
await esbuild.build({
  ...browserBuild,
  stdin: {
    contents: `import cjs from './index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
    resolveDir: join(root, 'dist'),
    sourcefile: 'browser-entry.mjs',
  },
  outfile: join(root, 'dist', 'index.browser.mjs'),
  format: 'esm',
});

for (const f of ['ctw-relaxed-simd-threads.wasm', 'ctw-simd-threads.wasm', 'ctw-simd.wasm']) {
  if (!existsSync(join(root, 'dist', 'wasm', f))) {
    console.warn(`build-js: dist/wasm/${f} is missing; run npm run build:wasm`);
  }
}
