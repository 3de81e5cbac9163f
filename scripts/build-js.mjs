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

const names = ['init', 'backendInfo', 'convTranspose', 'conv_transpose', 'createConvTranspose', 'heapStats', 'ArgumentError'];
writeFileSync(
  join(root, 'dist', 'index.mjs'),
  `// ES module entry: re-exports the CommonJS build (dist/index.js).\n` +
    `import cjs from './index.js';\n` +
    `export const { ${names.join(', ')} } = cjs;\n` +
    `export default cjs;\n`
);
for (const f of ['ctw-simd-threads.wasm', 'ctw-simd.wasm']) {
  if (!existsSync(join(root, 'dist', 'wasm', f))) {
    console.warn(`build-js: dist/wasm/${f} is missing; run npm run build:wasm`);
  }
}
