// Runs tfjs-core's own compiled jasmine specs for conv2dTranspose and
// conv3dTranspose (shipped in its npm package, dist/ops/*_test.js),
// unchanged, on the cpu and wasm backends with registerTfjsKernels in
// place, and fails unless they all pass AND this library computed calls on
// each backend (a run where everything fell back to tfjs must fail).
//
//   node tests/tfjs-specs/run.mjs        prints one JSON line; exit 1 on failure
//   node tests/tfjs-specs/run.mjs --no-plugin   the same specs on tfjs's own kernels (a control)
//
// Facts this rests on:
//   - the specs import tfjs-core's ES modules by relative path, so they are
//     bundled (esbuild) with tfjs-core's ES build and the backends: one copy
//     of tfjs-core. tfjs-core's package.json "sideEffects" list leaves out
//     the spec files, so esbuild would drop their imports as side-effect
//     free: ignoreAnnotations keeps them;
//   - jasmine_util.js require()s jasmine-core (a devDependency) from its
//     ES module; the globals (describe, it, expect) are booted here first;
//   - tfjs-backend-wasm has no Conv2DBackpropFilter kernel, which the
//     gradient specs need: they are excluded on wasm, as tfjs's own wasm
//     test setup does.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

const WASM_EXCLUDES = ['gradient'];

async function main() {
  const esbuild = require('esbuild');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-specs-'));
  const bundle = path.join(outDir, 'specs.cjs');
  await esbuild.build({
    entryPoints: [path.join(HERE, 'entry.mjs')],
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    mainFields: ['module', 'main'],
    ignoreAnnotations: true,
    logLevel: 'error',
  });

  const jasmine = require('jasmine-core').boot(); // describe, it, expect as globals
  const env = jasmine.getEnv();
  const { tf, setWasmPaths } = require(bundle);
  fs.rmSync(outDir, { recursive: true, force: true });
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);

  const plugin = !process.argv.includes('--no-plugin');
  const lib = require(ROOT);
  await lib.init();
  const none = { stats: () => ({ computed: {}, fallbacks: {}, reasons: {} }), unregister() {} };
  const reg = plugin ? lib.registerTfjsKernels(tf) : none;

  env.configure({
    random: false,
    specFilter: (spec) => !(spec.getFullName().includes(' wasm ') && WASM_EXCLUDES.some((x) => spec.getFullName().includes(x))),
  });
  const specs = { passed: 0, failed: 0, excluded: 0 };
  const failures = [];
  env.addReporter({
    specDone(r) {
      if (r.status === 'passed') specs.passed++;
      else if (r.status === 'failed') {
        specs.failed++;
        failures.push(`${r.fullName}: ${r.failedExpectations.map((e) => e.message).join('; ')}`);
      } else specs.excluded++;
    },
    suiteDone(r) {
      if (r.status === 'failed') failures.push(`${r.fullName}: ${r.failedExpectations.map((e) => e.message).join('; ')}`);
    },
  });
  await env.execute();
  const stats = reg.stats();
  reg.unregister();
  const problems = [...failures];
  if (specs.passed === 0) problems.push('no spec passed');
  for (const backend of plugin ? ['cpu', 'wasm'] : []) {
    if (!(stats.computed[backend] > 0)) problems.push(`the library computed no call on ${backend}`);
  }
  console.log(JSON.stringify({ specs, computed: stats.computed, fallbacks: stats.fallbacks, reasons: stats.reasons, problems }));
  return problems.length === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  }
);
