// Checks that the core's includes run one way (docs/design.md, "Layers"):
// each folder of src/ may include only the folders listed for it here.
// Run by `npm run test:cpp`; exits 1 naming every include that breaks the
// order.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(fileURLToPath(new URL('..', import.meta.url)), 'src');
const ALLOWED = {
  semantics: [],
  simd: ['semantics'],
  runtime: ['semantics', 'simd'],
  microkernels: ['semantics', 'simd'],
  kernels: ['semantics', 'simd', 'runtime', 'microkernels'],
  operator: ['semantics', 'simd', 'runtime', 'microkernels', 'kernels'],
};

const errors = [];
for (const folder of readdirSync(SRC)) {
  if (!(folder in ALLOWED)) {
    errors.push(`src/${folder}/ is not a known layer: add it to scripts/check-layers.mjs and docs/design.md`);
    continue;
  }
  for (const file of readdirSync(join(SRC, folder))) {
    const text = readFileSync(join(SRC, folder, file), 'utf8');
    for (const [, target] of text.matchAll(/^#include "([^"/]+)\//gm)) {
      if (target !== folder && !ALLOWED[folder].includes(target)) {
        errors.push(`src/${folder}/${file} includes ${target}/, which ${folder}/ must not depend on`);
      }
    }
  }
}
if (errors.length) {
  console.error(`check-layers: ${errors.length} include(s) against the layer order:\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log('check-layers: includes run one way (semantics <- simd, runtime <- microkernels <- kernels <- operator)');
