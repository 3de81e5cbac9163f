// Builds the JS side of dist/: the TypeScript API compiled to CommonJS with
// .d.ts types (tsc), and an ES module entry that re-exports it, so that both
// require('conv-transpose-wasm') and import work from one implementation.
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'js', 'tsconfig.json')], { stdio: 'inherit' });

const names = ['init', 'backendInfo', 'convTranspose', 'conv_transpose', 'createConvTranspose', 'heapStats', 'ArgumentError',
  'convTransposeAsync', 'initWorker', 'terminateWorker'];
writeFileSync(
  join(root, 'dist', 'index.mjs'),
  `// ES module entry: re-exports the CommonJS build (dist/index.js).\n` +
    `import cjs from './index.js';\n` +
    `export const { ${names.join(', ')} } = cjs;\n` +
    `export default cjs;\n`
);
// Browser bundles (no bundler needed): the API as one classic script that
// defines the global `convTransposeWasm`, and the worker of the async mode.
// Node-only branches keep their require() calls, which never run there.
const esbuild = require('esbuild');
const nodeOnly = ['os', 'path', 'fs', 'worker_threads'];
for (const [entry, out] of [['index.js', 'conv-transpose-wasm.js'], ['worker-entry.js', 'conv-transpose-wasm.worker.js']]) {
  esbuild.buildSync({
    entryPoints: [join(root, 'dist', entry)],
    outfile: join(root, 'dist', out),
    bundle: true,
    format: 'iife',
    globalName: entry === 'index.js' ? 'convTransposeWasm' : undefined,
    platform: 'browser',
    target: 'es2020',
    external: nodeOnly,
    logLevel: 'warning',
  });
}

for (const f of ['ctw-simd-threads.wasm', 'ctw-simd.wasm']) {
  if (!existsSync(join(root, 'dist', 'wasm', f))) {
    console.warn(`build-js: dist/wasm/${f} is missing; run npm run build:wasm`);
  }
}
